"""The deployer's Key Vault grant names the deployer from config, not whoever runs the program.

Finding: the grant's principalId came from the caller's client config, so a PR preview or the nightly drift check
(which run as the read-only identity) saw the deployer's Crypto Officer assignment change to themselves: prod's
drift check reported drift every night and every prod preview showed a replacement.
"""

from __future__ import annotations

import pytest

from infra.config import ConfigError, validate
from tests.support import DELETE, plan_of, siblings, with_changes

PROD_DEPLOYER_OBJECT_ID = "2c4e6a8b-0d1f-4e3a-9b5c-7d9e1f3a5b7c"
RA = "azure-native:authorization:RoleAssignment"


def test_the_crypto_officer_grant_names_the_configured_deployer() -> None:
    grant = plan_of("prod").one(RA, "key-vault-deployer-crypto-officer")
    assert grant.inputs["principalId"] == PROD_DEPLOYER_OBJECT_ID


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_stacks_without_keys_need_no_object_id(stack: str) -> None:
    assert validate(stack, with_changes(stack, [("identity.deployer.objectId", DELETE)]), siblings(stack))


def test_a_stack_with_customer_managed_keys_requires_it() -> None:
    with pytest.raises(ConfigError) as exc:
        validate("prod", with_changes("prod", [("identity.deployer.objectId", DELETE)]), siblings("prod"))
    assert exc.value.problems == [
        "prod: identity.deployer.objectId: null is required with encryption.customerManagedKeys: the deployer's "
        "Key Vault grant names it (the preview and drift identities are others); az ad sp show --id "
        "<applicationId> --query id -o tsv"]
