"""Workspace platform settings: system schemas, default namespace, legacy access off, secret scope, MLflow folders.

All workspace-level (the workspace provider), all after the metastore assignment: settings that talk
about catalogs need Unity Catalog on the workspace first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

from infra.config.unity_catalog import WorkspaceSettingsConfig


@dataclass(frozen=True)
class KeyVaultRef:
    id: pulumi.Input[str]  # ARM id
    uri: pulumi.Input[str]  # https://<name>.vault.azure.net/
    # The AzureDatabricks app's Key Vault Secrets User grant: a scope on an RBAC vault reads nothing without it.
    readers_granted: tuple[pulumi.Resource, ...] = ()


@dataclass(frozen=True)
class WorkspaceSettingsArgs:
    config: WorkspaceSettingsConfig
    environment: str
    default_catalog: dbx.Catalog | None
    secret_scope_name: str
    group_names: dict[str, str]  # role key -> group display name
    cicd_application_id: str
    workspace_provider: dbx.Provider
    metastore_assignment: pulumi.Resource
    workspace_access: list[pulumi.Resource]  # permission assignments: groups must be workspace principals
    key_vault: KeyVaultRef | None = None


class WorkspaceSettings(pulumi.ComponentResource):
    """mlops:platform:WorkspaceSettings."""

    system_schemas: dict[str, dbx.SystemSchema]
    experiment_folder: dbx.Directory
    experiment_path: str
    secret_scope: dbx.SecretScope | None

    def __init__(self, name: str, args: WorkspaceSettingsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:WorkspaceSettings", name, None, opts)
        cfg = args.config
        ws = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                    depends_on=[args.metastore_assignment])

        # Metastore-wide, so the audit, cost and lineage queries of the seeds work (system.access.audit, ...).
        # The provider's Delete disables the schema for the whole metastore (catalog/resource_system_schema.go:
        # safeDisable), so they live in the protected stack only and survive its destroy or their removal.
        keep = pulumi.ResourceOptions.merge(ws, pulumi.ResourceOptions(protect=True, retain_on_delete=True))
        self.system_schemas = {s: dbx.SystemSchema(f"system-schema-{s}", schema=s, opts=keep)
                               for s in cfg.system_schemas}

        if args.default_catalog is not None:
            dbx.DefaultNamespaceSetting(
                "default-namespace",
                namespace=dbx.DefaultNamespaceSettingNamespaceArgs(value=args.default_catalog.name),
                opts=pulumi.ResourceOptions.merge(ws, pulumi.ResourceOptions(depends_on=[args.default_catalog])))
        if cfg.disable_legacy_access:  # Hive metastore, external-location fallback, pre-13.3 runtimes
            dbx.DisableLegacyAccessSetting(
                "disable-legacy-access",
                disable_legacy_access=dbx.DisableLegacyAccessSettingDisableLegacyAccessArgs(value=True), opts=ws)
        if cfg.disable_legacy_dbfs:  # DBFS root and mounts
            dbx.DisableLegacyDbfsSetting(
                "disable-legacy-dbfs",
                disable_legacy_dbfs=dbx.DisableLegacyDbfsSettingDisableLegacyDbfsArgs(value=True), opts=ws)

        after_access = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                              depends_on=[args.metastore_assignment, *args.workspace_access])
        self.secret_scope = None
        if args.key_vault is not None:
            # Key Vault-backed: secrets stay in the environment's vault; Databricks only reads them.
            self.secret_scope = dbx.SecretScope(
                "secret-scope", name=args.secret_scope_name, backend_type="AZURE_KEYVAULT",
                keyvault_metadata=dbx.SecretScopeKeyvaultMetadataArgs(dns_name=args.key_vault.uri,
                                                                      resource_id=args.key_vault.id),
                opts=pulumi.ResourceOptions.merge(after_access, pulumi.ResourceOptions(
                    depends_on=list(args.key_vault.readers_granted))))
            for role in cfg.secret_scope.readers:
                dbx.SecretAcl(f"secret-scope-read-{role}", scope=self.secret_scope.name,
                              principal=args.group_names[role], permission="READ", opts=after_access)

        self.experiment_path = f"{cfg.experiment_folder.root}/{args.environment}"
        self.experiment_folder = dbx.Directory("experiment-folder", path=self.experiment_path, opts=ws)
        controls = [dbx.PermissionsAccessControlArgs(group_name=args.group_names[role], permission_level=level)
                    for role, level in cfg.experiment_folder.permissions.items()]
        controls.append(dbx.PermissionsAccessControlArgs(service_principal_name=args.cicd_application_id,
                                                         permission_level="CAN_MANAGE"))
        dbx.Permissions("experiment-folder-permissions", directory_path=self.experiment_folder.path,
                        access_controls=controls, opts=after_access)
        self.register_outputs({"systemSchemas": sorted(self.system_schemas), "experimentPath": self.experiment_path})
