"""The Security Analysis Tool's deploy-time checks as rules: each names the SAT check id it enforces.

infra/sat.py is the table (check -> setting -> rule); each rule here reads the plan the way SAT reads the live
workspace (databricks-industry-solutions/security-analysis-tool notebooks/Includes/workspace_settings.py and
workspace_analysis.py): the same keys, the same passing values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import (
    FIRST_DEPLOY,
    Finding,
    ResourceView,
    eq,
    get,
    is_unknown,
    items,
    resource_rule,
    shown,
    stack_rule,
    unknown,
)
from infra.policy.rules.databricks import grant_entries
from infra.policy.rules.stack import label, of_type, refers
from infra.sat import BY_ID, GIT_ALLOWLIST_KEYS, IP_LISTS_KEY, TOKEN_LIFETIME_KEY, WORKSPACE_CONF_FLAGS, conf_value

Result = Iterator[Finding]
Views = Sequence[ResourceView]

_SAT = "databricks-industry-solutions/security-analysis-tool configs/security_best_practices.csv"
ACCOUNT_NETWORK_POLICY = "databricks:index/accountNetworkPolicy:AccountNetworkPolicy"
WORKSPACE_NETWORK_OPTION = "databricks:index/workspaceNetworkOption:WorkspaceNetworkOption"
RESTRICT_ADMINS = "databricks:index/restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting"
SETTING_V2 = "databricks:index/workspaceSettingV2:WorkspaceSettingV2"
LEGACY_FEATURES = "databricks:index/disableLegacyFeaturesSetting:DisableLegacyFeaturesSetting"
LEGACY_DBFS = "databricks:index/disableLegacyDbfsSetting:DisableLegacyDbfsSetting"
ARTIFACT_ALLOWLIST = "databricks:index/artifactAllowlist:ArtifactAllowlist"
PERMISSIONS = "databricks:index/permissions:Permissions"
RECIPIENT = "databricks:index/recipient:Recipient"
ROUTE_TABLE = "azure-native:network:RouteTable"
ROUTE = "azure-native:network:Route"
RULE_COLLECTION_GROUP = "azure-native:network:FirewallPolicyRuleCollectionGroup"
DATABRICKS_DELEGATION = "Microsoft.Databricks/workspaces"
# Next hops that hand 0.0.0.0/0 to something that filters it: an appliance (the hub's Azure Firewall, as the SRA's
# `to-firewall` route) or the VNet gateway (forced tunnelling to an on-premises proxy).
CONTROLLED_HOPS = ("VirtualAppliance", "VirtualNetworkGateway")
# Destinations that allow the whole internet through a firewall rule.
_ANYWHERE = {"*", "0.0.0.0/0", "internet", "any"}

# Delta Sharing recipient tokens at most this long (SAT GOV-17's default threshold, in days).
MAX_SHARING_TOKEN_DAYS = 90
# Databricks' limit for maxTokenLifetimeDays (Microsoft Learn, "Monitor and manage personal access tokens").
MAX_TOKEN_DAYS = 730


# --- workspace-conf ---------------------------------------------------------------------------------

def conf_values(views: Views, key: str) -> list[tuple[ResourceView, Any]]:
    """(WorkspaceConf, value) for every WorkspaceConf that sets `key`."""
    out = []
    for conf in of_type(views, T.WORKSPACE_CONF):
        custom = get(conf.props, "customConfig")
        if is_unknown(custom):
            out.append((conf, custom))
        elif isinstance(custom, Mapping) and key in custom:
            value = custom[key]
            out.append((conf, str(value).lower() if isinstance(value, bool) else value))
    return out


def _conf_flag(views: Views, check: str, key: str, wanted: bool) -> Result:
    value = conf_value(wanted)
    found = conf_values(views, key)
    if not found:
        yield Finding(f"no WorkspaceConf sets {key}; SAT {check} passes only with {key} {value!r}")
    for conf, have in found:
        if is_unknown(have):
            yield unknown(f"customConfig.{key}", conf.urn)
        elif have != value:
            yield Finding(f"{label(conf)} sets {key} {shown(have)}; SAT {check} needs {value!r}", conf.urn)


def _register_flag(check: str, key: str, wanted: bool) -> None:
    stack_rule(BY_ID[check].rules[0], "medium", f"A WorkspaceConf sets {key} to {conf_value(wanted)!r} (SAT {check}).",
               source=f"{_SAT} ({check}); notebooks/Includes/workspace_settings.py")(
        lambda views, _settings: _conf_flag(views, check, key, wanted))


for _check, _key, _wanted in WORKSPACE_CONF_FLAGS:
    _register_flag(_check, _key, _wanted)


@stack_rule("sat-ia-5-token-lifetime-limited", "medium",
            f"A WorkspaceConf limits new personal access tokens to 1-{MAX_TOKEN_DAYS} days (SAT IA-5).",
            source=f"{_SAT} (IA-5: maxTokenLifetimeDays > 0)")
def token_lifetime(views: Views, _: Mapping[str, Any]) -> Result:
    found = conf_values(views, TOKEN_LIFETIME_KEY)
    if not found:
        yield Finding(f"no WorkspaceConf sets {TOKEN_LIFETIME_KEY}: new tokens may live forever (SAT IA-5)")
    for conf, have in found:
        if is_unknown(have):
            yield unknown(f"customConfig.{TOKEN_LIFETIME_KEY}", conf.urn)
        elif not (isinstance(have, str) and have.isdigit() and 1 <= int(have) <= MAX_TOKEN_DAYS):
            yield Finding(f"{label(conf)} sets {TOKEN_LIFETIME_KEY} {shown(have)}; SAT IA-5 needs a number of days "
                          f"from 1 to {MAX_TOKEN_DAYS}", conf.urn)


@stack_rule("sat-info-42-git-url-allowlist", "medium",
            "A WorkspaceConf turns on the Git URL allowlist with at least one prefix (SAT INFO-42).",
            source=f"{_SAT} (INFO-42: enableProjectsAllowList true, projectsAllowList)")
def git_allowlist(views: Views, _: Mapping[str, Any]) -> Result:
    enable, prefixes = GIT_ALLOWLIST_KEYS
    yield from _conf_flag(views, "INFO-42", enable, True)
    for conf, have in conf_values(views, enable):
        listed = {c.urn: v for c, v in conf_values(views, prefixes)}.get(conf.urn)
        if have == "true" and not is_unknown(listed) and not (isinstance(listed, str) and listed.strip(",")):
            yield Finding(f"{label(conf)} turns on the Git URL allowlist with no {prefixes}: every clone is "
                          "refused; list the prefixes (securityPosture.gitUrlAllowlist)", conf.urn)


@stack_rule("sat-ns-11-ip-access-lists-enforced", "medium",
            "A WorkspaceConf turns on IP access list enforcement (SAT NS-11).", source=f"{_SAT} (NS-11)")
def ip_lists_enforced(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _conf_flag(views, "NS-11", IP_LISTS_KEY, True)


@stack_rule("sat-ns-5-workspace-ip-access-list", "medium",
            "The workspace has an enabled ALLOW IP access list (SAT NS-5); with a private front end it is the second "
            "gate should the public one be opened.", source=f"{_SAT} (NS-5: an enabled list exists)")
def workspace_ip_list(views: Views, _: Mapping[str, Any]) -> Result:
    lists = [v for v in of_type(views, T.IP_ACCESS_LIST)
             if eq(v.get("listType"), "ALLOW") and v.get("enabled") is not False and items(v.get("ipAddresses"))]
    if not lists:
        yield Finding("no enabled ALLOW IP access list (workspaceSecurity.ipAccessList); SAT NS-5 needs one")


# --- settings of their own --------------------------------------------------------------------------

def _one(views: Views, typ: str, what: str, check: str) -> Iterator[ResourceView | Finding]:
    found = of_type(views, typ)
    if not found:
        yield Finding(f"no {typ.rsplit(':', 1)[-1]} is declared; SAT {check} needs {what}")
    yield from found


def _setting(views: Views, typ: str, path: str, wanted: Any, what: str, check: str) -> Result:
    for item in _one(views, typ, what, check):
        if isinstance(item, Finding):
            yield item
            continue
        have = get(item.props, path)
        if is_unknown(have):
            yield unknown(path, item.urn)
        elif have != wanted:
            yield Finding(f"{label(item)} sets {path} {shown(have)}; SAT {check} needs {shown(wanted)}", item.urn)


@stack_rule("sat-dp-1-secret-scope", "low", "Secrets live in a Key Vault-backed secret scope (SAT DP-1).",
            source=f"{_SAT} (DP-1)")
def secret_scope(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _setting(views, T.SECRET_SCOPE, "backendType", "AZURE_KEYVAULT", "a Key Vault-backed scope", "DP-1")


@stack_rule("sat-dp-10-legacy-dbfs-off", "medium", "The DBFS root and mounts are disabled (SAT DP-10).",
            source=f"{_SAT} (DP-10: disable_legacy_dbfs enabled)")
def legacy_dbfs(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _setting(views, LEGACY_DBFS, "disableLegacyDbfs.value", True, "disable_legacy_dbfs on", "DP-10")


@stack_rule("sat-dp-11-sql-results-download-off", "medium",
            "Settings v2 sql_results_download is false: users cannot download SQL results (SAT DP-11).",
            source=f"{_SAT} (DP-11: boolean_val.value false)")
def sql_results_download(views: Views, _: Mapping[str, Any]) -> Result:
    mine = [v for v in of_type(views, SETTING_V2) if v.get("name") == "sql_results_download"]
    yield from _setting(mine, SETTING_V2, "booleanVal.value", False, "sql_results_download false", "DP-11")


@stack_rule("sat-gov-35-restrict-workspace-admins", "medium",
            "Workspace admins are restricted: RESTRICT_TOKENS_AND_JOB_RUN_AS (SAT GOV-35).",
            source=f"{_SAT} (GOV-35: not ALLOW_ALL)")
def restrict_admins(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _setting(views, RESTRICT_ADMINS, "restrictWorkspaceAdmins.status", "RESTRICT_TOKENS_AND_JOB_RUN_AS",
                        "the restricted status", "GOV-35")


@stack_rule("sat-gov-37-legacy-features-off", "high",
            "The account disables legacy features for new workspaces (SAT GOV-37); declared by one stack.",
            source=f"{_SAT} (GOV-37: disable_legacy_features value true)")
def legacy_features(views: Views, _: Mapping[str, Any]) -> Result:
    for item in of_type(views, LEGACY_FEATURES):
        have = get(item.props, "disableLegacyFeatures.value")
        if is_unknown(have):
            yield unknown("disableLegacyFeatures.value", item.urn)
        elif have is not True:
            yield Finding(f"{label(item)} sets disableLegacyFeatures.value {shown(have)}; SAT GOV-37 needs true",
                          item.urn)


@stack_rule("sat-gov-34-audit-system-table", "high",
            "Where system schemas are enabled, `access` (system.access.audit) is among them (SAT GOV-34).",
            source=f"{_SAT} (GOV-34: the access schema is enabled)")
def audit_system_table(views: Views, _: Mapping[str, Any]) -> Result:
    schemas = of_type(views, T.SYSTEM_SCHEMA)
    names = {s.get("schema") for s in schemas}
    if schemas and "access" not in names and not any(is_unknown(n) for n in names):
        yield Finding(f"system schemas {sorted(map(str, names))} leave out 'access' (system.access.audit); "
                      "SAT GOV-34 needs it")


@stack_rule("sat-info-38-artifact-allowlist", "low",
            "Artifact allowlists list Maven coordinates or JAR paths (SAT INFO-38).",
            source=f"{_SAT} (INFO-38: LIBRARY_JAR / LIBRARY_MAVEN allowlists with artifacts)")
def artifact_allowlist(views: Views, _: Mapping[str, Any]) -> Result:
    for item in of_type(views, ARTIFACT_ALLOWLIST):
        kind = item.get("artifactType")
        matchers = items(item.get("artifactMatchers"))
        if kind not in ("LIBRARY_MAVEN", "LIBRARY_JAR", "INIT_SCRIPT") and not is_unknown(kind):
            yield Finding(f"{label(item)} has artifactType {shown(kind)}", item.urn)
        elif not matchers:
            yield Finding(f"{label(item)} lists no artifacts; SAT INFO-38 needs at least one", item.urn)


def _workspace_param(views: Views, path: str, check: str, what: str) -> Result:
    for ws in of_type(views, T.WORKSPACE):
        have = get(ws.props, path)
        if is_unknown(have):
            yield unknown(path, ws.urn)
        elif not eq(have, "Enabled"):
            yield Finding(f"{label(ws)} sets {path} {shown(have)}; SAT {check} needs {what} 'Enabled'", ws.urn)


@stack_rule("sat-gov-36-automatic-cluster-update", "medium",
            "The workspace has automatic cluster update on, as its own setting (SAT GOV-36).",
            source=f"{_SAT} (GOV-36); ARM Microsoft.Databricks/workspaces enhancedSecurityCompliance")
def automatic_cluster_update(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _workspace_param(views, "enhancedSecurityCompliance.automaticClusterUpdate.value", "GOV-36",
                                "automatic cluster update")


@stack_rule("sat-info-40-enhanced-security-monitoring", "low",
            "The workspace has enhanced security monitoring on, as its own setting (SAT INFO-40).",
            source=f"{_SAT} (INFO-40); ARM Microsoft.Databricks/workspaces enhancedSecurityCompliance")
def enhanced_security_monitoring(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _workspace_param(views, "enhancedSecurityCompliance.enhancedSecurityMonitoring.value", "INFO-40",
                                "enhanced security monitoring")


@stack_rule("sat-info-39-compliance-profile", "low",
            "The workspace runs the compliance security profile (SAT INFO-39).",
            source=f"{_SAT} (INFO-39); ARM Microsoft.Databricks/workspaces enhancedSecurityCompliance")
def compliance_profile(views: Views, _: Mapping[str, Any]) -> Result:
    yield from _workspace_param(views, "enhancedSecurityCompliance.complianceSecurityProfile.value", "INFO-39",
                                "the compliance security profile")


@stack_rule("sat-ia-8-token-creation-restricted", "medium",
            "Token permissions are declared and never give the `users` group CAN_USE (SAT IA-8).",
            source=f"{_SAT} (IA-8: `users` not in /permissions/authorization/tokens)")
def token_creation(views: Views, _: Mapping[str, Any]) -> Result:
    tokens = [p for p in of_type(views, PERMISSIONS) if p.get("authorization") == "tokens"]
    if not tokens:
        yield Finding("no Permissions for authorization 'tokens': every workspace user may create personal access "
                      "tokens (SAT IA-8)")
    for perm in tokens:
        for control in items(perm.get("accessControls")):
            if isinstance(control, Mapping) and control.get("groupName") == "users":
                yield Finding(f"{label(perm)} gives the users group {shown(control.get('permissionLevel'))}; "
                              "SAT IA-8 allows token creation to admins and service principals only", perm.urn)


@stack_rule("sat-gov-16-metastore-assigned", "high",
            "The workspace is assigned a Unity Catalog metastore (SAT GOV-16, GOV-20).",
            source=f"{_SAT} (GOV-16, GOV-20)")
def metastore_assigned(views: Views, _: Mapping[str, Any]) -> Result:
    for item in _one(views, T.METASTORE_ASSIGNMENT, "a metastore assignment", "GOV-16"):
        if isinstance(item, Finding):
            yield item
        elif item.get("metastoreId") in (None, ""):
            yield Finding(f"{label(item)} names no metastore", item.urn)


@stack_rule("sat-ns-7-serving-endpoints-not-public", "high",
            "Serving endpoints sit behind a private front end or an IP access list (SAT NS-7).",
            source=f"{_SAT} (NS-7: IP access list or private link when endpoints exist)")
def serving_not_public(views: Views, _: Mapping[str, Any]) -> Result:
    if not of_type(views, T.MODEL_SERVING):
        return
    private = any(eq(get(w.props, "publicNetworkAccess"), "Disabled") for w in of_type(views, T.WORKSPACE))
    listed = any(eq(v.get("listType"), "ALLOW") for v in of_type(views, T.IP_ACCESS_LIST))
    if not (private or listed):
        yield Finding("serving endpoints are reachable from the whole internet: no private front end "
                      "(workspace.publicNetworkAccess) and no IP access list (SAT NS-7)")


# --- the serverless perimeter ------------------------------------------------------------------------

def _policies(views: Views) -> dict[Any, ResourceView]:
    return {p.get("networkPolicyId"): p for p in of_type(views, ACCOUNT_NETWORK_POLICY)}


def _bound_policy(views: Views, check: str) -> Iterator[ResourceView | Finding]:
    options = of_type(views, WORKSPACE_NETWORK_OPTION)
    if not options:
        yield Finding(f"no WorkspaceNetworkOption binds the workspace to a network policy: it uses the account's "
                      f"default-policy (SAT {check})")
    policies = _policies(views)
    for option in options:
        wanted = option.get("networkPolicyId")
        policy = policies.get(wanted) or next(
            (p for p in policies.values() if p.urn in option.dependencies), None)
        if policy is None:
            yield Finding(f"{label(option)} binds network policy {shown(wanted)}, which this stack does not declare "
                          f"(SAT {check} reads the bound policy)", option.urn)
        else:
            yield policy


@stack_rule("sat-ns-9-serverless-egress-restricted", "high",
            "The workspace is bound to a network policy whose serverless egress is RESTRICTED_ACCESS and ENFORCED "
            "(SAT NS-9); DRY_RUN only on a first deploy, the rollout's first step.",
            source=f"{_SAT} (NS-9); terraform-provider-databricks docs/resources/account_network_policy.md")
def serverless_egress(views: Views, settings: Mapping[str, Any]) -> Result:
    base = "egress.networkAccess"
    # A first deploy rolls the policy out in DRY_RUN: it logs what it would block, the next `up` enforces.
    dry_run_ok = bool(settings.get(FIRST_DEPLOY))
    for item in _bound_policy(views, "NS-9"):
        if isinstance(item, Finding):
            yield item
            continue
        mode = get(item.props, f"{base}.restrictionMode")
        enforcement = get(item.props, f"{base}.policyEnforcement.enforcementMode")
        if is_unknown(mode) or is_unknown(enforcement):
            yield unknown(f"{base}.restrictionMode", item.urn)
        elif mode != "RESTRICTED_ACCESS":
            yield Finding(f"{label(item)} has egress restrictionMode {shown(mode)}: serverless compute reaches any "
                          "destination (SAT NS-9 needs RESTRICTED_ACCESS)", item.urn)
        elif enforcement not in (None, "ENFORCED") and not (dry_run_ok and enforcement == "DRY_RUN"):
            # unset: ENFORCED (the provider's documented default)
            yield Finding(f"{label(item)} runs egress {shown(enforcement)}: violations are only logged (SAT NS-9 "
                          "needs ENFORCED once the dry run is clean)", item.urn)


@stack_rule("sat-ns-12-context-based-ingress", "high",
            "The bound network policy restricts public ingress (ingress or ingress_dry_run RESTRICTED_ACCESS; "
            "SAT NS-12).", source=f"{_SAT} (NS-12)")
def context_based_ingress(views: Views, _: Mapping[str, Any]) -> Result:
    for item in _bound_policy(views, "NS-12"):
        if isinstance(item, Finding):
            yield item
            continue
        modes = [get(item.props, f"{field}.publicAccess.restrictionMode") for field in ("ingress", "ingressDryRun")]
        if any(is_unknown(m) for m in modes):
            yield unknown("ingress.publicAccess.restrictionMode", item.urn)
        elif "RESTRICTED_ACCESS" not in modes:
            yield Finding(f"{label(item)} does not restrict public ingress (SAT NS-12 needs publicAccess "
                          "RESTRICTED_ACCESS)", item.urn)


# --- resources that must never be declared the SAT-failing way ----------------------------------------

@resource_rule("sat-dp-2-local-disk-encryption", "low",
               "Cluster policies fix enable_local_disk_encryption true (SAT DP-2).", [T.CLUSTER_POLICY],
               source=f"{_SAT} (DP-2); compute policy reference")
def local_disk_encryption(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    raw = res.get("definition")
    if is_unknown(raw):
        yield unknown("definition")
        return
    try:
        definition = json.loads(raw) if isinstance(raw, str) else {}
    except json.JSONDecodeError:
        yield "definition is not JSON"
        return
    attr = definition.get("enable_local_disk_encryption") or {}
    if attr.get("type") != "fixed" or attr.get("value") is not True:
        yield f"definition does not fix enable_local_disk_encryption true (has {shown(attr or None)}); SAT DP-2"


@resource_rule("sat-gov-17-delta-sharing-token-lifetime", "high",
               f"A declared metastore keeps Delta Sharing internal, or limits recipient tokens to "
               f"{MAX_SHARING_TOKEN_DAYS} days (SAT GOV-17).", [T.METASTORE], source=f"{_SAT} (GOV-17)")
def sharing_token_lifetime(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    scope = res.get("deltaSharingScope")
    seconds = res.get("deltaSharingRecipientTokenLifetimeInSeconds")
    if is_unknown(scope) or is_unknown(seconds):
        yield unknown("deltaSharingScope")
    elif scope == "INTERNAL_AND_EXTERNAL" and not (isinstance(seconds, int) and
                                                   0 < seconds <= MAX_SHARING_TOKEN_DAYS * 86400):
        yield (f"deltaSharingScope INTERNAL_AND_EXTERNAL with a token lifetime of {shown(seconds)} seconds; SAT GOV-17 "
               f"needs at most {MAX_SHARING_TOKEN_DAYS} days ({MAX_SHARING_TOKEN_DAYS * 86400} seconds)")


@resource_rule("sat-delta-sharing-no-token-recipients", "high",
               "Delta Sharing recipients authenticate with DATABRICKS, never bearer tokens (SAT GOV-18, GOV-19).",
               [RECIPIENT], source=f"{_SAT} (GOV-18, GOV-19: TOKEN recipients without IP lists / expiry)")
def no_token_recipients(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    kind = res.get("authenticationType")
    if is_unknown(kind):
        yield unknown("authenticationType")
    elif kind != "DATABRICKS":
        yield f"authenticationType {shown(kind)}; SAT GOV-18/GOV-19 flag TOKEN recipients (use DATABRICKS)"


@resource_rule("sat-info-18-no-sharing-privileges", "low",
               "Nobody is granted CREATE_RECIPIENT or CREATE_SHARE on the metastore (SAT INFO-18).",
               [T.GRANTS, T.GRANT], source=f"{_SAT} (INFO-18)")
def no_sharing_privileges(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    for principal, privileges in grant_entries(res):
        bad = sorted({str(p).upper() for p in privileges if isinstance(p, str)} & {"CREATE_RECIPIENT", "CREATE_SHARE"})
        if bad:
            yield f"{shown(principal)} is granted {', '.join(bad)}; SAT INFO-18 flags Delta Sharing creators"


@resource_rule("sat-gov-42-jobs-run-as-service-principal", "medium",
               "Jobs run as a service principal, never as a user (SAT GOV-42).", [T.JOB], source=f"{_SAT} (GOV-42)")
def jobs_run_as_sp(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    user = res.get("runAs.userName")
    if is_unknown(user):
        yield unknown("runAs.userName")
    elif user:
        yield f"runAs.userName {shown(user)}: the job runs as a person (SAT GOV-42); use servicePrincipalName"
    elif not res.get("runAs.servicePrincipalName"):
        yield "no runAs.servicePrincipalName: the job runs as its creator (SAT GOV-42)"


@resource_rule("sat-gov-45-job-manage-admins-only", "high",
               "Job permissions give CAN_MANAGE to the admin groups and service principals only (SAT GOV-45).",
               [PERMISSIONS], source=f"{_SAT} (GOV-45)",
               config_schema={"adminGroups": {"type": "array", "items": {"type": "string"},
                                              "description": "groups that may hold CAN_MANAGE on jobs"}},
               defaults={"adminGroups": ["mlops-platform-admins"]})
def job_manage(res: ResourceView, settings: Mapping[str, Any]) -> Iterator[Finding | str]:
    if res.get("jobId") is None:
        return
    admins = {str(a) for a in settings.get("adminGroups") or []}
    for control in items(res.get("accessControls")):
        if not isinstance(control, Mapping) or control.get("permissionLevel") != "CAN_MANAGE":
            continue
        if control.get("userName"):
            yield f"user {control['userName']!r} holds CAN_MANAGE on the job (SAT GOV-45)"
        elif control.get("groupName") and control["groupName"] not in admins:
            yield f"group {control['groupName']!r} holds CAN_MANAGE on the job; only {sorted(admins)} may (SAT GOV-45)"


# --- classic compute's egress ------------------------------------------------------------------------

def databricks_subnets(views: Views) -> list[ResourceView]:
    return [v for v in of_type(views, T.SUBNET)
            if any(isinstance(d, Mapping) and eq(d.get("serviceName"), DATABRICKS_DELEGATION)
                   for d in items(v.get("delegations")))]


def route_table(subnet: ResourceView, tables: Sequence[ResourceView]) -> ResourceView | None:
    """The declared route table the subnet uses: by id when known, else the one it depends on."""
    wanted = subnet.get("routeTable.id")
    if not wanted and not is_unknown(wanted):
        return None
    return next((table for table in tables if refers(subnet, wanted, table)), None)


def routes(table: ResourceView, views: Views) -> list[Mapping[str, Any]]:
    """Inline routes, and Route resources declared into the table (by name, or depending on it)."""
    inline = [r for r in items(table.get("routes")) if isinstance(r, Mapping)]
    separate = [r.props for r in of_type(views, ROUTE)
                if table.urn in r.dependencies or (r.get("routeTableName") is not None
                                                    and r.get("routeTableName") == table.get("routeTableName"))]
    return inline + separate


def _open_rules(group: ResourceView) -> Iterator[str]:
    for collection in items(group.get("ruleCollections")):
        if not isinstance(collection, Mapping) or not eq(get(collection, "action.type"), "Allow"):
            continue
        for rule in items(collection.get("rules")):
            if not isinstance(rule, Mapping):
                continue
            targets = [*items(rule.get("targetFqdns")), *items(rule.get("destinationAddresses")),
                       *items(rule.get("destinationFqdns"))]
            if any(isinstance(t, str) and t.lower() in _ANYWHERE for t in targets):
                yield f"{collection.get('name')}/{rule.get('name')}"


@stack_rule("sat-ns-14-classic-egress-controlled", "high",
            "Where the Databricks subnets route 0.0.0.0/0 through a firewall, every one does, none keeps a NAT "
            "gateway, and this stack's firewall rules allow no 'anywhere' destination (SAT NS-14, egress control from "
            "compute).",
            source=f"{_SAT} (NS-14: public destinations unreachable from compute); Microsoft Learn, \"User-defined "
                   "route settings for Azure Databricks\"; databricks/terraform-databricks-sra "
                   "azure/tf/modules/hub/firewall.tf")
def classic_egress_controlled(views: Views, _: Mapping[str, Any]) -> Result:
    # Without a route table the check is not met by this plan (infra/sat.py needs): clusters use the NAT gateway.
    tables = of_type(views, ROUTE_TABLE)
    if not tables:
        return
    for subnet in databricks_subnets(views):
        nat = subnet.get("natGateway.id")
        if nat or is_unknown(nat):
            yield Finding(f"{label(subnet)} keeps a NAT gateway: a way out beside the firewall (SAT NS-14)", subnet.urn)
        table = route_table(subnet, tables)
        if table is None:
            yield Finding(f"{label(subnet)} uses no route table this stack declares: its nodes leave through the "
                          "default route to the internet (SAT NS-14)", subnet.urn)
            continue
        default = [r for r in routes(table, views) if r.get("addressPrefix") == "0.0.0.0/0"]
        hops = [get(r, "nextHopType") for r in default]
        if any(is_unknown(h) for h in hops):
            yield unknown("routes.nextHopType", table.urn)
        elif not any(h in CONTROLLED_HOPS for h in hops):
            yield Finding(f"{label(table)} of {label(subnet)} sends 0.0.0.0/0 to {shown(hops[0] if hops else None)}; "
                          f"SAT NS-14 needs it through a firewall ({' or '.join(CONTROLLED_HOPS)})", table.urn)
    for group in of_type(views, RULE_COLLECTION_GROUP):
        for where in _open_rules(group):
            yield Finding(f"{label(group)} rule {where} allows any destination: the firewall no longer controls "
                          "egress (SAT NS-14)", group.urn)
