"""The Security Analysis Tool's checks that apply to Azure, and what in this project meets each.

SAT (databricks-industry-solutions/security-analysis-tool) defines its checks in
configs/security_best_practices.csv (id, check_id, azure, enable, logic) and evaluates them in
notebooks/Includes/workspace_settings.py (the workspace-conf keys) and notebooks/Includes/workspace_analysis.py
(everything else). The 61 enabled Azure checks split in two:

* deploy-time (49): the check reads a setting or configuration object a deployment declares; each lists the
  policy rule(s) that enforce it on the plan, which name the check id;
* runtime (12): the check reads data, usage or objects people create after the deploy (tokens, mounts, admins,
  files, which optional products are in use); no plan can meet them.

This table is the single source: the rules in infra/policy/rules/sat.py, `mlopsctl check --sat`, the
securityPosture config (which ids a stack may relax) and docs/security-posture.md all read it.
Plain data only, so the config, the rules and the tools can all import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["deploy", "runtime"]
# Where the setting lives: this workspace, the region's metastore (one stack declares it), or the account.
Scope = Literal["workspace", "metastore", "account"]


@dataclass(frozen=True)
class SatCheck:
    id: str              # SAT check_id, e.g. DP-5
    title: str
    kind: Kind
    setting: str         # deploy-time: what meets it here; runtime: why no plan can
    rules: tuple[str, ...] = ()   # the policy rules that enforce it (empty: nothing here can meet it)
    scope: Scope = "workspace"
    # Type tokens a plan must declare for the check to count as met (a rule over them passes vacuously without).
    needs: tuple[str, ...] = ()
    # Why it is not met where it is not (no rule, or `needs` absent from the plan).
    gap: str = ""
    relaxable: bool = False  # a dev/test stack may relax it with a reason (securityPosture.relaxed)


METASTORE = "databricks:index/metastore:Metastore"
ROUTE_TABLE = "azure-native:network:RouteTable"


def _d(id: str, title: str, setting: str, *rules: str, scope: Scope = "workspace", needs: tuple[str, ...] = (),
       gap: str = "", relaxable: bool = False) -> SatCheck:
    return SatCheck(id, title, "deploy", setting, tuple(rules), scope, needs, gap, relaxable)


def _r(id: str, title: str, why: str) -> SatCheck:
    return SatCheck(id, title, "runtime", why)


CHECKS: tuple[SatCheck, ...] = (
    # --- data protection ---
    _d("DP-1", "Secrets management", "a Key Vault-backed secret scope", "sat-dp-1-secret-scope"),
    _d("DP-2", "Cluster instance disk encryption", "cluster policies fix enable_local_disk_encryption true",
       "sat-dp-2-local-disk-encryption", relaxable=True),
    _d("DP-5", "Downloading results is disabled", "workspace-conf enableResultsDownloading false",
       "sat-dp-5-results-download-off", relaxable=True),
    _d("DP-6", "Notebook export", "workspace-conf enableExportNotebook false", "sat-dp-6-notebook-export-off",
       relaxable=True),
    _d("DP-7", "Notebook table clipboard features", "workspace-conf enableNotebookTableClipboard false",
       "sat-dp-7-notebook-clipboard-off", relaxable=True),
    _d("DP-8", "Interactive notebook results stored in the customer account",
       "workspace-conf storeInteractiveNotebookResultsInCustomerAccount true",
       "sat-dp-8-results-in-customer-account", relaxable=True),
    _d("DP-9", "FileStore endpoint for HTTPS file serving", "workspace-conf enableFileStoreEndpoint false",
       "sat-dp-9-filestore-endpoint-off", relaxable=True),
    _d("DP-10", "Disable legacy DBFS root and mounts", "disable_legacy_dbfs setting (workspaceSettings)",
       "sat-dp-10-legacy-dbfs-off"),
    _d("DP-11", "SQL warehouse results download disabled", "settings v2 sql_results_download false",
       "sat-dp-11-sql-results-download-off", relaxable=True),
    _d("DP-13", "DBFS file browser disabled", "workspace-conf enableDbfsFileBrowser false",
       "sat-dp-13-dbfs-browser-off", relaxable=True),
    # --- governance ---
    _d("GOV-3", "Log delivery configurations", "diagnostic setting sending all workspace logs to Log Analytics "
       "(Azure's audit log delivery)", "databricks-workspace-diagnostic-logs"),
    _d("GOV-5", "Deprecated versions of Databricks runtimes", "cluster policies allowlist the runtimes",
       "cluster-policy-guardrails"),
    _d("GOV-12", "Unity Catalog enabled clusters", "cluster policies fix a Unity Catalog access mode",
       "cluster-policy-guardrails", "cluster-uc-access-mode"),
    _d("GOV-15", "Verbose audit logs", "workspace-conf enableVerboseAuditLogs true",
       "sat-gov-15-verbose-audit-logs", relaxable=True),
    _d("GOV-16", "Workspace Unity Catalog metastore assignment", "metastore assignment",
       "sat-gov-16-metastore-assigned"),
    _d("GOV-17", "Delta Sharing recipient token lifetime", "metastore Delta Sharing scope INTERNAL, or a token "
       "lifetime of at most 90 days", "sat-gov-17-delta-sharing-token-lifetime", scope="metastore",
       needs=(METASTORE,), gap="the region's metastore is referenced, not declared by this stack; the stack with "
       "unityCatalog.metastore.create meets it (deltaSharingScope INTERNAL or a lifetime of at most 90 days)"),
    _d("GOV-18", "Delta Sharing IP access lists", "recipients authenticate with DATABRICKS (no bearer tokens)",
       "sat-delta-sharing-no-token-recipients"),
    _d("GOV-19", "Delta Sharing token expiration", "recipients authenticate with DATABRICKS (no bearer tokens)",
       "sat-delta-sharing-no-token-recipients"),
    _d("GOV-20", "Existence of Unity Catalog metastores", "metastore assignment", "sat-gov-16-metastore-assigned"),
    _d("GOV-21", "Metastore admin delegated to a group", "", scope="metastore",
       gap="the metastore's owner is set by an account admin: moving it away from the identity that deploys would "
       "take the deploy's own metastore-level rights (see uc-deployer-keeps-ownership); docs/security-posture.md"),
    _d("GOV-28", "Govern model assets", "served entities are Unity Catalog models", "serving-uc-models"),
    _d("GOV-34", "Audit logs in system tables", "system schema access enabled", "sat-gov-34-audit-system-table",
       scope="metastore", needs=("databricks:index/systemSchema:SystemSchema",),
       gap="system schemas are metastore-wide: the protected stack of the region enables them"),
    _d("GOV-35", "Restrict workspace admins", "restrict_workspace_admins RESTRICT_TOKENS_AND_JOB_RUN_AS",
       "sat-gov-35-restrict-workspace-admins", relaxable=True),
    _d("GOV-36", "Automatic cluster update", "workspace automaticClusterUpdate Enabled (its own setting)",
       "sat-gov-36-automatic-cluster-update", relaxable=True),
    _d("GOV-37", "Disable legacy features for new workspaces", "account setting disable_legacy_features",
       "sat-gov-37-legacy-features-off", scope="account",
       needs=("databricks:index/disableLegacyFeaturesSetting:DisableLegacyFeaturesSetting",),
       gap="account-wide: the stack with securityPosture.accountSettings true (prod) declares it"),
    _d("GOV-42", "Jobs run as service principal", "the platform's jobs run as the CI/CD service principal",
       "sat-gov-42-jobs-run-as-service-principal"),
    _d("GOV-45", "Jobs grant CAN_MANAGE to admins only", "job permissions: CAN_MANAGE only to admins and the "
       "CI/CD service principal", "sat-gov-45-job-manage-admins-only"),
    # --- identity and access ---
    _d("IA-5", "Maximum lifetime of new tokens", "workspace-conf maxTokenLifetimeDays (securityPosture)",
       "sat-ia-5-token-lifetime-limited", relaxable=True),
    _d("IA-8", "PAT creation restricted to admins", "token permissions: CAN_USE for admins and the CI/CD "
       "service principal only", "sat-ia-8-token-creation-restricted", relaxable=True),
    # --- informational (settings) ---
    _d("INFO-8", "Job view ACLs", "workspace-conf enableJobViewAcls true", "sat-info-8-job-view-acls",
       relaxable=True),
    _d("INFO-9", "Cluster view ACLs", "workspace-conf enforceClusterViewAcls true", "sat-info-9-cluster-view-acls",
       relaxable=True),
    _d("INFO-10", "Workspace view ACLs", "workspace-conf enforceWorkspaceViewAcls true",
       "sat-info-10-workspace-view-acls", relaxable=True),
    _d("INFO-11", "Git folders (repos) in the workspace", "workspace-conf enableProjectTypeInWorkspace true",
       "sat-info-11-git-folders", relaxable=True),
    _d("INFO-18", "Delta Sharing CREATE_RECIPIENT / CREATE_SHARE", "no grant of CREATE_RECIPIENT or CREATE_SHARE",
       "sat-info-18-no-sharing-privileges"),
    _d("INFO-38", "Third-party library control", "artifact allowlists for Maven coordinates and JARs "
       "(securityPosture.artifactAllowlist)", "sat-info-38-artifact-allowlist", scope="metastore",
       needs=("databricks:index/artifactAllowlist:ArtifactAllowlist",),
       gap="artifact allowlists are metastore-wide: the protected stack of the region declares them"),
    _d("INFO-39", "Compliance security profile", "workspace complianceSecurityProfile Enabled "
       "(workspaceSecurity.enhancedSecurityCompliance)", "sat-info-39-compliance-profile"),
    _d("INFO-40", "Enhanced security monitoring", "workspace enhancedSecurityMonitoring Enabled (its own setting)",
       "sat-info-40-enhanced-security-monitoring", relaxable=True),
    _d("INFO-42", "Git repository allowlist", "workspace-conf enableProjectsAllowList true with "
       "securityPosture.gitUrlAllowlist", "sat-info-42-git-url-allowlist", relaxable=True),
    # --- network security ---
    _d("NS-3", "Front-end private connectivity", "workspace publicNetworkAccess Disabled (private front end)",
       "databricks-workspace-public-network-disabled"),
    _d("NS-4", "VNet injection", "workspace in the stack's VNet", "databricks-workspace-vnet-injected"),
    _d("NS-5", "IP access lists for workspace access", "an enabled ALLOW list (workspaceSecurity.ipAccessList); "
       "with a private front end a second gate should the public one ever be opened",
       "sat-ns-5-workspace-ip-access-list"),
    _d("NS-6", "Secure cluster connectivity (no public IP)", "workspace enableNoPublicIp",
       "databricks-workspace-no-public-ip"),
    _d("NS-7", "Secure model serving endpoints", "serving behind a private front end or an IP access list",
       "sat-ns-7-serving-endpoints-not-public"),
    _d("NS-8", "IP access lists for the account console", "", scope="account",
       gap="the Databricks provider has no resource for account console IP access lists (only the "
       "workspace-level databricks_ip_access_list); an account admin sets them once for the whole account"),
    _d("NS-9", "Serverless network policy restricted and enforced", "account network policy, RESTRICTED_ACCESS "
       "egress, ENFORCED, bound to the workspace (securityPosture.egressAllowlist)",
       "sat-ns-9-serverless-egress-restricted", relaxable=True),
    _d("NS-11", "Workspace IP access list enforcement enabled", "workspace-conf enableIpAccessLists true",
       "sat-ns-11-ip-access-lists-enforced"),
    _d("NS-12", "Context-based ingress policy", "the network policy's public ingress RESTRICTED_ACCESS",
       "sat-ns-12-context-based-ingress", relaxable=True),
    _d("NS-13", "Account console IP access list enforcement", "", scope="account",
       gap="as NS-8: account console IP access lists have no provider resource; set once by an account admin"),
    _d("NS-14", "Egress control from compute", "the Databricks subnets route 0.0.0.0/0 to the hub's Azure Firewall "
       "(network.egress firewall), whose rules allow the service tags and securityPosture.egressAllowlist only",
       "sat-ns-14-classic-egress-controlled", needs=(ROUTE_TABLE,),
       gap="classic clusters reach the internet through the NAT gateway (network.egress natGateway: no hub firewall "
       "here); serverless is restricted (NS-9), but SAT's test also runs from classic compute"),
    # --- runtime: data, usage and objects made after the deploy ---
    _r("GOV-2", "PAT tokens about to expire", "reads the expiry of tokens people created"),
    _r("GOV-4", "Long-running clusters", "reads how long running clusters have gone without a restart (the "
       "policies' auto-termination and automatic cluster update limit it)"),
    _r("GOV-10", "Managed tables in DBFS root", "reads data under /user/hive/warehouse (DP-10 stops new ones)"),
    _r("GOV-11", "DBFS mounts", "reads existing mounts (DP-10 stops new ones)"),
    _r("GOV-25", "Init scripts stored in DBFS", "reads files under DBFS /databricks/init (cluster-no-dbfs-init-scripts "
       "and DP-10 stop new ones)"),
    _r("IA-4", "PAT tokens with no lifetime limit", "reads existing tokens (IA-5 limits new ones)"),
    _r("IA-6", "Tokens exceeding the workspace maximum", "reads tokens created before the limit (IA-5)"),
    _r("INFO-3", "Global libraries", "reads libraries people install on clusters"),
    _r("INFO-5", "Global init scripts", "reads global init scripts an admin adds"),
    _r("INFO-6", "Number of admins", "reads the membership of the admins group"),
    _r("INFO-29", "External model endpoints for LLM providers", "reads whether an external-model endpoint exists: a "
       "product choice, not a security setting (this platform serves its own models)"),
    _r("DP-14", "Vector search endpoints for embeddings", "reads whether a vector search endpoint exists: a product "
       "choice (this platform has no embeddings workload)"),
)

BY_ID: dict[str, SatCheck] = {c.id: c for c in CHECKS}
DEPLOY_TIME: tuple[SatCheck, ...] = tuple(c for c in CHECKS if c.kind == "deploy")
RUNTIME: tuple[SatCheck, ...] = tuple(c for c in CHECKS if c.kind == "runtime")
RELAXABLE: tuple[str, ...] = tuple(c.id for c in CHECKS if c.relaxable)

# The workspace-conf keys SAT reads (notebooks/Includes/workspace_settings.py) that are a plain true/false:
# (check id, key, the value that meets the check). Key names as terraform-provider-databricks
# exporter/context.go lists them (workspaceConfKeys).
WORKSPACE_CONF_FLAGS: tuple[tuple[str, str, bool], ...] = (
    ("DP-5", "enableResultsDownloading", False),
    ("DP-6", "enableExportNotebook", False),
    ("DP-7", "enableNotebookTableClipboard", False),
    ("DP-8", "storeInteractiveNotebookResultsInCustomerAccount", True),
    ("DP-9", "enableFileStoreEndpoint", False),
    ("DP-13", "enableDbfsFileBrowser", False),
    ("GOV-15", "enableVerboseAuditLogs", True),
    ("INFO-8", "enableJobViewAcls", True),
    ("INFO-9", "enforceClusterViewAcls", True),
    ("INFO-10", "enforceWorkspaceViewAcls", True),
    ("INFO-11", "enableProjectTypeInWorkspace", True),
)
TOKEN_LIFETIME_KEY = "maxTokenLifetimeDays"  # IA-5: a positive number of days
GIT_ALLOWLIST_KEYS = ("enableProjectsAllowList", "projectsAllowList")  # INFO-42: "true" and comma-separated prefixes
IP_LISTS_KEY = "enableIpAccessLists"  # NS-11 (set with the lists: infra/components/front_end_access.py)


def conf_value(value: bool) -> str:
    return "true" if value else "false"
