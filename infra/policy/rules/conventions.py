"""Platform conventions: tags, names, explicit Databricks providers, prod protection, no preview APIs."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infra.naming import check_name
from infra.policy.rules import types as T
from infra.policy.rules.base import Finding, ResourceView, is_unknown, resource_rule, unknown
from infra.tags import REQUIRED_TAG_KEYS

Result = Iterator[Finding | str]


@functools.cache  # pragma: no mutate (a cache: without it only slower)
def _sdk_root() -> Path | None:
    """Where the installed azure-native SDK lives (found without importing it)."""
    spec = importlib.util.find_spec("pulumi_azure_native")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@functools.cache  # pragma: no mutate (a cache: without it only slower)
def taggable(typ: str) -> bool:
    """Whether the azure-native SDK class of `typ` accepts `tags` (read from the installed SDK, no hand list).

    Reads the generated source of the type's Args class instead of importing the module: importing
    azure-native modules costs a second per check run; reading a file costs a millisecond.
    """
    try:
        _, module, cls = typ.split(":")
    except ValueError:
        return False
    root = _sdk_root()
    if root is None:
        return False
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls).lower()
    source = root / module.replace("/", os.sep) / f"{snake}.py"
    if not source.is_file():
        return False
    init = re.search(rf"class {cls}(?:Init)?Args:\s+def __init__\(__self__, \*,(.*?)\):", source.read_text(), re.S)
    return bool(init and re.search(r"^\s+tags:", init.group(1), re.M))


def _is_azure(typ: str) -> bool:
    return typ.startswith("azure-native:")


@resource_rule("required-tags", "medium", "Taggable Azure resources carry the required tags "
               "(environment, project, owner, costCenter).", applies=lambda t: _is_azure(t) and taggable(t),
               source="Platform convention (infra/tags.py)",
               config_schema={"requiredTags": {"type": "array", "items": {"type": "string"}}},
               defaults={"requiredTags": list(REQUIRED_TAG_KEYS)})
def required_tags(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    tags = res.get("tags")
    if is_unknown(tags):
        yield unknown("tags")
        return
    tags = tags if isinstance(tags, Mapping) else {}
    missing = [k for k in settings["requiredTags"] if not tags.get(k) and not is_unknown(tags.get(k))]
    if missing:
        yield f"tags {', '.join(missing)} missing; required: {', '.join(settings['requiredTags'])}"
    env = tags.get("environment")
    if isinstance(env, str) and res.stack and env != res.stack and not is_unknown(env):
        yield f"tags.environment is {env!r} in stack {res.stack!r}"


# type -> (name input, naming.LIMITS kind, must carry the environment)
NAMED: dict[str, tuple[str, str, bool]] = {
    T.RESOURCE_GROUP: ("resourceGroupName", "resourceGroup", True),
    T.WORKSPACE: ("workspaceName", "workspace", True),
    T.VNET: ("virtualNetworkName", "virtualNetwork", True),
    T.SUBNET: ("subnetName", "subnet", False),
    T.NSG: ("networkSecurityGroupName", "networkSecurityGroup", True),
    T.STORAGE_ACCOUNT: ("accountName", "storageAccount", True),
    T.VAULT: ("vaultName", "keyVault", True),
    T.ACCESS_CONNECTOR: ("connectorName", "accessConnector", True),
    T.LOG_ANALYTICS: ("workspaceName", "logAnalytics", True),
}


@resource_rule("azure-resource-naming", "low", "Azure resources are named explicitly (no autonaming), within "
               "Azure's length/charset limits and with the environment in the name.", list(NAMED),
               source="Platform convention (infra/naming.py)")
def naming(res: ResourceView, _: Mapping[str, Any]) -> Result:
    key, kind, with_env = NAMED[res.type]
    name = res.get(key)
    if is_unknown(name):
        return  # derived from another resource's output; checked where it is defined
    if not name:
        yield f"{key} is missing; names are set explicitly from infra/naming.py (autonaming adds random suffixes)"
        return
    problem = check_name(kind, str(name))
    if problem:
        yield f"{key} {name!r} {problem}"
    # a storage account's name has no hyphen: stack `prod-dr` appears as `proddr` (infra/naming.py)
    lowered = str(name).lower()
    if with_env and res.stack and res.stack not in lowered and res.stack.replace("-", "") not in lowered:
        yield f"{key} {name!r} does not contain the environment {res.stack!r}"


_DEFAULT_PROVIDER = re.compile(r"::pulumi:providers:[\w-]+::default(_[\w]+)?(::|$)")


@resource_rule("databricks-explicit-provider", "high", "Every Databricks resource names its provider explicitly "
               "(account or this stack's workspace); the default provider is never used.",
               applies=lambda t: t.startswith("databricks:"), source="README 'Layout' (explicit providers)")
def explicit_provider(res: ResourceView, _: Mapping[str, Any]) -> Result:
    if res.provider and _DEFAULT_PROVIDER.search(res.provider):
        yield f"uses the default provider {res.provider.rpartition('::')[2]!r}; pass an explicit provider"
    elif not res.provider:
        yield "has no provider; pass the account or workspace provider explicitly"


# Resources whose deletion loses data or keys. Storage credentials and external locations are metadata that
# code recreates identically (the data stays in the lake), so they are not in the list.
STATEFUL = (T.RESOURCE_GROUP, T.WORKSPACE, T.STORAGE_ACCOUNT, T.BLOB_CONTAINER, T.VAULT, T.KEY, T.LOG_ANALYTICS,
            T.METASTORE, T.CATALOG, T.SCHEMA, T.VOLUME, T.REGISTERED_MODEL)


@resource_rule("prod-stateful-resources-protected", "critical", "In protected stacks (prod), stateful resources "
               "(data, keys, workspaces, catalogs) have protect set.", list(STATEFUL),
               source="docs/security-landing.md", config_schema={"protectedStacks": {"type": "array",
                                                                                 "items": {"type": "string"}}},
               defaults={"protectedStacks": ["prod"]})
def prod_protected(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    if res.stack in settings["protectedStacks"] and not res.protect:
        yield f"is not protected in stack {res.stack!r}; set protect=True (a destroy or replace would lose data)"


@resource_rule("no-preview-api-versions", "medium", "Azure resources use stable API versions (no preview type "
               "tokens).", applies=_is_azure, source="pulumi/compliance-policies")
def no_preview(res: ResourceView, _: Mapping[str, Any]) -> Result:
    module = res.type.split(":")[1] if res.type.count(":") == 2 else ""
    if "preview" in module.lower():
        yield f"type {res.type} uses a preview API version; use the default (stable) module"
