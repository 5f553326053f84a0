"""The stack outputs contract: every output the program exports (`pulumi stack output --json`) and the JSON
shape its readers get. The program writes them (composition.py); `mlopsctl verify`, `mlopsctl
bundle-targets`, another stack's StackReference and the offline engine's answers for it read them. Readers
type their outputs as `StackOutputs`, so mypy refuses a key that is not here; tests check that every stack's
plan exports exactly these keys.
"""

# No `from __future__ import annotations` here: TypedDict reads NotRequired from the evaluated annotations.
from collections.abc import Mapping
from typing import NotRequired, TypedDict


class Binding(TypedDict):
    workspaceId: str
    bindingType: str  # BINDING_TYPE_READ_WRITE | BINDING_TYPE_READ_ONLY


class Catalog(TypedDict):
    name: str
    schemas: list[str]
    isolationMode: str
    bindings: list[Binding]


class Grant(TypedDict):
    securableType: str  # catalog | schema | external_location | storage_credential | function (a model)
    securable: str
    principal: str
    privileges: list[str]


class ServedEntity(TypedDict):
    name: str
    entityName: str
    entityVersion: str


class InferenceTable(TypedDict):
    catalog: str
    schema: str
    tablePrefix: str


class ServingEndpoint(TypedDict):
    name: str
    entities: list[ServedEntity]
    inferenceTable: InferenceTable


class Monitor(TypedDict):
    tableName: str
    outputSchema: str
    endpoint: str


class ServerlessPrivateEndpoint(TypedDict):
    label: str  # lake | dbfs
    storageAccountId: str
    groupId: str  # dfs | blob
    ruleId: str
    endpointName: str


class StackOutputs(TypedDict):
    environment: str  # the tier: dev, test or prod
    resourceGroupName: str
    vnetId: str
    workspaceId: str  # the ARM id
    workspaceUrl: str
    workspaceHost: str  # https://<workspaceUrl>
    workspaceNumericId: str  # Databricks' workspace id (bindings, account APIs)
    metastoreId: str
    defaultCatalog: str
    catalogs: list[Catalog]
    grants: list[Grant]
    systemSchemas: list[str]
    experimentPath: str
    # Only the stack that creates the account groups (identity.accountGroups.manage) publishes their ids.
    accountGroupIds: NotRequired[dict[str, str]]
    sqlWarehouseId: str
    serverlessPrivateEndpoints: list[ServerlessPrivateEndpoint]  # the connections to approve on the lakes
    workspaceConf: dict[str, str]  # workspace-conf key -> declared value (SAT's workspace-conf checks)
    servingEndpoints: list[ServingEndpoint]
    monitors: list[Monitor]
    servingPending: list[str]  # endpoints left out until their model version is registered


REQUIRED: frozenset[str] = StackOutputs.__required_keys__
KEYS: frozenset[str] = REQUIRED | StackOutputs.__optional_keys__


def unknown_keys(outputs: Mapping[str, object]) -> list[str]:
    """Keys a program or a file has that the contract does not name (a typo, or a key to add here)."""
    return sorted(set(outputs) - KEYS)
