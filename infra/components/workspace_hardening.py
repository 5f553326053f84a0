"""Workspace hardening: the Security Analysis Tool's deploy-time settings that are not network or compute shape.

One `WorkspaceConf` holds every workspace-conf key SAT reads (notebooks/Includes/workspace_settings.py in
databricks-industry-solutions/security-analysis-tool); the rest are settings of their own: restrict workspace
admins, who may create personal access tokens, SQL results download (settings v2), the metastore's artifact
allowlists and the account's disable-legacy-features. Values come resolved (which checks a stack relaxes is
config's business); infra/sat.py says which check each one meets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_databricks as dbx

# Restricted, workspace admins may set a job's run-as only to themselves or to a service principal they hold
# the Service Principal User role on (terraform-provider-databricks docs/resources/
# restrict_workspace_admins_setting.md): the deploying identity is given that role on the run-as principal.
RESTRICTED = "RESTRICT_TOKENS_AND_JOB_RUN_AS"


@dataclass(frozen=True)
class ArtifactAllowlist:
    maven: tuple[str, ...] = ()   # coordinate prefixes
    jars: tuple[str, ...] = ()    # volume path prefixes


@dataclass(frozen=True)
class WorkspaceHardeningArgs:
    stack: str
    account_id: str
    workspace_conf: Mapping[str, str]            # workspace-conf key -> value ("true"/"false"/number/text)
    restrict_workspace_admins: bool
    sql_results_download: bool                   # may users download SQL results?
    token_groups: Sequence[str] | None           # who may create PATs (None: leave token permissions alone)
    token_service_principals: Sequence[str]      # application ids that may create PATs
    run_as_application_id: str                   # the platform's jobs and alerts run as it
    deployer_application_id: str                 # gets Service Principal User on it (restricted admins)
    admins_group: str
    workspace_provider: dbx.Provider
    account_provider: dbx.Provider
    # Metastore-wide and account-wide settings, declared by the protected stack only (None / False elsewhere).
    artifact_allowlist: ArtifactAllowlist | None = None
    metastore_id: pulumi.Input[str] | None = None
    disable_legacy_features: bool = False
    # The permission assignments that make the groups and principals workspace principals, and the metastore
    # assignment (the artifact allowlist talks about the workspace's metastore).
    depends_on: Sequence[pulumi.Resource] = ()


class WorkspaceHardening(pulumi.ComponentResource):
    """mlops:platform:WorkspaceHardening: workspace-conf, admin restriction, token permissions, download settings."""

    workspace_conf: dbx.WorkspaceConf | None

    def __init__(self, name: str, args: WorkspaceHardeningArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:WorkspaceHardening", name, None, opts)
        ws = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider)
        after = pulumi.ResourceOptions(parent=self, provider=args.workspace_provider, depends_on=list(args.depends_on))
        account = pulumi.ResourceOptions(parent=self, provider=args.account_provider,
                                         depends_on=list(args.depends_on))

        # The provider's SafeSetStatus drops keys a workspace does not know and reports them (workspace/
        # resource_workspace_conf.go); its delete resets each key to "false".
        self.workspace_conf = dbx.WorkspaceConf(
            f"{name}-workspace-conf", custom_config=dict(sorted(args.workspace_conf.items())),
            opts=ws) if args.workspace_conf else None

        dbx.WorkspaceSettingV2(
            f"{name}-sql-results-download", name="sql_results_download",
            boolean_val=dbx.WorkspaceSettingV2BooleanValArgs(value=args.sql_results_download), opts=ws)

        if args.restrict_workspace_admins:
            # The deployer keeps the right to set the platform jobs' run-as once admins are restricted.
            run_as_user = dbx.AccessControlRuleSet(
                f"{name}-run-as-user",
                name=f"accounts/{args.account_id}/servicePrincipals/{args.run_as_application_id}/ruleSets/default",
                grant_rules=[
                    dbx.AccessControlRuleSetGrantRuleArgs(role="roles/servicePrincipal.manager",
                                                          principals=[f"groups/{args.admins_group}"]),
                    dbx.AccessControlRuleSetGrantRuleArgs(
                        role="roles/servicePrincipal.user",
                        principals=[f"servicePrincipals/{args.deployer_application_id}"]),
                ],
                opts=account)
            dbx.RestrictWorkspaceAdminsSetting(
                f"{name}-restrict-workspace-admins",
                restrict_workspace_admins=dbx.RestrictWorkspaceAdminsSettingRestrictWorkspaceAdminsArgs(status=RESTRICTED),
                opts=pulumi.ResourceOptions(parent=self, provider=args.workspace_provider,
                                            depends_on=[run_as_user, *args.depends_on]))

        if args.token_groups is not None:
            # Authoritative for the workspace's token permissions: `users` loses CAN_USE (SAT IA-8).
            controls = [dbx.PermissionsAccessControlArgs(group_name=g, permission_level="CAN_USE")
                        for g in args.token_groups]
            controls += [dbx.PermissionsAccessControlArgs(service_principal_name=sp, permission_level="CAN_USE")
                         for sp in args.token_service_principals]
            dbx.Permissions(f"{name}-token-permissions", authorization="tokens", access_controls=controls,
                            opts=after)

        allow = args.artifact_allowlist
        if allow is not None and args.metastore_id is not None:
            for kind, prefixes in (("LIBRARY_MAVEN", allow.maven), ("LIBRARY_JAR", allow.jars)):
                if prefixes:
                    dbx.ArtifactAllowlist(
                        f"{name}-allowlist-{kind.lower().replace('_', '-')}", artifact_type=kind,
                        metastore_id=args.metastore_id,
                        artifact_matchers=[dbx.ArtifactAllowlistArtifactMatcherArgs(artifact=p,
                                                                                   match_type="PREFIX_MATCH")
                                           for p in prefixes],
                        opts=after)

        if args.disable_legacy_features:
            # Account-wide, for workspaces created from now on (docs/resources/disable_legacy_features_setting.md).
            dbx.DisableLegacyFeaturesSetting(
                f"{name}-disable-legacy-features",
                disable_legacy_features=dbx.DisableLegacyFeaturesSettingDisableLegacyFeaturesArgs(value=True),
                opts=pulumi.ResourceOptions(parent=self, provider=args.account_provider,
                                            retain_on_delete=True))
        self.register_outputs({"workspaceConf": dict(args.workspace_conf)})
