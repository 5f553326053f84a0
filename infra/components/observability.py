"""Log Analytics per environment and the diagnostic settings that feed it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor, operationalinsights

from infra.config.security import ObservabilityConfig

SETTING_NAME = "to-log-analytics"


@dataclass(frozen=True)
class DiagnosticTarget:
    key: str  # logical name suffix
    resource_uri: pulumi.Input[str]
    category_group: str  # 'allLogs', or 'audit' where only the audit trail is wanted


@dataclass(frozen=True)
class ObservabilityArgs:
    config: ObservabilityConfig
    name: str
    resource_group_name: pulumi.Input[str]
    location: str
    tags: dict[str, str]
    targets: tuple[DiagnosticTarget, ...]
    protect: bool = False
    retain_on_delete: bool = False


class Observability(pulumi.ComponentResource):
    """mlops:platform:Observability: a Log Analytics workspace (Entra ID only, no shared keys) and one
    diagnostic setting per monitored resource."""

    log_analytics_workspace_id: pulumi.Output[str]
    settings: dict[str, monitor.DiagnosticSetting]

    def __init__(self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Observability", name, None, opts)
        cfg = args.config
        law = operationalinsights.Workspace(
            f"{name}-logs", workspace_name=args.name, resource_group_name=args.resource_group_name,
            location=args.location,
            sku=operationalinsights.WorkspaceSkuArgs(name=operationalinsights.WorkspaceSkuNameEnum.PER_GB2018),
            retention_in_days=cfg.retention_days,
            workspace_capping=operationalinsights.WorkspaceCappingArgs(daily_quota_gb=cfg.daily_quota_gb),
            features=operationalinsights.WorkspaceFeaturesArgs(
                disable_local_auth=True, enable_log_access_using_only_resource_permissions=True),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.retain_on_delete))
        self.settings = {
            t.key: monitor.DiagnosticSetting(
                f"{name}-{t.key}-diagnostics", name=SETTING_NAME, resource_uri=t.resource_uri, workspace_id=law.id,
                log_analytics_destination_type="Dedicated",  # resource-specific tables
                logs=[monitor.DiagnosticsLogSettingsArgs(category_group=t.category_group, enabled=True)],
                opts=pulumi.ResourceOptions(parent=self))
            for t in args.targets
        }
        self.resource = law
        self.log_analytics_workspace_id = law.id
        self.register_outputs({"logAnalyticsWorkspaceId": law.id})
