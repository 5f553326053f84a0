"""The compliance report: every control of each stack with status and evidence, in Markdown and a self-contained
HTML page that a real headless browser renders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.policy.enforcement import parse_config
from infra.policy.offline import check_plan
from infra.policy.rules import RULES, RULES_BY_NAME
from mlopsctl.reports.compliance import (
    KINDS,
    ComplianceReport,
    build,
    builtin_policies,
    is_deploy_rule,
    markdown,
    render_html,
    worst,
)
from tests.support import STACKS, Mlopsctl, plan_of

# What each stack relaxes to advisory on purpose (infra/policy/config/<stack>.json): the only warnings.
RELAXED = {"databricks-workspace-public-network-disabled", "storage-public-network-disabled",
           "databricks-workspace-cmk-managed-services", "databricks-workspace-cmk-dbfs-root", "key-vault-recoverable",
           "lake-geo-redundant-read-access", "lake-soft-delete-retention", "sat-info-39-compliance-profile",
           "sat-gov-36-automatic-cluster-update", "sat-info-40-enhanced-security-monitoring"}
WARNED_RULES = {"dev": RELAXED | {"sat-dp-10-legacy-dbfs-off", "vnet-encryption-enabled"},
                "test": RELAXED | {"vnet-encryption-enabled"}, "prod": set()}


def _report(stack: str, doc: dict[str, Any] | None = None, config: dict[str, Any] | None = None) -> ComplianceReport:
    doc = doc if doc is not None else plan_of(stack).as_json()
    policy = parse_config(config, "test-config.json") if config is not None else None
    return build(doc, check_plan(doc, stack, policy))


@pytest.fixture(scope="module")
def reports() -> dict[str, ComplianceReport]:
    return {s: _report(s) for s in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_is_one_control_and_only_the_relaxed_ones_warn(stack: str, reports: dict[str, ComplianceReport],
                                                                  ) -> None:
    report = reports[stack]
    rules = report.of_kind("policy rule") + report.of_kind("deploy-readiness rule")
    assert sorted(c.id for c in rules) == sorted(r.name for r in RULES)
    assert {c.id for c in rules if c.status == "warn"} == WARNED_RULES[stack]
    assert report.count("fail") == 0 and report.verdict == "PASS" and report.exit_code == 0


def test_deploy_readiness_rules_are_their_own_kind(reports: dict[str, ComplianceReport]) -> None:
    deploy = {c.id for c in reports["prod"].of_kind("deploy-readiness rule")}
    assert deploy == {r.name for r in RULES if r.check.__module__.startswith("infra.policy.rules.deploy.")}
    assert "first-deploy-creates-only-what-can-exist" in deploy and "storage-https-only" not in deploy
    assert is_deploy_rule(RULES_BY_NAME["first-deploy-creates-only-what-can-exist"])


@pytest.mark.parametrize("stack", STACKS)
def test_each_grant_matrix_row_is_a_control(stack: str, reports: dict[str, ComplianceReport]) -> None:
    doc = plan_of(stack).as_json()
    declared = {(r["name"], g["principal"]) for r in doc["resources"] if r["type"] == "databricks:index/grants:Grants"
                for g in r["inputs"]["grants"]}
    declared |= {(r["name"], r["inputs"]["principal"]) for r in doc["resources"]
                 if r["type"] == "databricks:index/grant:Grant"}  # per-principal grants (the system catalog)
    rows = reports[stack].of_kind("grant matrix row")
    assert len(rows) == len(declared) > 0
    admins = next(c for c in rows if c.id.startswith("catalog ") and c.id.endswith("/ mlops-platform-admins"))
    assert admins.title.endswith("BROWSE, MANAGE, USE_CATALOG, USE_SCHEMA") and admins.status == "pass"


@pytest.mark.parametrize(("source", "builtins"), [
    ("AzP Storage_AuditForHTTPSEnabled_Audit; CKV_AZURE_3", ["Storage_AuditForHTTPSEnabled_Audit"]),
    ("CKV2_AZURE_48", []),
    ("SAT GOV-12; AzP Databricks_VNETEnabled_Audit", ["Databricks_VNETEnabled_Audit"]),
    ("", []),
])
def test_a_rule_encodes_the_builtins_its_source_names(source: str, builtins: list[str]) -> None:
    rule = RULES_BY_NAME["storage-https-only"]
    assert builtin_policies(type(rule)(**{**rule.__dict__, "source": source})) == builtins


@pytest.mark.parametrize(("stack", "builtin", "status"), [
    ("dev", "Databricks_AuditPublicNetworkAccess", "warn"),
    ("test", "StoragePublicNetworkAccess_AuditDeny", "warn"),
    ("prod", "Databricks_AuditPublicNetworkAccess", "pass"),
    ("prod", "Storage_AuditForHTTPSEnabled_Audit", "pass"),
])
def test_a_builtin_policy_has_the_status_of_the_rule_that_encodes_it(
        stack: str, builtin: str, status: str, reports: dict[str, ComplianceReport]) -> None:
    control = next(c for c in reports[stack].of_kind("Azure built-in policy") if c.id == builtin)
    assert control.status == status and control.evidence[0].startswith("encoded by rule ")


def test_a_mandatory_violation_fails_the_rule_its_builtin_and_the_grant_row() -> None:
    doc = plan_of("prod").as_json()
    for res in doc["resources"]:
        if res["type"] == "azure-native:storage:StorageAccount":
            res["inputs"]["enableHttpsTrafficOnly"] = False
        if res["type"] == "databricks:index/grants:Grants" and res["inputs"].get("catalog") == "ml_prod_catalog":
            res["inputs"]["grants"].append({"principal": "someone-else", "privileges": ["ALL_PRIVILEGES"]})
    report = _report("prod", doc)
    by_id = {(c.kind, c.id): c for c in report.controls}
    assert by_id["policy rule", "storage-https-only"].status == "fail"
    assert by_id["Azure built-in policy", "Storage_AuditForHTTPSEnabled_Audit"].status == "fail"
    row = by_id["grant matrix row", "catalog ml_prod_catalog / someone-else"]
    assert row.status == "fail" and any("ALL_PRIVILEGES" in e for e in row.evidence)
    assert report.verdict == "FAIL" and report.exit_code == 1


def test_disabled_and_not_applicable_controls() -> None:
    doc = plan_of("dev").as_json()
    doc["resources"] = [r for r in doc["resources"] if r["type"] != "databricks:index/job:Job"]
    report = _report("dev", doc, {"all": "mandatory", "storage-https-only": "disabled"})
    by_id = {c.id: c for c in report.controls}
    assert by_id["storage-https-only"].status == "disabled"
    assert by_id["cluster-no-dbfs-init-scripts"].status == "n/a"


@pytest.mark.parametrize(("statuses", "expected"), [
    (["pass", "warn"], "warn"), (["pass", "fail", "warn"], "fail"), (["n/a", "pass"], "pass"),
    (["disabled", "n/a"], "n/a"), ([], "n/a")])
def test_the_worst_status_wins(statuses: list[Any], expected: str) -> None:
    assert worst(statuses) == expected


def test_markdown_has_a_section_per_kind_and_escapes_table_cells() -> None:
    doc = plan_of("prod").as_json()
    grants = next(r for r in doc["resources"] if r["type"] == "databricks:index/grants:Grants")
    grants["inputs"]["grants"].append({"principal": "a|b", "privileges": ["USE_CATALOG"]})
    text = markdown(_report("prod", doc))
    for heading in ("Policy rules", "Azure built-in policies", "Grant matrix rows", "Deploy-readiness rules"):
        assert re.search(rf"^## {heading} \(\d+\)$", text, re.M)
    assert "a\\|b" in text and "| a|b" not in text


def test_the_html_page_is_self_contained_and_escaped() -> None:
    doc = plan_of("prod").as_json()
    grants = next(r for r in doc["resources"] if r["type"] == "databricks:index/grants:Grants")
    grants["inputs"]["grants"].append({"principal": "<script>x</script>", "privileges": ["USE_CATALOG"]})
    page = render_html([_report("prod", doc)])
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<style>" in page and page.startswith("<!DOCTYPE html>")


def test_cli_writes_markdown_and_html_and_fails_on_a_failing_control(mlopsctl: Mlopsctl, tmp_path: Path) -> None:
    result = mlopsctl("compliance", "--stack", "test", "--html", str(tmp_path / "c.html"),
                      "--markdown", str(tmp_path / "c.md"))
    assert result.returncode == 0, result.stderr
    assert "compliance PASS: stack test" in result.stderr and result.stdout == ""
    assert (tmp_path / "c.md").read_text().startswith("# Compliance report: stack `test`")
    assert 'data-stack="test"' in (tmp_path / "c.html").read_text()
    doc = plan_of("prod").as_json()
    next(r for r in doc["resources"] if r["type"] == "azure-native:storage:StorageAccount")["inputs"][
        "enableHttpsTrafficOnly"] = False
    (tmp_path / "prod.json").write_text(json.dumps(doc))
    failed = mlopsctl("compliance", "--plan", str(tmp_path / "prod.json"))
    assert failed.returncode == 1 and "compliance FAIL: stack prod" in failed.stderr
    assert "| `storage-https-only`" in failed.stdout


def test_cli_without_a_stack_or_plan_says_what_to_give(mlopsctl: Mlopsctl) -> None:
    result = mlopsctl("compliance")
    assert result.returncode == 2
    assert "give --stack S (planned offline) or --plan FILE (a plan JSON)" in result.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless check needs Chromium (Debian: apt-get install -y chromium)")
def test_a_headless_browser_renders_every_stacks_controls(tmp_path: Path, reports: dict[str, ComplianceReport],
                                                          ) -> None:
    page = tmp_path / "compliance.html"
    page.write_text(render_html([reports[s] for s in STACKS]))
    flags = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "compliance.png"
    runs = [subprocess.Popen([*flags, "--dump-dom", page.as_uri()], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True),
            subprocess.Popen([*flags, f"--user-data-dir={tmp_path / 'profile2'}", f"--screenshot={shot}",
                              "--window-size=1280,1600", page.as_uri()],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    dom, _ = runs[0].communicate(timeout=60)
    runs[1].wait(timeout=60)
    assert runs[0].returncode == 0 and runs[1].returncode == 0
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    rendered = set(re.findall(r'<tr id="([^"]+)" class="control"', dom))
    for stack in STACKS:
        expected = {f"{stack}-{c.anchor}" for c in reports[stack].controls}
        assert len(expected) == len(reports[stack].controls), "control anchors must be unique per stack"
        assert expected <= rendered, f"{stack}: controls missing from the rendered page"
        kinds = set(re.findall(rf'data-stack="{stack}" data-kind="([^"]+)"', dom))
        assert kinds == set(KINDS)


def _yaml(path: str) -> Any:
    import yaml

    return yaml.load((Path(__file__).parents[1] / path).read_text(), Loader=yaml.BaseLoader)


def test_ci_attaches_the_report_to_every_pr_and_deploy() -> None:
    offline = _yaml(".github/workflows/pr.yml")["jobs"]["offline"]["steps"]
    deploy = _yaml(".github/workflows/deploy-stack.yml")["jobs"]["up"]["steps"]
    for steps, artifact in ((offline, "compliance-${{ matrix.stack }}"),
                            (deploy, "compliance-${{ inputs.stack }}-deploy")):
        report = next(i for i, s in enumerate(steps) if "mlopsctl compliance" in s.get("run", ""))
        assert "--html" in steps[report]["run"] and "--markdown" in steps[report]["run"]
        upload = next(s for s in steps[report:] if s.get("uses", "").startswith("actions/upload-artifact@"))
        assert upload["with"]["name"] == artifact and upload["if"] == "always()"
    up = next(i for i, s in enumerate(deploy) if s.get("with", {}).get("command") == "up")
    assert report < up  # the report is attached even when the deploy then fails
    pipeline = _yaml("azure-pipelines.yml")
    scripts = [step.get("script", "") for stage in pipeline["stages"] for job in stage["jobs"]
               for step in job.get("steps") or job.get("strategy", {}).get("runOnce", {}).get("deploy", {})
               .get("steps", [])]
    assert sum("mlopsctl compliance" in s for s in scripts) == 1 + len(STACKS)  # the offline matrix + each deploy
