"""Platform: composes one environment's components from its validated config.

(Not `platform.py`: Pulumi runs `infra/` with that folder first on sys.path, where a `platform.py`
would shadow the standard library module that grpc and pulumi import.)
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization

from infra.components.access_connector import AccessConnector, AccessConnectorArgs
from infra.components.classic_egress import HubFirewallEgress, HubFirewallEgressArgs
from infra.components.compute import Compute, ComputeArgs
from infra.components.cost import Cost, CostArgs
from infra.components.data_governance import DataGovernance, DataGovernanceArgs
from infra.components.databricks_providers import DatabricksProviders, DatabricksProvidersArgs
from infra.components.front_end_access import FrontEndAccess, FrontEndAccessArgs
from infra.components.job_code import JobCodeFolder, JobCodeFolderArgs
from infra.components.key_vault import KeyVault, KeyVaultArgs
from infra.components.lake import Lake, LakeArgs
from infra.components.model_registry import ModelRegistry, ModelRegistryArgs
from infra.components.network import Network, NetworkArgs
from infra.components.observability import DiagnosticTarget, Observability, ObservabilityArgs
from infra.components.operations import Operations, OperationsArgs
from infra.components.private_link import PrivateLink, PrivateLinkArgs
from infra.components.resilience import (
    RestoreDrill,
    RestoreDrillArgs,
    StandbyReplication,
    StandbyReplicationArgs,
    StandbyShare,
    StandbyShareArgs,
)
from infra.components.resource_group import ResourceGroup, ResourceGroupArgs
from infra.components.serverless_network import ServerlessNetwork, ServerlessNetworkArgs, StorageTarget
from infra.components.serverless_perimeter import ServerlessPerimeter, ServerlessPerimeterArgs
from infra.components.serving import Serving, ServingArgs, serving_outputs
from infra.components.unity_catalog import KeyVaultRef, UnityCatalog, UnityCatalogArgs
from infra.components.workspace import Workspace, WorkspaceArgs
from infra.components.workspace_hardening import ArtifactAllowlist, WorkspaceHardening, WorkspaceHardeningArgs
from infra.config import StackConfig, resilience
from infra.config import governance as governance_config
from infra.config.egress import classic_egress, vnet_encrypted


class Platform(pulumi.ComponentResource):
    """mlops:platform:Platform: everything one environment needs, as child components.

    It only wires: each component gets its config section (or values StackConfig derives), the inputs it
    takes from other components, and in `depends_on` what it must wait for.
    """

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Platform", name, None, opts)
        self.config = config
        names, tags, protection = config.names, config.resource_tags, config.protection
        child = pulumi.ResourceOptions(parent=self)
        client = authorization.get_client_config_output()
        self.subscription_id = client.subscription_id
        self.tenant_id = client.tenant_id

        self.resource_group = ResourceGroup("rg", ResourceGroupArgs(
            name=names.resource_group, location=config.location, tags=tags,
            lock=protection.resource_group_lock), opts=child)

        hub_vnet_id = config.deploy.runner.hub_vnet_id  # where the deploy runner sits (docs/first-deploy.md)
        # Classic egress through the hub's firewall: its rules first, then the route table the subnets use.
        self.hub_firewall_egress: HubFirewallEgress | None = None
        firewall = config.network.firewall
        if classic_egress(config) == "firewall" and firewall is not None:
            self.hub_firewall_egress = HubFirewallEgress("hub-firewall-egress", HubFirewallEgressArgs(
                stack_prefix=names.stack_prefix, region=config.location, firewall_private_ip=firewall.private_ip,
                firewall_policy_id=firewall.policy_id, priority=firewall.priority,
                source_cidrs=(config.network.host_subnet_cidr, config.network.container_subnet_cidr),
                allowed_domains=tuple(config.security_posture.egress_allowlist),
                resource_group_name=self.resource_group.name, tags=tags), opts=child)
        egress = self.hub_firewall_egress
        self.network = Network("network", NetworkArgs(
            config=config.network, names=names, location=config.location, tags=tags,
            resource_group_name=self.resource_group.name, hub_vnet_id=hub_vnet_id,
            route_table_id=egress.route_table_id if egress else None,
            egress_ready=(egress.rule_collection_group,) if egress else (),
            encryption=vnet_encrypted(config)), opts=child)

        # --- security landing, before the workspace: it uses the access connector ---
        self.access_connector = AccessConnector("access-connector", AccessConnectorArgs(
            name=names.access_connector, location=config.location, tags=tags,
            resource_group_name=self.resource_group.name), opts=child)
        self.lake = Lake("lake", LakeArgs(
            config=config.lake, name=names.storage_account, location=config.location, tags=tags,
            protect=protection.protect, retain_on_delete=protection.retain_on_delete,
            resource_group_name=self.resource_group.name, tenant_id=self.tenant_id,
            subscription_id=self.subscription_id, access_connector_id=self.access_connector.id,
            access_connector_principal_id=self.access_connector.principal_id), opts=child)
        self.key_vault = KeyVault("key-vault", KeyVaultArgs(
            config=config.key_vault, encryption=config.encryption, name=names.key_vault,
            location=config.location, tags=tags,
            protect=protection.protect, retain_on_delete=protection.retain_on_delete,
            resource_group_name=self.resource_group.name, tenant_id=self.tenant_id,
            subscription_id=self.subscription_id, deployer_object_id=config.identity.deployer.object_id),
            opts=child)

        managed_rg_id = pulumi.Output.concat(
            "/subscriptions/", self.subscription_id, "/resourceGroups/", names.managed_resource_group)
        self.workspace = Workspace("workspace", WorkspaceArgs(
            config=config.workspace, security=config.workspace_security, encryption=config.encryption,
            name=names.workspace, dbfs_storage_account_name=names.dbfs_storage_account,
            location=config.location, tags=tags,
            protect=protection.protect, retain_on_delete=protection.retain_on_delete,
            managed_resource_group_id=managed_rg_id, resource_group_name=self.resource_group.name,
            vnet_id=self.network.vnet_id, host_subnet_name=self.network.host_subnet_name,
            container_subnet_name=self.network.container_subnet_name,
            access_connector_id=self.access_connector.id, keys=self.key_vault.keys,
            subscription_id=self.subscription_id,
            # the Databricks service must be able to use the managed-services key before the workspace does
            depends_on=self.key_vault.workspace_prerequisites,
            automatic_cluster_update=config.security_posture.meets("GOV-36"),
            enhanced_security_monitoring=config.security_posture.meets("INFO-40")),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.network]))

        # --- security landing: private link, lake, key vault, observability ---
        self.private_link = PrivateLink("private-link", PrivateLinkArgs(
            config=config.private_link, prefix=names.stack_prefix, front_end_private=config.front_end_private,
            location=config.location, tags=tags, hub_vnet_id=hub_vnet_id,
            hub_zone_id=config.deploy.runner.hub_zone_id,
            resource_group_name=self.resource_group.name,
            vnet_id=self.network.vnet_id, subnet_id=self.network.private_endpoint_subnet_id,
            workspace_id=self.workspace.id, lake_id=self.lake.account_id, key_vault_id=self.key_vault.id,
            # the storage firewall closes the DBFS root to everything but trusted access and these endpoints
            dbfs_storage_account_id=self.workspace.dbfs_storage_account_id
            if config.workspace_security.default_storage_firewall else None), opts=child)
        self.observability = Observability("observability", ObservabilityArgs(
            config=config.observability, name=names.log_analytics, location=config.location, tags=tags,
            protect=protection.protect, retain_on_delete=protection.retain_on_delete,
            resource_group_name=self.resource_group.name,
            targets=(DiagnosticTarget("workspace", self.workspace.id, "allLogs"),
                     DiagnosticTarget("key-vault", self.key_vault.id, "audit"),
                     DiagnosticTarget("lake-blob", self.lake.blob_service_id, "allLogs"))), opts=child)

        # A private front end is reachable only once its endpoint, DNS record and the runner's route exist.
        reachable: list[pulumi.Resource] = [*self.private_link.front_end, *self.network.hub_peerings] \
            if config.front_end_private else []
        self.databricks = DatabricksProviders("databricks", DatabricksProvidersArgs(
            config=config.databricks, workspace_url=self.workspace.url, workspace_resource_id=self.workspace.id,
            depends_on=reachable), opts=child)
        # a public front end (dev/test) accepts only the configured source ranges; a private one may keep them as a
        # second gate (SAT NS-5)
        if config.workspace_security.ip_access_list:
            self.front_end_access = FrontEndAccess("front-end-access", FrontEndAccessArgs(
                ip_ranges=tuple(config.workspace_security.ip_access_list),
                deploy_runner_ranges=tuple(config.deploy.runner.egress_cidrs), provider=self.databricks.workspace),
                opts=child)

        # --- unity catalog and access ---
        self.unity_catalog = UnityCatalog("unity-catalog", UnityCatalogArgs(
            config=config.unity_catalog, identity=config.identity, settings=config.workspace_settings,
            names=names, stack=config.stack, region=config.location,
            protect=protection.protect, retain_on_delete=protection.retain_on_delete,
            run_as_grants=config.run_as_grants,
            workspace_numeric_id=self.workspace.workspace_id,
            account_provider=self.databricks.account, workspace_provider=self.databricks.workspace,
            abfss_url=self.lake.abfss_url, access_connector_id=self.access_connector.id,
            key_vault=KeyVaultRef(id=self.key_vault.id, uri=self.key_vault.uri,
                                  readers_granted=tuple(self.key_vault.secret_reader_grants)),
            # the credential and external locations are checked against the storage
            depends_on=[self.lake, self.private_link]), opts=child)
        # Serverless compute reaches the storage Unity Catalog reads through an NCC bound to the workspace: the
        # lake, and the DBFS root when the storage firewall closes it (as the SRA's
        # azure/tf/modules/workspace/dbfs_privatelink.tf does for both).
        targets = [StorageTarget("lake", self.lake.account_id)]
        if config.workspace_security.default_storage_firewall:
            targets.append(StorageTarget("dbfs", self.workspace.dbfs_storage_account_id))
        self.serverless_network = ServerlessNetwork("serverless-network", ServerlessNetworkArgs(
            name=names.network_connectivity_config, region=config.location,
            workspace_numeric_id=self.workspace.workspace_id, account_provider=self.databricks.account,
            targets=targets), opts=child)

        # --- security posture: SAT's deploy-time checks (docs/security-posture.md) ---
        posture, ident = config.security_posture, config.identity
        allow = posture.artifact_allowlist
        self.hardening = WorkspaceHardening("workspace-hardening", WorkspaceHardeningArgs(
            stack=config.stack, account_id=config.databricks.account_id, workspace_conf=posture.workspace_conf(),
            restrict_workspace_admins=posture.meets("GOV-35"), sql_results_download=not posture.meets("DP-11"),
            token_groups=[ident.groups.admins] if posture.meets("IA-8") else None,
            token_service_principals=[ident.cicd_service_principal.application_id],
            run_as_application_id=ident.cicd_service_principal.application_id,
            deployer_application_id=ident.deployer.application_id, admins_group=ident.groups.admins,
            workspace_provider=self.databricks.workspace, account_provider=self.databricks.account,
            artifact_allowlist=ArtifactAllowlist(tuple(allow.maven), tuple(allow.jars)) if allow.any else None,
            metastore_id=self.unity_catalog.metastore_id, disable_legacy_features=posture.account_settings,
            depends_on=[self.unity_catalog.metastore_assignment, *self.unity_catalog.workspace_principals]),
            opts=child)
        # Serverless egress and public ingress: enforced once rolled out, dry-run on a first deploy.
        self.serverless_perimeter = ServerlessPerimeter("serverless-perimeter", ServerlessPerimeterArgs(
            policy_id=f"{names.stack_prefix}-network-policy", workspace_numeric_id=self.workspace.workspace_id,
            allowed_domains=tuple(posture.egress_allowlist),
            storage_accounts=(names.storage_account, *((names.dbfs_storage_account,)
                                                       if config.workspace_security.default_storage_firewall else ())),
            enforce=posture.meets("NS-9") and not config.deploy.first_deploy,
            restrict_ingress=posture.meets("NS-12"),
            ingress_ranges=(*config.workspace_security.ip_access_list, *config.deploy.runner.egress_cidrs),
            account_provider=self.databricks.account,
            depends_on=[self.serverless_network.binding, *self.serverless_network.rules.values()]), opts=child)

        # --- compute and cost ---
        # Permissions and rule sets name groups and the CI/CD principal: only once they are workspace principals.
        principals = self.unity_catalog.workspace_principals
        # The job code's folder (jobs/ uploaded by the serving, retention and drill components), admins only.
        self.job_code_folder = JobCodeFolder("job-code-folder", JobCodeFolderArgs(
            provider=self.databricks.workspace, admins_group=ident.groups.admins,
            cicd_application_id=ident.cicd_service_principal.application_id, depends_on=principals), opts=child)
        self.compute = Compute("compute", ComputeArgs(
            config=config.compute, stack=config.stack, cost_tags=config.cost_tags,
            group_names=ident.groups.by_role(), cicd_application_id=ident.cicd_service_principal.application_id,
            workspace_provider=self.databricks.workspace, depends_on=principals,
            local_disk_encryption=posture.meets("DP-2")), opts=child)
        self.cost = Cost("cost", CostArgs(
            config=config.cost, stack=config.stack, cost_tags=config.cost_tags,
            account_id=config.databricks.account_id,
            budget_policy_users=config.compute_user_groups, budget_policy_managers=[ident.groups.admins],
            cicd_application_id=ident.cicd_service_principal.application_id,
            resource_group_name=self.resource_group.name, resource_group_id=self.resource_group.id,
            workspace_numeric_id=self.workspace.workspace_id, account_provider=self.databricks.account,
            depends_on=principals), opts=child)

        # --- serving and monitoring ---
        self.model_registry: ModelRegistry | None = None
        if config.serving is not None and config.serving.served_models():
            # the served models and their experiments, owned by the retrain job's principal (the CI/CD one)
            roles = ident.group_names()
            self.model_registry = ModelRegistry("model-registry", ModelRegistryArgs(
                models=config.serving.served_models(), owner_application_id=ident.cicd_service_principal.application_id,
                deployer_application_id=ident.deployer.application_id,
                experiment_path=self.unity_catalog.settings.experiment_path,
                experiment_folder=self.unity_catalog.settings.experiment_folder,
                experiment_permissions={roles[role]: level for role, level
                                        in config.workspace_settings.experiment_folder.permissions.items()},
                comment=f"Served in {config.stack}; versions and aliases by its retrain job (docs/model-lifecycle.md)",
                protect=protection.protect, retain_on_delete=protection.retain_on_delete,
                provider=self.databricks.workspace, schemas=self.unity_catalog.schemas,
                depends_on=principals), opts=child)
        self.serving: Serving | None = None
        if config.serving is not None:
            groups = ident.groups
            webhook = config.alert_webhook_url
            self.serving = Serving("serving", ServingArgs(
                config=config.serving, stack=config.stack, tags=tags,
                consumers_group=groups.model_consumers, ml_engineers_group=groups.ml_engineers,
                data_scientists_group=groups.data_scientists,
                cicd_application_id=ident.cicd_service_principal.application_id,
                webhook_url=pulumi.Output.secret(webhook.get_secret_value()) if webhook else None,
                provider=self.databricks.workspace, warehouse_id=self.compute.sql_warehouse.id,
                schemas=self.unity_catalog.schemas, serverless_network=self.serverless_network,
                models=self.model_registry.ready if self.model_registry else {},
                # endpoints wait for their UC schemas, principals and grants
                depends_on=[self.unity_catalog]), opts=child)

        # --- resilience (docs/recovery.md): the restore drill, the share to the standby, the standby's copy ---
        self._resilience(config)
        # --- day-2 operations: audit and cost alerts to the platform admins, the cost dashboard ---
        self.operations: Operations | None = None
        if config.operations is not None:
            self.operations = Operations("operations", OperationsArgs(
                config=config.operations, stack=config.stack,
                catalogs=tuple(c.name for c in config.unity_catalog.catalogs),
                cicd_application_id=ident.cicd_service_principal.application_id, admins_group=ident.groups.admins,
                workspace_numeric_id=self.workspace.workspace_id, warehouse_id=self.compute.sql_warehouse.id,
                provider=self.databricks.workspace, system_schemas=self.unity_catalog.settings.system_schemas,
                depends_on=principals, first_deploy=config.deploy.first_deploy,
                serverless_ready=() if config.deploy.first_deploy else tuple(self.serverless_network.ready())),
                opts=child)

        # --- governance: classification and tags, registry retention, feature-table monitors ---
        serving_alerts = self.serving.alerts if self.serving else None
        self.governance = DataGovernance("governance", DataGovernanceArgs(
            config=config.governance, stack=config.stack, provider=self.databricks.workspace,
            cicd_application_id=ident.cicd_service_principal.application_id,
            ml_engineers_group=ident.groups.ml_engineers, warehouse_id=self.compute.sql_warehouse.id,
            securables={**self.unity_catalog.catalogs, **self.unity_catalog.schemas},
            retention_schemas=tuple(governance_config.retention_schemas(config))
            if governance_config.retention_enabled(config) else (),
            retention_apply=governance_config.retention_applies(config),
            protected_versions=governance_config.pinned_versions(config),
            first_deploy=config.deploy.first_deploy,
            destination_ids=[d.id for d in serving_alerts.destinations.values()] if serving_alerts else [],
            endpoint_monitors=self.serving.monitoring.monitors if self.serving else {}, tags=config.cost_tags,
            # the run-as principal, its grants and the schemas (their retention_days property)
            depends_on=[self.unity_catalog],
            serverless_network=self.serverless_network,
            # the ABAC functions' statements run on the SQL warehouse, authenticated as the providers are
            workspace_host=pulumi.Output.concat("https://", self.workspace.url),
            workspace_resource_id=self.workspace.id, auth_type=config.databricks.auth_type,
            warehouse=self.compute.sql_warehouse), opts=child)

        self.outputs: dict[str, pulumi.Input[object]] = {
            "environment": config.environment,
            "resourceGroupName": self.resource_group.name,
            "vnetId": self.network.vnet_id,
            "workspaceId": self.workspace.id,
            "workspaceUrl": self.workspace.url,
            "workspaceHost": pulumi.Output.concat("https://", self.workspace.url),
            "workspaceNumericId": self.workspace.workspace_id,
            # --- outputs of later areas go below (keys are read by verify and bundle-targets) ---
            **self.unity_catalog.outputs,  # metastoreId, defaultCatalog, catalogs, grants, ...
            "sqlWarehouseId": self.compute.sql_warehouse.id,
            # the private endpoint connections to approve on the storage accounts (see docs/unity-catalog.md)
            "serverlessPrivateEndpoints": self.serverless_network.outputs,
            # what `mlopsctl verify` re-reads with workspace-conf get-status (SAT's workspace-conf checks)
            "workspaceConf": {**posture.workspace_conf(),
                              **({"enableIpAccessLists": "true"} if config.workspace_security.ip_access_list else {})},
            **serving_outputs(self.serving, config.serving),
        }
        if self.model_registry is not None:  # the served models' grants, checked by verify like the others
            self.outputs["grants"] = [*self.unity_catalog.outputs["grants"], *self.model_registry.grant_rows]
        self.register_outputs(self.outputs)

    def _resilience(self, config: StackConfig) -> None:
        ident, child = config.identity, pulumi.ResourceOptions(parent=self)
        # jobs wait for their schemas and grants, and serverless compute for its route to the lake
        ready: list[pulumi.Input[pulumi.Resource]] = [self.unity_catalog, self.serverless_network]
        if config.drill is not None:
            self.drill = RestoreDrill("restore-drill", RestoreDrillArgs(
                config=config.drill, stack=config.stack, paused=resilience.drill_paused(config),
                provider=self.databricks.workspace, run_as_application_id=ident.cicd_service_principal.application_id,
                admins_group=ident.groups.admins, tags=config.resource_tags, depends_on=ready), opts=child)
        if config.dr_share is not None:
            self.standby_share = StandbyShare("standby-share", StandbyShareArgs(
                config=config.dr_share, stack=config.stack, provider=self.databricks.workspace,
                depends_on=[self.unity_catalog]), opts=child)
        standby = config.standby
        if standby is not None:
            primary = standby.primary_stack
            managed = standby.replication.managed_failover
            self.standby = StandbyReplication("standby", StandbyReplicationArgs(
                config=standby.replication, stack=config.stack, primary_stack=primary,
                primary_region=str(standby.primary_region), region=config.location,
                catalogs=[c.name for c in config.unity_catalog.catalogs], account_id=config.databricks.account_id,
                workspace_numeric_id=self.workspace.workspace_id,
                primary_workspace_numeric_id=self.unity_catalog.peer(primary).get_output("workspaceNumericId")
                if managed else None,
                account_provider=self.databricks.account, workspace_provider=self.databricks.workspace,
                run_as_application_id=ident.cicd_service_principal.application_id, admins_group=ident.groups.admins,
                failure_recipients=standby.replication.failure_recipients, tags=config.resource_tags,
                depends_on=ready), opts=child)
