"""The security posture: SAT's deploy-time checks as settings, rules, coverage and a live re-read.

Protects: the catalogue matches SAT's own check list; every setting lands in each stack's plan with the value
its check needs (or the relaxed one, with a reason); each SAT rule fails its violating case and passes its
compliant one; prod meets at least 45 of the 49 deploy-time checks; verify re-reads the workspace-conf keys.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.policy.enforcement import load_config
from infra.policy.offline import check_plan
from infra.policy.rules import RULES_BY_NAME
from infra.policy.rules import types as T
from infra.sat import BY_ID, CHECKS, DEPLOY_TIME, RELAXABLE, RUNTIME, WORKSPACE_CONF_FLAGS
from mlopsctl.reports.sat_coverage import ELSEWHERE, MET, NOT_MET, RELAXED, coverage, summary
from tests.support import STACKS, config_problems, first_deploy_plan_of, plan_of, stack_raw, with_changes

# SAT configs/security_best_practices.csv at d4355dc: the rows with azure=1 and enable=1.
SAT_AZURE_ENABLED = {
    "DP-1", "DP-2", "DP-5", "GOV-2", "GOV-3", "GOV-4", "GOV-5", "GOV-10", "GOV-11", "GOV-12", "IA-4", "INFO-3",
    "INFO-5", "INFO-6", "INFO-8", "INFO-9", "INFO-10", "INFO-11", "NS-3", "NS-4", "NS-5", "IA-5", "NS-6", "IA-6",
    "DP-6", "DP-7", "DP-8", "GOV-15", "DP-9", "GOV-16", "GOV-17", "GOV-18", "GOV-19", "GOV-20", "GOV-21", "INFO-18",
    "GOV-25", "GOV-28", "NS-7", "INFO-29", "DP-14", "INFO-38", "GOV-34", "GOV-35", "GOV-36", "INFO-39", "INFO-40",
    "NS-8", "NS-9", "GOV-37", "INFO-42", "DP-10", "DP-11", "DP-13", "GOV-42", "IA-8", "NS-11", "NS-12", "NS-13",
    "GOV-45", "NS-14"}

NETWORK_POLICY = "databricks:index/accountNetworkPolicy:AccountNetworkPolicy"
NETWORK_OPTION = "databricks:index/workspaceNetworkOption:WorkspaceNetworkOption"
PERMISSIONS = "databricks:index/permissions:Permissions"
RESTRICT = "databricks:index/restrictWorkspaceAdminsSetting:RestrictWorkspaceAdminsSetting"
RULE_SET = "databricks:index/accessControlRuleSet:AccessControlRuleSet"


def of_type(doc: dict[str, Any], typ: str) -> list[dict[str, Any]]:
    return [r for r in doc["resources"] if r["type"] == typ]


def by_name(doc: dict[str, Any], name: str) -> dict[str, Any]:
    (res,) = [r for r in doc["resources"] if r["name"] == name and r["custom"]]
    return res


def findings(doc: dict[str, Any], rule: str) -> list[str]:
    return [v.message for v in check_plan(doc).verdicts if v.rule == rule]


# --- the catalogue --------------------------------------------------------------------------------------

def test_the_catalogue_is_sats_azure_list_split_49_deploy_time_and_12_runtime() -> None:
    assert {c.id for c in CHECKS} == SAT_AZURE_ENABLED
    assert len(CHECKS) == len(SAT_AZURE_ENABLED) == 61
    assert (len(DEPLOY_TIME), len(RUNTIME)) == (49, 12)


def test_every_rule_the_catalogue_names_is_registered_and_names_its_check() -> None:
    for check in CHECKS:
        for name in check.rules:
            rule = RULES_BY_NAME[name]
            if name.startswith("sat-"):
                assert check.id in f"{rule.description} {rule.source}", (check.id, name)
    sat_rules = {r for r in RULES_BY_NAME if r.startswith("sat-")}
    assert sat_rules == {r for c in CHECKS for r in c.rules if r.startswith("sat-")}, "a sat- rule no check names"


def test_a_check_without_a_rule_says_why_and_relaxable_checks_have_rules_of_their_own() -> None:
    for check in DEPLOY_TIME:
        if not check.rules or check.needs:
            assert check.gap, check.id
    for check_id in RELAXABLE:
        assert all(r.startswith("sat-") for r in BY_ID[check_id].rules), check_id


# --- coverage per stack ---------------------------------------------------------------------------------

# stack -> (met, {check: status} for every deploy-time check that is not met)
EXPECTED: dict[str, tuple[int, dict[str, str]]] = {
    "dev": (36, {"DP-10": RELAXED, "GOV-36": RELAXED, "INFO-39": RELAXED, "INFO-40": RELAXED, "NS-3": RELAXED,
                 "GOV-17": ELSEWHERE, "GOV-34": ELSEWHERE, "GOV-37": ELSEWHERE, "INFO-38": ELSEWHERE,
                 "GOV-21": NOT_MET, "NS-8": NOT_MET, "NS-13": NOT_MET, "NS-14": NOT_MET}),
    "test": (37, {"GOV-36": RELAXED, "INFO-39": RELAXED, "INFO-40": RELAXED, "NS-3": RELAXED,
                  "GOV-17": ELSEWHERE, "GOV-34": ELSEWHERE, "GOV-37": ELSEWHERE, "INFO-38": ELSEWHERE,
                  "GOV-21": NOT_MET, "NS-8": NOT_MET, "NS-13": NOT_MET, "NS-14": NOT_MET}),
    "prod": (45, {"GOV-17": ELSEWHERE, "GOV-21": NOT_MET, "NS-8": NOT_MET, "NS-13": NOT_MET}),
}


def _coverage(stack: str) -> list[Any]:
    from infra.config import load_stack
    return coverage(plan_of(stack).as_json(), load_config(stack), load_stack(stack).security_posture.relaxed)


@pytest.mark.parametrize("stack", STACKS)
def test_coverage_per_stack(stack: str) -> None:
    met, others = EXPECTED[stack]
    rows = [r for r in _coverage(stack) if r.check.kind == "deploy"]
    assert sum(r.status == MET for r in rows) == met
    assert {r.check.id: r.status for r in rows if r.status != MET} == others
    for r in rows:
        assert r.why, r.check.id


def test_a_relaxed_check_carries_the_stacks_reason() -> None:
    rows = {r.check.id: r for r in _coverage("dev")}
    assert rows["GOV-36"].why.startswith("dev runs without the enhanced security and compliance add-on")
    assert rows["NS-3"].why.startswith("databricks-workspace-public-network-disabled is advisory in dev.json")


def test_a_mandatory_failure_is_not_met_with_the_rules_message() -> None:
    doc = plan_of("prod").as_json()
    by_name(doc, "workspace-hardening-workspace-conf")["inputs"]["customConfig"]["enableExportNotebook"] = "true"
    rows = {r.check.id: r for r in coverage(doc, load_config("prod"))}
    assert rows["DP-6"].status == NOT_MET
    assert rows["DP-6"].why == ("sat-dp-6-notebook-export-off: WorkspaceConf workspace-hardening-workspace-conf sets "
                                "enableExportNotebook 'true'; SAT DP-6 needs 'false'")
    assert summary("prod", list(rows.values())).startswith("SAT coverage, stack prod: 44 of 49 deploy-time")


def test_check_sat_lists_the_coverage(mlopsctl: Any) -> None:
    result = mlopsctl("check", "--list", "--sat", "--stack", "prod")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == ("SAT coverage, stack prod: 45 of 49 deploy-time checks met (0 relaxed, 1 elsewhere, 3 not "
                         "met); 12 runtime checks")
    assert any(line.startswith("NS-8 ") and "not met" in line for line in lines)


# --- the settings in each stack's plan -------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_workspace_conf_holds_every_key_sat_reads(stack: str) -> None:
    doc = plan_of(stack).as_json()
    conf = by_name(doc, "workspace-hardening-workspace-conf")["inputs"]["customConfig"]
    expected = {key: "true" if wanted else "false" for _, key, wanted in WORKSPACE_CONF_FLAGS}
    expected |= {"maxTokenLifetimeDays": "90", "enableProjectsAllowList": "true",
                 "projectsAllowList": "https://github.com/example-org/"}
    assert conf == expected
    assert plan_of(stack).outputs["workspaceConf"] == {**expected, "enableIpAccessLists": "true"}


# stack -> (automatic cluster update, enhanced security monitoring, compliance profile)
ADD_ON = {"dev": ("Disabled", "Disabled", "Disabled"), "test": ("Disabled", "Disabled", "Disabled"),
          "prod": ("Enabled", "Enabled", "Enabled")}


@pytest.mark.parametrize("stack", STACKS)
def test_automatic_cluster_update_and_monitoring_are_their_own_settings(stack: str) -> None:
    (ws,) = of_type(plan_of(stack).as_json(), T.WORKSPACE)
    esc = ws["inputs"]["enhancedSecurityCompliance"]
    assert (esc["automaticClusterUpdate"]["value"], esc["enhancedSecurityMonitoring"]["value"],
            esc["complianceSecurityProfile"]["value"]) == ADD_ON[stack]


def test_the_add_on_settings_follow_their_own_relaxation_not_the_profile() -> None:
    from infra.components.workspace import _compliance
    from infra.config.security import WorkspaceSecurityConfig
    off = WorkspaceSecurityConfig(enhanced_security_compliance=False)
    args = _compliance(off, automatic_cluster_update=True, enhanced_security_monitoring=False)
    assert (args.automatic_cluster_update.value, args.enhanced_security_monitoring.value,
            args.compliance_security_profile.value) == ("Enabled", "Disabled", "Disabled")
    on = _compliance(WorkspaceSecurityConfig(), automatic_cluster_update=False, enhanced_security_monitoring=False)
    assert (on.automatic_cluster_update.value, on.enhanced_security_monitoring.value) == ("Enabled", "Enabled")


@pytest.mark.parametrize("stack", STACKS)
def test_admins_restricted_tokens_limited_and_the_deployer_keeps_run_as(stack: str) -> None:
    doc = plan_of(stack).as_json()
    (restrict,) = of_type(doc, RESTRICT)
    assert restrict["inputs"]["restrictWorkspaceAdmins"]["status"] == "RESTRICT_TOKENS_AND_JOB_RUN_AS"
    rule_set = by_name(doc, "workspace-hardening-run-as-user")
    assert rule_set["urn"] in restrict["dependencies"]  # the deployer keeps run-as before admins are restricted
    identity = stack_raw(stack)["mlops-platform:identity"]
    cicd, deployer = identity["cicdServicePrincipal"]["applicationId"], identity["deployer"]["applicationId"]
    assert rule_set["inputs"]["name"] == (f"accounts/0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f/servicePrincipals/{cicd}"
                                          "/ruleSets/default")
    assert {"role": "roles/servicePrincipal.user", "principals": [f"servicePrincipals/{deployer}"]} in \
        rule_set["inputs"]["grantRules"]
    jobs = of_type(doc, T.JOB)
    assert all(j["inputs"]["runAs"] == {"servicePrincipalName": cicd} for j in jobs)
    tokens = by_name(doc, "workspace-hardening-token-permissions")["inputs"]
    assert tokens["authorization"] == "tokens"
    assert [c.get("groupName") for c in tokens["accessControls"]] == ["mlops-platform-admins", None]


@pytest.mark.parametrize("stack", STACKS)
def test_cluster_policies_fix_local_disk_encryption(stack: str) -> None:
    doc = plan_of(stack).as_json()
    for policy in of_type(doc, T.CLUSTER_POLICY):
        assert '"enable_local_disk_encryption": {"hidden": true, "type": "fixed", "value": true}' in \
            policy["inputs"]["definition"]


# stack -> metastore- and account-wide settings it declares
WIDE = {"dev": set(), "test": set(),
        "prod": {"databricks:index/artifactAllowlist:ArtifactAllowlist",
                 "databricks:index/disableLegacyFeaturesSetting:DisableLegacyFeaturesSetting"}}


@pytest.mark.parametrize("stack", STACKS)
def test_metastore_and_account_wide_settings_live_in_the_protected_stack(stack: str) -> None:
    types = {r["type"] for r in plan_of(stack).as_json()["resources"]}
    assert types & {"databricks:index/artifactAllowlist:ArtifactAllowlist",
                    "databricks:index/disableLegacyFeaturesSetting:DisableLegacyFeaturesSetting"} == WIDE[stack]


# --- the serverless perimeter ------------------------------------------------------------------------------

# stack -> (public ingress ranges allowed)
INGRESS = {"dev": ["203.0.113.0/24", "198.51.100.0/24", "203.0.113.10/32"],
           "test": ["203.0.113.0/24", "198.51.100.0/24", "203.0.113.10/32"],
           "prod": ["203.0.113.0/24", "198.51.100.0/24"]}


# stack -> where serverless may go: the default, and prod adds Maven Central for its Maven artifact allowlist
EGRESS = {"dev": ["pypi.org", "files.pythonhosted.org"], "test": ["pypi.org", "files.pythonhosted.org"],
          "prod": ["pypi.org", "files.pythonhosted.org", "repo1.maven.org"]}


@pytest.mark.parametrize("stack", STACKS)
def test_serverless_egress_restricted_enforced_and_bound(stack: str) -> None:
    doc = plan_of(stack).as_json()
    (policy,) = of_type(doc, NETWORK_POLICY)
    (option,) = of_type(doc, NETWORK_OPTION)
    access = policy["inputs"]["egress"]["networkAccess"]
    assert access["restrictionMode"] == "RESTRICTED_ACCESS"
    assert access["policyEnforcement"]["enforcementMode"] == "ENFORCED"
    assert [d["destination"] for d in access["allowedInternetDestinations"]] == EGRESS[stack]
    services = {(d["azureStorageAccount"], d["azureStorageService"]) for d in access["allowedStorageDestinations"]}
    assert {s for _, s in services} == {"dfs", "blob"} and len(services) in (2, 4)
    assert option["inputs"]["networkPolicyId"] == policy["inputs"]["networkPolicyId"] == f"mlops-{stack}-network-policy"
    rules = policy["inputs"]["ingress"]["publicAccess"]
    assert rules["restrictionMode"] == "RESTRICTED_ACCESS"
    assert rules["allowRules"][0]["origin"]["includedIpRanges"]["ipRanges"] == INGRESS[stack]
    # it narrows serverless only once the NCC serves the storage
    ncc_binding = next(r for r in doc["resources"] if r["type"] == T.NCC_BINDING)
    assert ncc_binding["urn"] in policy["dependencies"]
    assert findings(doc, "sat-ns-9-serverless-egress-restricted") == []


@pytest.mark.parametrize("stack", STACKS)
def test_a_first_deploy_rolls_the_perimeter_out_dry_run(stack: str) -> None:
    doc = first_deploy_plan_of(stack).as_json()
    (policy,) = of_type(doc, NETWORK_POLICY)
    assert policy["inputs"]["egress"]["networkAccess"]["policyEnforcement"]["enforcementMode"] == "DRY_RUN"
    assert "ingress" not in policy["inputs"]
    assert policy["inputs"]["ingressDryRun"]["publicAccess"]["restrictionMode"] == "RESTRICTED_ACCESS"
    assert findings(doc, "sat-ns-9-serverless-egress-restricted") == []
    doc.pop("firstDeploy")  # the same policy in a steady plan is not enforced
    assert findings(doc, "sat-ns-9-serverless-egress-restricted") == [
        "AccountNetworkPolicy serverless-perimeter-policy runs egress 'DRY_RUN': violations are only logged (SAT "
        "NS-9 needs ENFORCED once the dry run is clean)"]


# --- each SAT rule, violating and compliant -----------------------------------------------------------------

def exercised_sat_rules() -> set[str]:
    """The SAT rules the cases below see fire (tests/test_policy_rules.py counts them as covered)."""
    return ({BY_ID[check].rules[0] for check, _, _ in WORKSPACE_CONF_FLAGS}
            | {c[0] for c in SETTING_CASES} | {c[0] for c in MISSING_CASES} | {c[0] for c in RESOURCE_CASES}
            | {"sat-ia-5-token-lifetime-limited", "sat-info-42-git-url-allowlist", "sat-ns-5-workspace-ip-access-list",
               "sat-ns-11-ip-access-lists-enforced", "sat-gov-34-audit-system-table", "sat-info-38-artifact-allowlist",
               "sat-dp-2-local-disk-encryption", "sat-ns-7-serving-endpoints-not-public",
               "sat-ns-14-classic-egress-controlled"})  # NS-14: tests/test_classic_egress.py

def _prod_doc() -> dict[str, Any]:
    return plan_of("prod").as_json()


def _conf(doc: dict[str, Any]) -> dict[str, Any]:
    return by_name(doc, "workspace-hardening-workspace-conf")["inputs"]["customConfig"]


@pytest.mark.parametrize(("check", "key", "wanted"), WORKSPACE_CONF_FLAGS)
def test_each_workspace_conf_rule_both_ways(check: str, key: str, wanted: bool) -> None:
    rule = BY_ID[check].rules[0]
    doc = _prod_doc()
    assert findings(doc, rule) == []
    _conf(doc)[key] = "false" if wanted else "true"
    assert findings(doc, rule) == [f"WorkspaceConf workspace-hardening-workspace-conf sets {key} "
                                   f"{'false' if wanted else 'true'!r}; SAT {check} needs "
                                   f"{'true' if wanted else 'false'!r}"]
    del _conf(doc)[key]
    assert findings(doc, rule) == [f"no WorkspaceConf sets {key}; SAT {check} passes only with {key} "
                                   f"{'true' if wanted else 'false'!r}"]


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("730", True), ("0", False), ("731", False),
                                           ("ninety", False)])
def test_token_lifetime_rule_at_both_edges(value: str, ok: bool) -> None:
    doc = _prod_doc()
    _conf(doc)["maxTokenLifetimeDays"] = value
    assert (findings(doc, "sat-ia-5-token-lifetime-limited") == []) is ok


def test_token_lifetime_rule_fires_when_unset() -> None:
    doc = _prod_doc()
    del _conf(doc)["maxTokenLifetimeDays"]
    assert findings(doc, "sat-ia-5-token-lifetime-limited") == [
        "no WorkspaceConf sets maxTokenLifetimeDays: new tokens may live forever (SAT IA-5)"]


def test_git_allowlist_rule_needs_a_prefix() -> None:
    doc = _prod_doc()
    assert findings(doc, "sat-info-42-git-url-allowlist") == []
    _conf(doc)["projectsAllowList"] = ""
    assert findings(doc, "sat-info-42-git-url-allowlist") == [
        "WorkspaceConf workspace-hardening-workspace-conf turns on the Git URL allowlist with no projectsAllowList: "
        "every clone is refused; list the prefixes (securityPosture.gitUrlAllowlist)"]


def test_ip_list_rules_both_ways() -> None:
    doc = _prod_doc()
    assert findings(doc, "sat-ns-5-workspace-ip-access-list") == findings(doc, "sat-ns-11-ip-access-lists-enforced") \
        == []
    doc["resources"] = [r for r in doc["resources"] if "front-end-access" not in r["name"]]
    assert findings(doc, "sat-ns-5-workspace-ip-access-list") == [
        "no enabled ALLOW IP access list (workspaceSecurity.ipAccessList); SAT NS-5 needs one"]
    assert findings(doc, "sat-ns-11-ip-access-lists-enforced") == [
        "no WorkspaceConf sets enableIpAccessLists; SAT NS-11 passes only with enableIpAccessLists 'true'"]


# (rule, resource name, input path, bad value, the finding)
SETTING_CASES = [
    ("sat-dp-1-secret-scope", "secret-scope", "backendType", "DATABRICKS",
     "SecretScope secret-scope sets backendType 'DATABRICKS'; SAT DP-1 needs 'AZURE_KEYVAULT'"),
    ("sat-dp-10-legacy-dbfs-off", "disable-legacy-dbfs", "disableLegacyDbfs.value", False,
     "DisableLegacyDbfsSetting disable-legacy-dbfs sets disableLegacyDbfs.value false; SAT DP-10 needs true"),
    ("sat-dp-11-sql-results-download-off", "workspace-hardening-sql-results-download", "booleanVal.value", True,
     "WorkspaceSettingV2 workspace-hardening-sql-results-download sets booleanVal.value true; SAT DP-11 needs false"),
    ("sat-gov-35-restrict-workspace-admins", "workspace-hardening-restrict-workspace-admins",
     "restrictWorkspaceAdmins.status", "ALLOW_ALL",
     "RestrictWorkspaceAdminsSetting workspace-hardening-restrict-workspace-admins sets "
     "restrictWorkspaceAdmins.status 'ALLOW_ALL'; SAT GOV-35 needs 'RESTRICT_TOKENS_AND_JOB_RUN_AS'"),
    ("sat-gov-37-legacy-features-off", "workspace-hardening-disable-legacy-features", "disableLegacyFeatures.value",
     False, "DisableLegacyFeaturesSetting workspace-hardening-disable-legacy-features sets "
     "disableLegacyFeatures.value false; SAT GOV-37 needs true"),
    ("sat-gov-36-automatic-cluster-update", "workspace", "enhancedSecurityCompliance.automaticClusterUpdate.value",
     "Disabled", "Workspace workspace sets enhancedSecurityCompliance.automaticClusterUpdate.value 'Disabled'; SAT "
     "GOV-36 needs automatic cluster update 'Enabled'"),
    ("sat-info-40-enhanced-security-monitoring", "workspace",
     "enhancedSecurityCompliance.enhancedSecurityMonitoring.value", "Disabled",
     "Workspace workspace sets enhancedSecurityCompliance.enhancedSecurityMonitoring.value 'Disabled'; SAT INFO-40 "
     "needs enhanced security monitoring 'Enabled'"),
    ("sat-info-39-compliance-profile", "workspace", "enhancedSecurityCompliance.complianceSecurityProfile.value",
     "Disabled", "Workspace workspace sets enhancedSecurityCompliance.complianceSecurityProfile.value 'Disabled'; "
     "SAT INFO-39 needs the compliance security profile 'Enabled'"),
    ("sat-ns-9-serverless-egress-restricted", "serverless-perimeter-policy", "egress.networkAccess.restrictionMode",
     "FULL_ACCESS", "AccountNetworkPolicy serverless-perimeter-policy has egress restrictionMode 'FULL_ACCESS': "
     "serverless compute reaches any destination (SAT NS-9 needs RESTRICTED_ACCESS)"),
    ("sat-ns-12-context-based-ingress", "serverless-perimeter-policy", "ingress.publicAccess.restrictionMode",
     "FULL_ACCESS", "AccountNetworkPolicy serverless-perimeter-policy does not restrict public ingress (SAT NS-12 "
     "needs publicAccess RESTRICTED_ACCESS)"),
]


def _set(inputs: dict[str, Any], path: str, value: Any) -> None:
    *head, last = path.split(".")
    for part in head:
        inputs = inputs.setdefault(part, {})
    inputs[last] = value


@pytest.mark.parametrize(("rule", "name", "path", "bad", "message"), SETTING_CASES,
                         ids=[c[0] for c in SETTING_CASES])
def test_each_setting_rule_both_ways(rule: str, name: str, path: str, bad: Any, message: str) -> None:
    doc = _prod_doc()
    assert findings(doc, rule) == []
    _set(by_name(doc, name)["inputs"], path, bad)
    assert findings(doc, rule) == [message]


MISSING_CASES = [
    ("sat-dp-1-secret-scope", T.SECRET_SCOPE, "no SecretScope is declared; SAT DP-1 needs a Key Vault-backed scope"),
    ("sat-gov-35-restrict-workspace-admins", RESTRICT,
     "no RestrictWorkspaceAdminsSetting is declared; SAT GOV-35 needs the restricted status"),
    ("sat-gov-16-metastore-assigned", T.METASTORE_ASSIGNMENT,
     "no MetastoreAssignment is declared; SAT GOV-16 needs a metastore assignment"),
    ("sat-ia-8-token-creation-restricted", PERMISSIONS, "no Permissions for authorization 'tokens': every workspace "
     "user may create personal access tokens (SAT IA-8)"),
    ("sat-ns-9-serverless-egress-restricted", NETWORK_OPTION, "no WorkspaceNetworkOption binds the workspace to a "
     "network policy: it uses the account's default-policy (SAT NS-9)"),
]


@pytest.mark.parametrize(("rule", "typ", "message"), MISSING_CASES, ids=[c[0] for c in MISSING_CASES])
def test_a_missing_setting_fails_its_rule(rule: str, typ: str, message: str) -> None:
    doc = _prod_doc()
    doc["resources"] = [r for r in doc["resources"] if r["type"] != typ]
    assert message in findings(doc, rule)


def test_token_rule_refuses_the_users_group() -> None:
    doc = _prod_doc()
    by_name(doc, "workspace-hardening-token-permissions")["inputs"]["accessControls"].append(
        {"groupName": "users", "permissionLevel": "CAN_USE"})
    assert findings(doc, "sat-ia-8-token-creation-restricted") == [
        "Permissions workspace-hardening-token-permissions gives the users group 'CAN_USE'; SAT IA-8 allows token "
        "creation to admins and service principals only"]


def test_network_policy_rules_need_the_bound_policy_declared() -> None:
    doc = _prod_doc()
    doc["resources"] = [r for r in doc["resources"] if r["type"] != NETWORK_POLICY]
    option = of_type(doc, NETWORK_OPTION)[0]
    option["dependencies"] = []
    assert findings(doc, "sat-ns-12-context-based-ingress") == [
        "WorkspaceNetworkOption serverless-perimeter-binding binds network policy 'mlops-prod-network-policy', which "
        "this stack does not declare (SAT NS-12 reads the bound policy)"]


def test_ingress_dry_run_counts_for_context_based_ingress() -> None:
    doc = first_deploy_plan_of("prod").as_json()
    assert findings(doc, "sat-ns-12-context-based-ingress") == []


def test_audit_schema_rule_only_where_system_schemas_are_enabled() -> None:
    doc = _prod_doc()
    assert findings(doc, "sat-gov-34-audit-system-table") == []
    doc["resources"] = [r for r in doc["resources"]
                        if not (r["type"] == T.SYSTEM_SCHEMA and r["inputs"]["schema"] == "access")]
    assert findings(doc, "sat-gov-34-audit-system-table") == [
        "system schemas ['compute', 'lakeflow', 'query', 'serving'] leave out 'access' (system.access.audit); SAT "
        "GOV-34 needs it"]
    doc["resources"] = [r for r in doc["resources"] if r["type"] != T.SYSTEM_SCHEMA]
    assert findings(doc, "sat-gov-34-audit-system-table") == []


def test_artifact_allowlist_rule_needs_artifacts() -> None:
    doc = _prod_doc()
    assert findings(doc, "sat-info-38-artifact-allowlist") == []
    by_name(doc, "workspace-hardening-allowlist-library-maven")["inputs"]["artifactMatchers"] = []
    assert findings(doc, "sat-info-38-artifact-allowlist") == [
        "ArtifactAllowlist workspace-hardening-allowlist-library-maven lists no artifacts; SAT INFO-38 needs at "
        "least one"]


def test_local_disk_encryption_rule_both_ways() -> None:
    doc = _prod_doc()
    assert findings(doc, "sat-dp-2-local-disk-encryption") == []
    policy = by_name(doc, "compute-jobs-policy")["inputs"]
    policy["definition"] = policy["definition"].replace('"enable_local_disk_encryption": {"hidden": true, '
                                                        '"type": "fixed", "value": true}, ', "")
    assert findings(doc, "sat-dp-2-local-disk-encryption") == [
        "definition does not fix enable_local_disk_encryption true (has missing); SAT DP-2"]


def test_serving_rule_needs_a_private_front_end_or_a_list() -> None:
    doc = plan_of("test").as_json()
    assert of_type(doc, T.MODEL_SERVING) and findings(doc, "sat-ns-7-serving-endpoints-not-public") == []
    doc["resources"] = [r for r in doc["resources"] if r["type"] != T.IP_ACCESS_LIST]
    assert findings(doc, "sat-ns-7-serving-endpoints-not-public") == [
        "serving endpoints are reachable from the whole internet: no private front end (workspace.publicNetworkAccess) "
        "and no IP access list (SAT NS-7)"]


def _view(typ: str, **props: Any) -> Any:
    from infra.policy.rules import ResourceView
    return ResourceView(type=typ, name="x", urn=f"urn:pulumi:prod::p::{typ}::x", props=props)


RESOURCE_CASES = [
    ("sat-gov-17-delta-sharing-token-lifetime", T.METASTORE,
     {"deltaSharingScope": "INTERNAL_AND_EXTERNAL", "deltaSharingRecipientTokenLifetimeInSeconds": 90 * 86400},
     {"deltaSharingRecipientTokenLifetimeInSeconds": 90 * 86400 + 1}),
    ("sat-gov-17-delta-sharing-token-lifetime", T.METASTORE, {"deltaSharingScope": "INTERNAL"},
     {"deltaSharingScope": "INTERNAL_AND_EXTERNAL"}),
    ("sat-delta-sharing-no-token-recipients", "databricks:index/recipient:Recipient",
     {"authenticationType": "DATABRICKS"}, {"authenticationType": "TOKEN"}),
    ("sat-info-18-no-sharing-privileges", T.GRANTS,
     {"metastore": "m", "grants": [{"principal": "admins", "privileges": ["CREATE_CATALOG"]}]},
     {"grants": [{"principal": "admins", "privileges": ["CREATE_SHARE"]}]}),
    ("sat-gov-42-jobs-run-as-service-principal", T.JOB, {"runAs": {"servicePrincipalName": "sp"}},
     {"runAs": {"userName": "jane@example.com"}}),
    ("sat-gov-42-jobs-run-as-service-principal", T.JOB, {"runAs": {"servicePrincipalName": "sp"}}, {"runAs": {}}),
    ("sat-gov-45-job-manage-admins-only", PERMISSIONS,
     {"jobId": "1", "accessControls": [{"groupName": "mlops-platform-admins", "permissionLevel": "CAN_MANAGE"},
                                       {"groupName": "mlops-ml-engineers", "permissionLevel": "CAN_MANAGE_RUN"}]},
     {"accessControls": [{"groupName": "mlops-ml-engineers", "permissionLevel": "CAN_MANAGE"}]}),
    ("sat-gov-45-job-manage-admins-only", PERMISSIONS, {"jobId": "1", "accessControls": []},
     {"accessControls": [{"userName": "jane@example.com", "permissionLevel": "CAN_MANAGE"}]}),
]


def test_the_sharing_token_finding_states_the_limit_in_days_and_seconds() -> None:
    r = RULES_BY_NAME["sat-gov-17-delta-sharing-token-lifetime"]
    view = _view(T.METASTORE, deltaSharingScope="INTERNAL_AND_EXTERNAL",
                 deltaSharingRecipientTokenLifetimeInSeconds=0)
    assert [f.message for f in r.run_resource(view, r.defaults)] == [
        "deltaSharingScope INTERNAL_AND_EXTERNAL with a token lifetime of 0 seconds; SAT GOV-17 needs at most 90 "
        "days (7776000 seconds)"]


@pytest.mark.parametrize(("value", "found"), [(True, False), (False, True), ("true", True), (None, True)])
def test_local_disk_encryption_must_be_fixed_to_true_itself(value: Any, found: bool) -> None:
    """`fixed` to false, to the string "true" or to nothing does not encrypt: only the JSON value true does."""
    import json as _json

    r = RULES_BY_NAME["sat-dp-2-local-disk-encryption"]
    definition = _json.dumps({"enable_local_disk_encryption": {"type": "fixed", "value": value}})
    assert bool(r.run_resource(_view(T.CLUSTER_POLICY, definition=definition), r.defaults)) is found


@pytest.mark.parametrize("other", ["zz_other_setting", "a_setting"])
def test_the_sql_results_rule_reads_only_its_own_setting(other: str) -> None:
    """Another settings-v2 resource (any name, sorting before or after) is not the sql_results_download one."""
    from infra.policy.rules import ResourceView

    typ = "databricks:index/workspaceSettingV2:WorkspaceSettingV2"
    mine = ResourceView(type=typ, name="dl", urn="urn:pulumi:prod::p::s::dl",
                        props={"name": "sql_results_download", "booleanVal": {"value": False}})
    theirs = ResourceView(type=typ, name="other", urn="urn:pulumi:prod::p::s::other",
                          props={"name": other, "booleanVal": {"value": True}})
    rule = RULES_BY_NAME["sat-dp-11-sql-results-download-off"]
    assert rule.run_stack([mine, theirs], rule.defaults) == []


@pytest.mark.parametrize(("list_type", "enabled", "found"), [
    ("ALLOW", None, False),     # enabled left out: the provider's default is enabled
    ("ALLOW", True, False),
    ("ALLOW", False, True),     # a disabled list is no gate
    ("BLOCK", True, True),      # a BLOCK list admits everyone else
    ("BLOCK", None, True),
])
def test_the_ip_list_rule_counts_only_enabled_allow_lists(list_type: str, enabled: bool | None,
                                                          found: bool) -> None:
    from infra.policy.rules import ResourceView

    props: dict[str, Any] = {"listType": list_type, "ipAddresses": ["203.0.113.0/24"]}
    if enabled is not None:
        props["enabled"] = enabled
    view = ResourceView(type=T.IP_ACCESS_LIST, name="list", urn="urn:pulumi:prod::p::ip::list", props=props)
    rule = RULES_BY_NAME["sat-ns-5-workspace-ip-access-list"]
    assert bool(rule.run_stack([view], rule.defaults)) is found


@pytest.mark.parametrize(("rule", "typ", "props", "bad"), RESOURCE_CASES)
def test_resource_rules_both_ways(rule: str, typ: str, props: dict[str, Any], bad: dict[str, Any]) -> None:
    r = RULES_BY_NAME[rule]
    assert r.run_resource(_view(typ, **props), r.defaults) == []
    assert len(r.run_resource(_view(typ, **{**props, **bad}), r.defaults)) == 1


# --- config -----------------------------------------------------------------------------------------------

CONFIG_CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    ("prod-refuses-a-relaxation", "prod", [("securityPosture.relaxed", {"DP-5": "analysts download results"})],
     ["prod: securityPosture.relaxed.DP-5: 'analysts download results' is not allowed in prod: prod meets every "
      "deploy-time SAT check it can (docs/security-posture.md)"]),
    ("prod-refuses-dry-run", "prod", [("securityPosture.serverlessEgress", "dryRun")],
     ["prod: securityPosture.serverlessEgress: 'dryRun' is not allowed in prod: allowed: 'enforced' (a first "
      "deploy runs dry-run by itself)"]),
    ("dry-run-needs-a-reason", "test", [("securityPosture.serverlessEgress", "dryRun")],
     ["test: securityPosture.serverlessEgress: 'dryRun' relaxes SAT NS-9; give the reason in "
      "securityPosture.relaxed.NS-9"]),
    ("dry-run-with-a-reason", "test", [("securityPosture.serverlessEgress", "dryRun"),
                                       ("securityPosture.relaxed.NS-9", "watching denials for a week first")], []),
    ("unknown-id", "dev", [("securityPosture.relaxed.XX-1", "because of reasons here")],
     ["dev: securityPosture.relaxed.XX-1: 'because of reasons here' names 'XX-1', which is not a SAT check id; "
      "allowed: " + ", ".join(RELAXABLE)]),
    ("not-relaxable", "dev", [("securityPosture.relaxed", {"NS-8": "the account console is open"})],
     ["dev: securityPosture.relaxed.NS-8: 'the account console is open' names 'NS-8', which is not relaxable here; "
      "allowed: " + ", ".join(RELAXABLE)]),
    ("reason-too-short", "dev", [("securityPosture.relaxed", {"DP-5": "x" * 14})],
     ["dev: securityPosture.relaxed.DP-5: 'xxxxxxxxxxxxxx' is not a reason; say why in at least 15 characters"]),
    ("reason-long-enough", "dev", [("securityPosture.relaxed.DP-5", "x" * 15)], []),
    ("git-allowlist-required", "test", [("securityPosture.gitUrlAllowlist", [])],
     ["test: securityPosture.gitUrlAllowlist: [] must list the URL prefixes Git folders may use (e.g. "
      "'https://github.com/your-org/'), or relax SAT INFO-42 with a reason in securityPosture.relaxed"]),
    ("git-allowlist-relaxed", "test", [("securityPosture.gitUrlAllowlist", []),
                                       ("securityPosture.relaxed.INFO-42", "any public repository is fine here")], []),
    ("git-url-not-https", "test", [("securityPosture.gitUrlAllowlist", ["git@github.com:org/"])],
     ["test: securityPosture.gitUrlAllowlist: ['git@github.com:org/'] entry 'git@github.com:org/' is not an https "
      "URL prefix (e.g. 'https://github.com/your-org/')"]),
    ("egress-not-a-name", "test", [("securityPosture.egressAllowlist", ["https://pypi.org/simple"])],
     ["test: securityPosture.egressAllowlist: ['https://pypi.org/simple'] entry 'https://pypi.org/simple' is not a "
      "DNS name; allowed: lowercase names like 'pypi.org' (no scheme, path, port or wildcard)"]),
    ("egress-wildcard", "test", [("securityPosture.egressAllowlist", ["*.pypi.org"])],
     ["test: securityPosture.egressAllowlist: ['*.pypi.org'] entry '*.pypi.org' is not a DNS name; allowed: "
      "lowercase names like 'pypi.org' (no scheme, path, port or wildcard)"]),
    ("egress-twice", "test", [("securityPosture.egressAllowlist", ["pypi.org", "pypi.org"])],
     ["test: securityPosture.egressAllowlist: ['pypi.org', 'pypi.org'] lists 'pypi.org' more than once"]),
    ("token-lifetime-low-edge", "test", [("securityPosture.maxTokenLifetimeDays", 1)], []),
    ("token-lifetime-zero", "test", [("securityPosture.maxTokenLifetimeDays", 0)],
     ["test: securityPosture.maxTokenLifetimeDays: 0 is out of range (input should be greater than or equal to 1)"]),
    ("token-lifetime-high-edge", "test", [("securityPosture.maxTokenLifetimeDays", 730)], []),
    ("token-lifetime-too-long", "test", [("securityPosture.maxTokenLifetimeDays", 731)],
     ["test: securityPosture.maxTokenLifetimeDays: 731 is out of range (input should be less than or equal to "
      "730)"]),
    ("artifacts-only-protected", "test", [("protection.protect", False),
                                          ("securityPosture.artifactAllowlist.maven", ["org.example:lib"])],
     ["test: securityPosture.artifactAllowlist: 'set' is metastore-wide: declare it only in the long-lived, "
      "protected stack (protection.protect true)"]),
    ("maven-not-a-coordinate", "prod", [("securityPosture.artifactAllowlist.maven", ["org/example"])],
     ["prod: securityPosture.artifactAllowlist.maven: ['org/example'] entry 'org/example' is not a Maven coordinate "
      "prefix; allowed: 'group:artifact' or 'group:artifact:version' (letters, digits, dots, hyphens, underscores)"]),
    ("jar-not-a-volume", "prod", [("securityPosture.artifactAllowlist.jars", ["dbfs:/jars/"])],
     ["prod: securityPosture.artifactAllowlist.jars: ['dbfs:/jars/'] entry 'dbfs:/jars/' is not a volume path "
      "prefix; allowed: '/Volumes/<catalog>/<schema>/<volume>/...'"]),
    ("account-settings-only-protected", "dev", [("securityPosture.accountSettings", True)],
     ["dev: securityPosture.accountSettings: true is account-wide: declare it only in the long-lived, protected "
      "stack (protection.protect true)"]),
    ("add-on-under-the-profile", "test", [("workspaceSecurity.enhancedSecurityCompliance", True)],
     ["test: securityPosture.relaxed.GOV-36: 'test runs without the enhanced security and compliance add-on (its "
      "cost); prod has it' cannot be relaxed while workspaceSecurity.enhancedSecurityCompliance is true: the "
      "compliance security profile needs automatic cluster update on",
      "test: securityPosture.relaxed.INFO-40: 'test runs without the enhanced security and compliance add-on (its "
      "cost); prod has it' cannot be relaxed while workspaceSecurity.enhancedSecurityCompliance is true: the "
      "compliance security profile needs enhanced security monitoring on"]),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_posture_config(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    raw = with_changes(stack, changes)
    if expected:
        assert config_problems(stack, raw) == expected
    else:
        from infra.config import validate
        from tests.support import siblings
        validate(stack, raw, siblings(stack))


def test_one_stack_declares_the_account_wide_settings() -> None:
    others = {"dev": with_changes("dev", []), "prod": with_changes("prod", [])}
    raw = with_changes("test", [("securityPosture.accountSettings", True), ("protection.protect", True)])
    problems = config_problems("test", raw, others)
    assert ("test: securityPosture.accountSettings: true is also set by stack prod for account "
            "0b7d6c3e-1f2a-4c5d-9e8f-7a6b5c4d3e2f; exactly one stack declares the account-wide settings") in problems


# --- the docs page ---------------------------------------------------------------------------------------------

def test_the_docs_page_maps_every_check_to_its_rules_and_each_stacks_status() -> None:
    from pathlib import Path

    from infra.config import load_stack
    text = (Path(__file__).parents[1] / "docs" / "security-posture.md").read_text()
    status = {s: {r.check.id: r.status for r in coverage(plan_of(s).as_json(), load_config(s),
                                                           load_stack(s).security_posture.relaxed)}
              for s in STACKS}
    for check in DEPLOY_TIME:
        (row,) = [line for line in text.splitlines() if line.startswith(f"| `{check.id}` ") and line.count("|") == 7]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] == (", ".join(f"`{r}`" for r in check.rules) or "none"), check.id
        assert cells[3:] == [status[s][check.id] for s in STACKS], check.id
    for check in RUNTIME:
        assert f"| `{check.id}` {check.title} | {check.setting} |" in text
    met = sum(status["prod"][c.id] == MET for c in DEPLOY_TIME)
    assert f"**Prod meets {met} of the {len(DEPLOY_TIME)} deploy-time checks by its plan.**" in text


# --- verify: the workspace-conf keys, live -------------------------------------------------------------------

class _FakeConf:
    """workspace_conf.get_status as databricks-sdk answers it: a dict of the asked keys' string values."""

    def __init__(self, live: dict[str, str], error: Exception | None = None) -> None:
        self.live, self.error, self.asked = live, error, ""

    def get_status(self, keys: str) -> dict[str, str]:
        self.asked = keys
        if self.error:
            raise self.error
        return {k: v for k, v in self.live.items() if k in keys.split(",")}


