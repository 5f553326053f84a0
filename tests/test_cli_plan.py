"""`mlopsctl plan`: tree, the plan JSON, and user errors without tracebacks (in process; the installed entry
point itself is run by the --version, closed-pipe and first-deploy tests)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.config import PROJECT_DIR, ConfigError
from mlopsctl.plan.engine import run_program
from tests.support import Mlopsctl, plan_of, set_path, stack_raw

MLOPSCTL = [sys.executable, "-m", "mlopsctl"]


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for stack in ("dev", "test", "prod"):
        shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MLOPSCTL, *args], capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120)


def test_plan_prints_tree_and_summary_and_writes_design_json(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    out = tmp_path / "prod.json"
    result = mlopsctl("plan", "--stack", "prod", "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "mlops:platform:Platform" in result.stdout and "azure-native:databricks:Workspace" in result.stdout
    assert "prod:" in result.stdout and "resources" in result.stdout
    doc = json.loads(out.read_text())
    assert set(doc) == {"project", "stack", "resources"}
    assert (doc["project"], doc["stack"]) == ("mlops-platform", "prod")
    keys = {"urn", "type", "name", "id", "parent", "provider", "custom", "protect", "retainOnDelete",
            "dependencies", "inputs"}
    urns = {r["urn"] for r in doc["resources"]}
    for res in doc["resources"]:
        assert set(res) == keys
        assert res["parent"] is None or res["parent"] in urns
        assert set(res["dependencies"]) <= urns
        if res["type"].startswith("azure-native:"):
            assert res["id"].startswith("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/")
            # the default provider, or an explicit one inside a component (the hub subscription's, for the hub
            # side of the runner's VNet peering): urn:pulumi:prod::mlops-platform::<parent types>$pulumi:providers:...
            assert res["provider"].startswith("urn:pulumi:prod::mlops-platform::")
            assert "pulumi:providers:azure-native::" in res["provider"]
        if not res["custom"]:
            assert res["provider"] is None


def test_bad_config_exits_non_zero_with_one_line_per_problem_and_no_traceback(
        tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    text = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
    text = text.replace("vnetCidr: 10.1.0.0/16", "vnetCidr: 10.1.0.0/33")
    text = text.replace("owner: mlops-platform-team", "ownr: mlops-platform-team")
    project = _project(tmp_path, {"Pulumi.dev.yaml": text})
    result = mlopsctl("plan", "--stack", "dev", "--project-dir", str(project))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert "dev: network.vnetCidr: '10.1.0.0/33' is not a valid CIDR (e.g. '10.10.0.0/16')" in lines
    assert "dev: tags.ownr: unknown key (a typo?); see the configuration reference in docs/configuration.md" in lines
    assert "dev: tags.owner: required key is missing" in lines
    assert lines[-1] == "3 problem(s) in the stack configuration; nothing was declared."


def test_unparsable_stack_file_names_file_and_line(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    project = _project(tmp_path, {"Pulumi.dev.yaml": "config:\n  mlops-platform:environment: dev\n  bad: [1, 2\n"})
    result = mlopsctl("plan", "--stack", "dev", "--project-dir", str(project))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("dev: Pulumi.dev.yaml: line 4, column 1: not valid YAML")


def test_missing_stack_file_is_named(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    result = mlopsctl("plan", "--stack", "staging", "--project-dir", str(_project(tmp_path, {})))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("staging: Pulumi.staging.yaml: stack file not found")
    assert "dev, prod, test" in result.stderr


def test_the_program_declares_nothing_when_config_is_bad() -> None:
    raw = set_path(stack_raw("dev"), "network.vnetCidr", "not-a-cidr")
    with pytest.raises(ConfigError) as info:
        run_program("dev", raw)
    assert info.value.problems == ["dev: network.vnetCidr: 'not-a-cidr' is not a valid CIDR (e.g. '10.10.0.0/16')"]
    assert info.value.declared == 0


def test_runs_are_isolated_from_each_other() -> None:
    """A second run in the same process (the cached plan was the first) declares the same thing."""
    again = run_program("dev", stack_raw("dev"))
    assert [r.as_json() for r in again.resources] == [r.as_json() for r in plan_of("dev").resources]


# --- output for people ---------------------------------------------------------------------------------

def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0 and result.stdout.startswith("mlopsctl ")


def test_a_closed_pipe_is_not_an_error() -> None:
    """`mlopsctl check --list | head -1`: no BrokenPipeError traceback."""
    proc = subprocess.Popen([*MLOPSCTL, "check", "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=PROJECT_DIR)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "Traceback" not in err and "BrokenPipe" not in err


def test_quiet_is_one_line_per_stack_and_counts_agree_with_check(tmp_path: Path, mlopsctl: Mlopsctl) -> None:
    result = mlopsctl("plan", "--stack", "dev", "--quiet", "--json", str(tmp_path / "dev.json"))
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    doc = json.loads((tmp_path / "dev.json").read_text())
    custom = sum(1 for r in doc["resources"] if r["custom"])
    components = len(doc["resources"]) - custom
    assert line == (f"dev: {custom} resources ({components} components); policy PASS: 0 mandatory, 13 advisory; "
                    f"plan JSON: {tmp_path / 'dev.json'}")
    checked = mlopsctl("check", str(tmp_path / "dev.json"))
    assert f"rules over {custom} resources" in " ".join(checked.stdout.split())


def test_names_print_as_written_not_as_markup() -> None:
    """An alert named '[dev] ml-model-...' keeps its '[dev]' in the tree."""
    from rich.console import Console

    from mlopsctl.reports.tree import print_plan

    plan = copy.deepcopy(plan_of("dev"))
    plan.resources[-1].name = "[dev] ml-model-drift"
    console = Console(width=300, record=True)
    print_plan(plan, console)
    assert "[dev] ml-model-drift" in console.export_text()


def test_policy_report_reads_at_80_columns() -> None:
    """Rule names do not wrap mid-word at 80 columns."""
    from rich.console import Console

    from infra.policy.offline import check_plan
    from mlopsctl.reports.policy_report import print_report

    report = check_plan(plan_of("dev").as_json())
    console = Console(width=80, record=True)
    print_report(report, console)
    words = console.export_text().replace("│", " ").split()
    assert report.verdicts and all(v.rule in words for v in report.verdicts)


def test_all_stacks_print_in_promotion_order(mlopsctl: Mlopsctl) -> None:
    """`--stack all`: dev, test, prod (the order changes promote in), not the alphabet's dev, prod, test."""
    for stack in ("dev", "test", "prod"):
        plan_of(stack)  # cached before the workers fork, so they plan nothing again
    result = mlopsctl("plan", "--stack", "all", "--quiet")
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["dev", "test", "prod"]
