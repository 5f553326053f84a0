"""Environments are data: the stacks are the Pulumi.<stack>.yaml files, in promotion order, and every tool and
CI matrix takes them from there."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import PROJECT_DIR, known_stacks, stack_order, standby_stacks

SCRIPT = PROJECT_DIR / "scripts" / "stacks.sh"
WORKFLOWS = PROJECT_DIR / ".github" / "workflows"


def _project(tmp_path: Path, extra: dict[str, str]) -> Path:
    for stack in known_stacks():
        shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", tmp_path / f"Pulumi.{stack}.yaml")
    for stack, environment in extra.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(f"config:\n  mlops-platform:environment: {environment}\n")
    return tmp_path


def _script(*args: str) -> str:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=True, timeout=30).stdout


def test_the_checked_in_stacks_in_promotion_order() -> None:
    """The standby (infra/standby) deploys with --config-file, outside the promotion and the CI matrices."""
    assert stack_order() == ["dev", "test", "prod"]
    assert standby_stacks() == ["prod-dr"]
    assert _script().split() == ["dev", "test", "prod"]


@pytest.mark.parametrize(("extra", "expected"), [
    ({"staging": "test"}, ["dev", "staging", "test", "prod"]),  # same tier: by name
    ({"sandbox": "dev", "dr": "prod"}, ["dev", "sandbox", "test", "dr", "prod"]),
    ({"scratch": "nonsense"}, ["dev", "test", "prod", "scratch"]),  # an unknown tier sorts last
])
def test_a_new_stack_file_is_a_new_stack_in_its_tier(tmp_path: Path, extra: dict[str, str],
                                                      expected: list[str]) -> None:
    project = _project(tmp_path, extra)
    assert stack_order(project) == expected
    assert _script(str(project)).split() == expected, "scripts/stacks.sh must agree with stack_order()"


def test_the_ci_forms_of_the_list() -> None:
    assert json.loads(_script("--json")) == ["dev", "test", "prod"]
    assert json.loads(_script("--azure-matrix")) == {s: {"STACK": s} for s in ("dev", "test", "prod")}


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)


def test_no_workflow_lists_the_stacks_in_a_matrix() -> None:
    """A per-stack matrix written out in a workflow would leave a new stack out without a word."""
    for path in [*WORKFLOWS.glob("*.yml"), PROJECT_DIR / "azure-pipelines.yml"]:
        text = path.read_text()
        assert "[dev, test, prod]" not in text and "for stack in dev test prod" not in text, path.name
    pipeline = _load(PROJECT_DIR / "azure-pipelines.yml")
    jobs = {j["job"]: j for stage in pipeline["stages"] for j in stage.get("jobs", []) if "job" in j}
    assert jobs["offline"]["strategy"]["matrix"] == "$[ dependencies.stacks.outputs['list.matrix'] ]"
    assert "scripts/stacks.sh --azure-matrix" in jobs["stacks"]["steps"][1]["script"]


def test_every_stack_has_a_gated_deploy() -> None:
    """The deploy chains stay explicit (each stack has its own environment and approvals), so a new stack
    file must come with its deploy job: this names the one that is missing."""
    deploy = _load(WORKFLOWS / "deploy.yml")["jobs"]
    deployed = {job["with"]["stack"] for job in deploy.values() if "with" in job and "stack" in job["with"]}
    pipeline = _load(PROJECT_DIR / "azure-pipelines.yml")
    staged = {job["environment"].removeprefix("mlops-") for stage in pipeline["stages"]
              for job in stage.get("jobs", []) if "deployment" in job}
    for stack in stack_order():
        assert stack in deployed, f"{stack}: add a job to .github/workflows/deploy.yml (docs: adding an environment)"
        assert stack in staged, f"{stack}: add a deploy stage to azure-pipelines.yml (docs: adding an environment)"
