"""`mlopsctl check` and the per-stack enforcement configs; all three stacks' offline plans pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.config import read_stack_file, standby_stacks
from infra.policy.enforcement import CONFIG_DIR, PolicyConfigError, load_config, parse_config
from infra.policy.offline import check_plan
from infra.policy.rules import RULES
from tests.support import STACKS, Mlopsctl, plan_of

# What dev and test deliberately relax (their stack config does; docs/policy-pack.md "Enforcement per stack");
# prod relaxes nothing.
RELAXED = {"databricks-workspace-public-network-disabled", "storage-public-network-disabled",
           "databricks-workspace-cmk-managed-services", "databricks-workspace-cmk-dbfs-root",
           "key-vault-recoverable",
           # dev and test keep one region's copies and 7 days of soft delete (docs/recovery.md)
           "lake-geo-redundant-read-access", "lake-soft-delete-retention"}
# Everywhere: endpoints in rollout phase 1 (monitoring=pending) are a reminder, not a failure.
PHASE_ONE = {"serving-monitoring-pending"}
# The SAT checks dev and test relax (the enhanced security and compliance add-on; dev's DBFS root), with the
# reasons in their securityPosture (docs/security-posture.md).
SAT_RELAXED = {"sat-gov-36-automatic-cluster-update", "sat-info-39-compliance-profile",
               "sat-info-40-enhanced-security-monitoring"}
# VNet encryption stays off outside prod (docs/security-posture.md#vnet-encryption)
NETWORK_RELAXED = {"vnet-encryption-enabled"}
EXPECTED_ADVISORY = {"dev": RELAXED | SAT_RELAXED | NETWORK_RELAXED | {"sat-dp-10-legacy-dbfs-off"} | PHASE_ONE,
                     "test": RELAXED | SAT_RELAXED | NETWORK_RELAXED | PHASE_ONE, "prod": PHASE_ONE}


@pytest.mark.parametrize("stack", STACKS)
def test_offline_plan_has_no_mandatory_violations(stack: str) -> None:
    report = check_plan(plan_of(stack).as_json())
    assert report.stack == stack and report.config.source.endswith(f"{stack}.json")
    assert [(v.rule, v.resource, v.message) for v in report.mandatory] == []
    assert report.exit_code == 0


@pytest.mark.parametrize("stack", STACKS)
def test_enforcement_per_stack(stack: str) -> None:
    config = load_config(stack)
    advisory = {r.name for r in RULES if config.level(r.name) == "advisory"}
    assert advisory == EXPECTED_ADVISORY[stack]
    assert {r.name for r in RULES if config.level(r.name) == "disabled"} == set()
    # the admins the pack allows ALL_PRIVILEGES/MANAGE are the stack's admin group
    raw = read_stack_file(stack)
    admins = {raw["mlops-platform:identity"]["groups"]["admins"],
              *raw.get("mlops-platform:unityCatalog", {}).get("adminGroups", [])}
    assert set(config.settings("uc-no-broad-privileges-to-non-admins")["adminGroups"]) == admins
    assert config.settings("prod-stateful-resources-protected")["protectedStacks"] == ["prod"]


@pytest.mark.parametrize("stack", ["dev", "test"])
def test_relaxed_rules_only_relax_what_the_stack_config_relaxes(stack: str) -> None:
    """Each advisory rule in dev/test fires there (the relaxation is real), and only advisory rules fire."""
    report = check_plan(plan_of(stack).as_json())
    fired = {v.rule for v in report.verdicts if not v.unknown}
    assert fired <= EXPECTED_ADVISORY[stack] - PHASE_ONE
    assert {"databricks-workspace-public-network-disabled", "storage-public-network-disabled"} <= fired


def test_a_stack_without_a_config_file_is_held_to_all_mandatory() -> None:
    config = load_config("staging")
    assert {config.level(r.name) for r in RULES} == {"mandatory"}


@pytest.mark.parametrize(("doc", "message"), [
    ({"no-such-rule": "advisory"}, "cfg: no-such-rule: unknown rule; see `mlopsctl check --list`"),
    ({"all": "warn"}, "cfg: all: 'warn' is not a level; allowed: mandatory, advisory, disabled"),
    ({"storage-https-only": {"enforcementLevel": "off"}},
     "cfg: storage-https-only.enforcementLevel: 'off' is not a level; allowed: mandatory, advisory, disabled"),
    ({"uc-no-broad-privileges-to-non-admins": {"admins": ["x"]}},
     "cfg: uc-no-broad-privileges-to-non-admins: unknown setting(s) admins; allowed: adminGroups"),
    ({"storage-https-only": 3}, "cfg: storage-https-only: 3 must be a level or an object"),
])
def test_policy_config_errors(doc: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyConfigError) as err:
        parse_config(doc, "cfg")
    assert str(err.value) == message


def test_config_files_are_pulumi_policy_pack_config_json() -> None:
    for path in sorted(CONFIG_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        assert doc["all"] == "mandatory"
        parse_config(doc, path.name)
    # one per stack, the standby stacks under infra/standby included
    assert sorted(p.stem for p in CONFIG_DIR.glob("*.json")) == sorted([*STACKS, *standby_stacks()])


def test_check_list_prints_one_rule_per_line(mlopsctl: Mlopsctl) -> None:
    result = mlopsctl("check", "--list", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert len(lines) == len(RULES) >= 40
    by_name = {name: (sev, level, kind) for name, sev, level, kind in lines}
    assert by_name["databricks-workspace-public-network-disabled"] == ("high", "advisory", "resource")
    assert by_name["uc-catalog-bound"] == ("high", "mandatory", "stack")
    listed = mlopsctl("check", "--list", "--stack", "prod").stdout.splitlines()
    prod = {line.split()[0]: line.split()[2] for line in listed}
    assert {name for name, level in prod.items() if level != "mandatory"} == PHASE_ONE


def _plan_file(tmp_path: Path, stack: str, edit: bool = False) -> Path:
    doc = plan_of(stack).as_json()
    if edit:
        for res in doc["resources"]:
            if res["type"] == "azure-native:databricks:Workspace":
                res["inputs"]["publicNetworkAccess"] = "Enabled"
            if res["type"] == "azure-native:storage:StorageAccount":
                res["inputs"]["minimumTlsVersion"] = "TLS1_0"
    path = tmp_path / f"{stack}.json"
    path.write_text(json.dumps(doc))
    return path


def test_check_passes_a_compliant_plan(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    result = mlopsctl("check", str(_plan_file(tmp_path, "prod")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "policy PASS: stack prod" in result.stdout and "0 mandatory" in result.stdout


def test_check_fails_on_mandatory_violations_grouped_by_severity(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    path = _plan_file(tmp_path, "prod", edit=True)
    result = mlopsctl("check", str(path))
    assert result.returncode == 1
    out = result.stdout
    assert out.index("high (") < out.index("databricks-workspace-public-network-disabled")
    assert "storage-min-tls-1-2" in out and "minimumTlsVersion is 'TLS1_0'" in out
    assert "Workspace workspace" in out
    # a public front end with prod's IP access list but no deploy-runner list would lock the deploy out
    assert "policy FAIL: stack prod" in out and ": 3 mandatory, 0 advisory" in out
    # the same plan under dev's enforcement: the public front end is advisory there, TLS stays mandatory
    dev = mlopsctl("check", str(path), "--stack", "dev")
    # and dev's config names dev's deployer, so prod's served model (EXECUTE for prod's deployer) is flagged too
    assert dev.returncode == 1 and ": 3 mandatory, 1 advisory" in dev.stdout
    assert "RegisteredModel model-ml_prod_catalog-models-mlops_churn hands ownership" in " ".join(dev.stdout.split())


def test_check_user_errors_are_one_line(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    missing = mlopsctl("check", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"mlopsctl check: {tmp_path / 'nope.json'}: no such file"
    bad = tmp_path / "bad.json"
    bad.write_text('{"resources": 1}')
    result = mlopsctl("check", str(bad))
    assert result.returncode == 2 and result.stderr.strip() == f"mlopsctl check: {bad}: not a plan JSON " \
        "(expected an object with 'resources'; write one with `mlopsctl plan --json FILE`)"
    assert mlopsctl("check").stderr.strip() == \
        "mlopsctl check: give a PLAN_JSON file (from `mlopsctl plan --json FILE`) or --list"


def test_plan_prints_policy_verdicts_after_the_summary(mlopsctl: Mlopsctl) -> None:
    result = mlopsctl("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert "policy PASS: stack dev" in result.stdout
    assert result.stdout.index("resources") < result.stdout.index("policy PASS")
    assert "advisory" in result.stdout  # dev's deliberate relaxations are shown, not failed
