"""The shipped sample values: planned offline, refused by the real engine (every one at once, with the rest)."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, _split_namespaces, read_stack_file, stack_file, validate_for_engine
from infra.config.samples import SHIPPED_SAMPLE_IDS, sample_value_problems, why_sample

OWN_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


@pytest.mark.parametrize(("value", "why"), [
    ("203.0.113.0/24", "is in the documentation range 203.0.113.0/24, not a real network"),
    ("203.0.113.10/32", "is in the documentation range 203.0.113.0/24, not a real network"),
    ("198.51.100.7", "is in the documentation range 198.51.100.0/24, not a real network"),
    ("192.0.2.0/25", "is in the documentation range 192.0.2.0/24, not a real network"),
    ("2001:db8::/48", "is in the documentation range 2001:db8::/32, not a real network"),
    ("ops@example.com", "is at a domain reserved for examples"),
    ("ops@mail.Example.ORG", "is at a domain reserved for examples"),
    ("ops@corp.example", "is at a domain reserved for examples"),
    ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x", "contains the all-zero id"),
    ("0B7D6C3E-1F2A-4C5D-9E8F-7A6B5C4D3E2F", "is a sample id shipped with the project"),
])
def test_a_placeholder_is_named_with_why(value: str, why: str) -> None:
    assert why_sample(value) == why


@pytest.mark.parametrize("value", [
    "203.0.114.0/24",      # just past 203.0.113.0/24
    "198.51.99.255/32",    # just before 198.51.100.0/24
    "192.0.0.0/16",        # contains 192.0.2.0/24 but is not inside it
    "2001:db9::/32",
    "ops@example.co", "ops@myexample.com", "ops@example.com.evil.io",
    OWN_ID, "10.0.0.0/16", "not an address", "",
])
def test_values_of_your_own_pass(value: str) -> None:
    assert why_sample(value) is None


def _ours(stack: str) -> dict:
    return _split_namespaces(stack, read_stack_file(stack))[0]


# The README's "values that are yours" table, as the checked-in files carry them per stack.
SAMPLE_KEYS = {
    "dev": {"databricks.accountId", "identity.cicdServicePrincipal.applicationId", "identity.deployer.applicationId",
            "encryption.databricksServiceObjectId", "unityCatalog.metastore.id", "workspaceSecurity.ipAccessList[0]",
            "deploy.runner.egressCidrs[0]", "cost.budget.contactEmails[0]", "naming.prefix"},
    "test": {"databricks.accountId", "identity.deployer.applicationId", "workspaceSecurity.ipAccessList[1]",
             "deploy.runner.egressCidrs[0]", "naming.prefix"},
    "prod": {"databricks.accountId", "identity.deployer.applicationId", "deploy.runner.hubVnetId",
             "cost.budget.contactEmails[1]", "naming.prefix"},
}


@pytest.mark.parametrize("stack", sorted(SAMPLE_KEYS))
def test_the_checked_in_stack_files_name_each_sample_by_its_key(stack: str) -> None:
    keys = {p.split(": ")[1] for p in sample_value_problems(stack, _ours(stack))}
    assert SAMPLE_KEYS[stack] <= keys


def test_every_shipped_sample_id_is_in_a_stack_file() -> None:
    """A sample id that no stack file carries any more is a stale entry."""
    text = "".join(stack_file(s).read_text() for s in ("dev", "test", "prod"))
    assert {i for i in SHIPPED_SAMPLE_IDS if i not in text} == set()


def test_problem_lines_are_short_and_cut_long_values() -> None:
    problems = sample_value_problems("prod", _ours("prod"))
    assert max(map(len, problems)) < 200
    assert any("'/subscriptions/00000000-0000-0000-0000-000000000000/resou...' contains the all-zero id" in p
               for p in problems)


@pytest.mark.parametrize(("naming", "flagged"), [
    ({}, True),
    ({"prefix": "mlops"}, True),
    ({"prefix": "contoso"}, False),
    ({"storageAccount": "a", "dbfsStorageAccount": "b", "keyVault": "c"}, False),  # every global name given
    ({"storageAccount": "a", "dbfsStorageAccount": "b"}, True),                   # the vault still defaults
])
def test_the_default_prefix_is_refused_while_a_global_name_defaults_from_it(naming: dict, flagged: bool) -> None:
    problems = sample_value_problems("dev", {"naming": naming})
    assert bool(problems) is flagged
    if flagged:
        assert problems[0].startswith("dev: naming.prefix: the default 'mlops' gives every adopter the same ")


def test_the_offline_engine_plans_the_samples() -> None:
    assert validate_for_engine("dev", read_stack_file("dev"), None, None, real_engine=False).stack == "dev"


def test_the_real_engine_refuses_them_with_the_other_problems_at_once() -> None:
    raw = {**read_stack_file("dev"), "mlops-platform:environment": "prod"}
    with pytest.raises(ConfigError) as exc:
        validate_for_engine("dev", raw, None, None, real_engine=True)
    text = "\n".join(exc.value.problems)
    assert "environment" in exc.value.problems[0]
    assert "dev: databricks.accountId: '0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f' is a sample id" in text


def test_the_real_engine_refuses_samples_in_a_valid_config() -> None:
    with pytest.raises(ConfigError) as exc:
        validate_for_engine("prod", read_stack_file("prod"), None, None, real_engine=True)
    assert len(exc.value.problems) == len(sample_value_problems("prod", _ours("prod")))
