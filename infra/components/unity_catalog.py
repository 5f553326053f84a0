"""Unity Catalog for one environment: metastore (assigned explicitly), storage credential, external
locations, isolated catalogs bound to workspaces, schemas, then identity, grants and workspace settings.

Everything that lives in the metastore depends on the metastore assignment: a new workspace may get a
regional metastore auto-assigned, and resources created before the explicit assignment race it
("No metastore assigned").

No securable sets `owner`: the deploying principal creates, and so owns, each of them. The provider's Create
calls Update(owner) right after the create when an owner is set (catalog/resource_external_location.go,
resource_catalog.go, resource_schema.go, resource_storage_credential.go), so an owner group the deployer is
not in would take away the privileges the next create needs (CREATE_EXTERNAL_LOCATION on the credential,
CREATE_MANAGED_STORAGE on the location, USE_CATALOG/CREATE_SCHEMA on the catalog, ...): a metastore admin has
only metastore-level privileges. `owner` is Optional+Computed there, so leaving it unset shows no diff. The
admins group administers through MANAGE (+ USE_CATALOG/USE_SCHEMA/BROWSE) in the authoritative Grants
(grants.py), which also spares putting every stack's deployer into one account-wide group that would own prod.

Other stacks' values (a metastore created elsewhere, groups managed elsewhere) come from
`pulumi.StackReference`, which implies a deploy order (README); the checked-in stacks read none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_databricks as dbx

from infra.components.grants import (
    UcGrants,
    UcGrantsArgs,
    external_location_name,
    grant_table,
    storage_credential_name,
)
from infra.components.identity import AccountIdentity, AccountIdentityArgs
from infra.components.workspace_settings import KeyVaultRef, WorkspaceSettings, WorkspaceSettingsArgs
from infra.config import StackConfig
from infra.config.unity_catalog import ACCESS_LEVELS


@dataclass(frozen=True)
class UnityCatalogArgs:
    config: StackConfig
    workspace_numeric_id: pulumi.Input[str]
    account_provider: dbx.Provider
    workspace_provider: dbx.Provider
    abfss_url: Callable[[str], pulumi.Output[str]]  # lake container -> abfss://<c>@<account>.dfs.core.windows.net/
    access_connector_id: pulumi.Input[str]
    key_vault: KeyVaultRef | None = None
    # The lake's resources (storage account, containers, access connector role): credential and
    # external locations are validated against the storage, so they wait for it.
    storage_dependencies: list[pulumi.Resource] | None = None


def workspace_roles(config: StackConfig) -> list[str]:
    """Roles the matrix lets into this workspace: any access to its default (environment) catalog."""
    uc = config.unity_catalog
    cat = uc.catalog(uc.default_catalog_name) if uc.default_catalog_name else None
    if cat is None:
        return []
    return [role for role, cell in cat.access.items() if ACCESS_LEVELS[cell.level]]


class UnityCatalog(pulumi.ComponentResource):
    """mlops:platform:UnityCatalog: governance of one environment."""

    metastore_id: pulumi.Output[str]
    metastore: dbx.Metastore | None
    metastore_assignment: dbx.MetastoreAssignment
    storage_credential: dbx.StorageCredential
    external_locations: dict[str, dbx.ExternalLocation]
    catalogs: dict[str, dbx.Catalog]
    schemas: dict[str, dbx.Schema]
    bindings: dict[str, list[tuple[pulumi.Output[str], str]]]
    group_names: dict[str, str]
    cicd_application_id: str
    identity: AccountIdentity
    grants: UcGrants
    settings: WorkspaceSettings
    outputs: dict[str, Any]

    def __init__(self, name: str, args: UnityCatalogArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:UnityCatalog", name, None, opts)
        config = args.config
        uc = config.unity_catalog
        self._args = args
        self._peers: dict[str, pulumi.StackReference] = {}
        protect = config.protection.protect
        retain = config.protection.retain_on_delete

        # --- metastore: referenced, created here, or created by another stack ---
        self.metastore = None
        if uc.metastore.create:
            self.metastore = dbx.Metastore(
                "metastore", name=uc.metastore.name, region=config.location,
                delta_sharing_scope=uc.metastore.delta_sharing_scope,
                delta_sharing_recipient_token_lifetime_in_seconds=(
                    uc.metastore.delta_sharing_recipient_token_lifetime_days * 86400
                    if uc.metastore.delta_sharing_scope == "INTERNAL_AND_EXTERNAL" else None),
                # No metastore-level storage root: each catalog brings managed storage on its own lake.
                # Region-wide, used by every stack: never deleted by one stack's destroy.
                opts=pulumi.ResourceOptions(parent=self, provider=args.account_provider, protect=True,
                                            retain_on_delete=True))
            self.metastore_id = self.metastore.metastore_id
        elif uc.metastore.from_stack:
            self.metastore_id = self.peer(uc.metastore.from_stack).get_output("metastoreId")
        else:
            assert uc.metastore.id is not None
            self.metastore_id = pulumi.Output.from_input(uc.metastore.id)

        self.metastore_assignment = dbx.MetastoreAssignment(
            "metastore-assignment", workspace_id=args.workspace_numeric_id, metastore_id=self.metastore_id,
            opts=pulumi.ResourceOptions(parent=self, provider=args.account_provider))
        assigned = [self.metastore_assignment]
        ws_opts = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider, depends_on=assigned)
        storage_deps = list(args.storage_dependencies or [])

        # --- storage credential (the access connector's managed identity) and external locations ---
        cred_name = storage_credential_name(config)
        self.storage_credential = dbx.StorageCredential(
            "storage-credential", name=cred_name,
            azure_managed_identity=dbx.StorageCredentialAzureManagedIdentityArgs(
                access_connector_id=args.access_connector_id),
            isolation_mode="ISOLATION_MODE_ISOLATED", comment=f"{config.environment} lake via the access connector",
            opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                        depends_on=[*assigned, *storage_deps]))
        own_binding = [(pulumi.Output.from_input(args.workspace_numeric_id), "BINDING_TYPE_READ_WRITE")]
        self._bind("storage-credential", "storage_credential", cred_name, self.storage_credential, own_binding)
        self.external_locations = {}
        for loc in uc.external_locations:
            loc_name = external_location_name(config, loc.container)
            self.external_locations[loc.container] = ext = dbx.ExternalLocation(
                f"external-location-{loc.container}", name=loc_name, url=args.abfss_url(loc.container),
                credential_name=self.storage_credential.name, read_only=loc.read_only,
                isolation_mode="ISOLATION_MODE_ISOLATED", comment=f"{config.environment} lake container",
                opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                            depends_on=[*assigned, *storage_deps]))
            self._bind(f"external-location-{loc.container}", "external_location", loc_name, ext, own_binding)

        # --- catalogs (isolated, managed storage on the lake) and their schemas ---
        self.catalogs, self.schemas, self.bindings = {}, {}, {}
        for cat in uc.catalogs:
            catalog = dbx.Catalog(
                cat.name, name=cat.name, comment=cat.comment, isolation_mode="ISOLATED",
                storage_root=pulumi.Output.concat(args.abfss_url(cat.storage_container), cat.name),
                properties=cat.properties or None,
                opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider, protect=protect,
                                            retain_on_delete=retain,
                                            depends_on=[*assigned, self.external_locations[cat.storage_container]]))
            self.catalogs[cat.name] = catalog
            targets = [(self._workspace_id(b.stack), "BINDING_TYPE_READ_ONLY" if b.read_only
                        else "BINDING_TYPE_READ_WRITE") for b in cat.bindings] or own_binding
            self.bindings[cat.name] = targets
            self._bind(f"catalog-{cat.name}", "catalog", cat.name, catalog, targets,
                       [b.stack for b in cat.bindings] or [config.environment])
            for schema in cat.schemas:
                full = f"{cat.name}.{schema.name}"
                self.schemas[full] = dbx.Schema(
                    full, catalog_name=catalog.name, name=schema.name, comment=schema.comment,
                    properties=schema.all_properties() or None,
                    opts=pulumi.ResourceOptions.merge(ws_opts, pulumi.ResourceOptions(
                        protect=protect, retain_on_delete=retain)))

        # --- identity: groups, CI/CD principal, who enters this workspace ---
        groups_from = config.identity.account_groups.from_stack
        self.identity = AccountIdentity("identity", AccountIdentityArgs(
            config=config.identity, workspace_roles=workspace_roles(config),
            workspace_numeric_id=args.workspace_numeric_id, account_provider=args.account_provider,
            metastore_assignment=self.metastore_assignment,
            group_ids_from_stack=self.peer(groups_from).get_output("accountGroupIds") if groups_from else None),
            opts=pulumi.ResourceOptions(parent=self))
        self.group_names = self.identity.group_names
        self.cicd_application_id = config.identity.cicd_service_principal.application_id

        # --- grants: the matrix, authoritative per securable ---
        rows = grant_table(config)
        securables: dict[tuple[str, str], pulumi.Resource] = {("storage_credential", cred_name):
                                                              self.storage_credential}
        for container, ext in self.external_locations.items():
            securables[("external_location", external_location_name(config, container))] = ext
        securables.update({("catalog", n): c for n, c in self.catalogs.items()})
        securables.update({("schema", n): s for n, s in self.schemas.items()})
        self.grants = UcGrants("grants", UcGrantsArgs(
            rows=rows, securables=securables, workspace_provider=args.workspace_provider,
            depends_on=[*assigned, *self.identity.groups.values(), self.identity.service_principal]),
            opts=pulumi.ResourceOptions(parent=self))

        # --- workspace settings ---
        default = uc.default_catalog_name
        self.settings = WorkspaceSettings("settings", WorkspaceSettingsArgs(
            config=config.workspace_settings, environment=config.environment,
            default_catalog=self.catalogs.get(default) if default else None,
            secret_scope_name=config.workspace_settings.secret_scope.name
            or f"{config.naming.prefix}-{config.environment}-kv",
            group_names=self.group_names, cicd_application_id=self.cicd_application_id,
            workspace_provider=args.workspace_provider, metastore_assignment=self.metastore_assignment,
            workspace_access=list(self.identity.assignments.values()), key_vault=args.key_vault),
            opts=pulumi.ResourceOptions(parent=self))

        self.outputs = self._stack_outputs(rows)
        self.register_outputs({"metastoreId": self.metastore_id, "catalogs": sorted(self.catalogs)})

    # --- helpers ---
    def peer(self, stack: str) -> pulumi.StackReference:
        """The other stack's outputs (one StackReference per stack)."""
        if stack not in self._peers:
            refs = self._args.config.unity_catalog.stack_references
            if refs is None:
                raise ValueError("unityCatalog.stackReferences is required to read another stack's outputs")
            self._peers[stack] = pulumi.StackReference(
                f"stack-{stack}", stack_name=refs.name(stack), opts=pulumi.ResourceOptions(parent=self))
        return self._peers[stack]

    def _workspace_id(self, stack: str) -> pulumi.Output[str]:
        if stack == self._args.config.environment:
            return pulumi.Output.from_input(self._args.workspace_numeric_id)
        return self.peer(stack).get_output("workspaceNumericId").apply(str)

    def _bind(self, prefix: str, securable_type: str, securable_name: str, target: pulumi.Resource,
              workspaces: list[tuple[pulumi.Output[str], str]], stacks: list[str] | None = None) -> None:
        """Isolated securables are visible only in the workspaces bound here."""
        stacks = stacks or [self._args.config.environment]
        for stack, (workspace_id, binding_type) in zip(stacks, workspaces, strict=True):
            dbx.WorkspaceBinding(
                f"binding-{prefix}-{stack}", securable_type=securable_type, securable_name=securable_name,
                workspace_id=workspace_id, binding_type=binding_type,
                opts=pulumi.ResourceOptions(parent=self, provider=self._args.workspace_provider,
                                            depends_on=[self.metastore_assignment, target]))

    def _stack_outputs(self, rows: list[Any]) -> dict[str, Any]:
        config = self._args.config
        uc = config.unity_catalog
        catalogs: list[pulumi.Output[Any]] = []
        for cat in uc.catalogs:
            targets = self.bindings[cat.name]
            catalogs.append(pulumi.Output.all(*[w for w, _ in targets]).apply(
                _catalog_output(cat.name, [s.name for s in cat.schemas], [t for _, t in targets])))
        outputs: dict[str, Any] = {
            "metastoreId": self.metastore_id,
            "defaultCatalog": uc.default_catalog_name,
            "catalogs": pulumi.Output.all(*catalogs),
            "grants": [r.as_output() for r in rows],
            "systemSchemas": list(config.workspace_settings.system_schemas),
            "experimentPath": self.settings.experiment_path,
        }
        if self.identity.groups:  # the owning stack publishes the ids for the others
            outputs["accountGroupIds"] = {k: g.id for k, g in self.identity.groups.items()}
        return outputs


def _catalog_output(name: str, schemas: list[str], binding_types: list[str]) -> Callable[[list[Any]], dict[str, Any]]:
    """The `catalogs` output entry of one catalog, once its bound workspace ids are known."""
    def entry(ids: list[Any]) -> dict[str, Any]:
        return {"name": name, "schemas": schemas, "isolationMode": "ISOLATED",
                "bindings": [{"workspaceId": str(i), "bindingType": t}
                             for i, t in zip(ids, binding_types, strict=True)]}
    return entry