class _FakeClient:
    def __init__(self, conf: _FakeConf) -> None:
        self.workspace_conf = conf


def _verify_conf(live: dict[str, str], error: Exception | None = None) -> tuple[list[tuple[str, str, str]], str]:
    from mlopsctl.verify.checks import Verifier
    declared = plan_of("prod").outputs["workspaceConf"]
    conf = _FakeConf(live, error)
    verifier = Verifier(_FakeClient(conf), {"workspaceConf": declared}, "prod")  # type: ignore[arg-type]
    verifier.guarded("workspace conf", "all", verifier.check_workspace_conf)
    return [(r.status, r.target, r.detail) for r in verifier.results], conf.asked


def test_verify_reads_every_declared_key_back() -> None:
    declared = plan_of("prod").outputs["workspaceConf"]
    results, asked = _verify_conf(dict(declared))
    assert asked == ",".join(sorted(declared))
    assert {s for s, _, _ in results} == {"ok"} and len(results) == len(declared)


def test_verify_reports_a_changed_key_as_drift_and_a_missing_one_as_failed() -> None:
    live = dict(plan_of("prod").outputs["workspaceConf"])
    live["enableExportNotebook"] = "true"
    del live["maxTokenLifetimeDays"]
    results, _ = _verify_conf(live)
    bad = [r for r in results if r[0] != "ok"]
    assert bad == [("drift", "enableExportNotebook", "'true', declared 'false' (changed by hand?)"),
                   ("fail", "maxTokenLifetimeDays", "not set (declared '90')")]


def test_verify_turns_an_api_error_into_one_failed_check() -> None:
    from databricks.sdk.errors import PermissionDenied
    results, _ = _verify_conf({}, PermissionDenied("only admins read workspace-conf"))
    assert results == [("fail", "all", "HTTP 403 permission denied: only admins read workspace-conf (does the deploy "
                        "identity have the privilege?)")]


@pytest.mark.parametrize(("jar", "ok"), [
    ("/Volumes/c/s/v", True), ("/Volumes/c/s/v/libs/", True),
    ("/Volumes/c/s", False),          # a schema, not a volume
    ("/dbfs/c/s/v/libs", False),      # deep enough, but not a volume
])
def test_jar_prefixes_are_volume_paths(jar: str, ok: bool) -> None:
    from pydantic import ValidationError

    from infra.config.posture import ArtifactAllowlistConfig

    if ok:
        assert ArtifactAllowlistConfig.model_validate({"jars": [jar]}).jars == [jar]
    else:
        with pytest.raises(ValidationError, match=f"entry '{jar}' is not a volume path prefix; allowed: "
                                                  "'/Volumes/<catalog>/<schema>/<volume>/...'"):
            ArtifactAllowlistConfig.model_validate({"jars": [jar]})


def test_a_dry_run_relaxes_ns_9_only() -> None:
    from infra.config.posture import SecurityPostureConfig

    posture = SecurityPostureConfig.model_validate({"serverlessEgress": "dryRun", "gitUrlAllowlist": ["https://github.com/org/"]})
    assert not posture.meets("NS-9")
    assert posture.meets("DP-5") and posture.meets("NS-12")


def test_every_binding_is_checked_after_one_that_names_an_undeclared_policy() -> None:
    from infra.policy.rules import ResourceView

    def view(typ: str, name: str, props: dict[str, Any]) -> ResourceView:
        return ResourceView(type=typ, name=name, urn=f"urn:pulumi:prod::p::{typ}::{name}", props=props)

    policy = view(NETWORK_POLICY, "open", {"networkPolicyId": "np-open", "egress": {"networkAccess": {
        "restrictionMode": "FULL_ACCESS", "policyEnforcement": {"enforcementMode": "ENFORCED"}}}})
    dangling = view(NETWORK_OPTION, "a-binding", {"networkPolicyId": "np-elsewhere"})
    bound = view(NETWORK_OPTION, "b-binding", {"networkPolicyId": "np-open"})
    rule = RULES_BY_NAME["sat-ns-9-serverless-egress-restricted"]
    found = [f.message for f in rule.run_stack([policy, dangling, bound], rule.defaults)]
    assert len(found) == 2 and "np-elsewhere" in found[0] and "restrictionMode 'FULL_ACCESS'" in found[1]
