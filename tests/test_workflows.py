"""Delivery files: GitHub workflows, the Azure pipeline, the drift and state scripts.

Schema validation, zizmor and the secrets scan run in `make check-ci` (a prerequisite of `make test`); these
tests pin the properties the design depends on: pinning, least privilege, fork safety, the deploy order, the
drift exit codes and the state bootstrap.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # BaseLoader: keep `on:` a string key
    assert isinstance(doc, dict)
    return doc


def _workflows() -> dict[str, dict[str, Any]]:
    return {p.name: _load(p) for p in sorted(WORKFLOWS.glob("*.yml"))}


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def test_the_workflows_exist() -> None:
    assert sorted(_workflows()) == ["deploy-stack.yml", "deploy.yml", "drift.yml", "pr-comment.yml", "pr.yml"]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_actions_are_pinned_to_commit_shas_with_a_version_comment(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    for line in text.splitlines():
        match = re.match(r"^\s*(?:- )?uses: (\S+)(.*)$", line)
        if not match or match.group(1).startswith("./"):
            continue
        assert SHA_PIN.match(match.group(1)), line
        assert re.match(r"^ # v\d+\.\d+\.\d+$", match.group(2)), f"version comment missing: {line}"


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_least_privilege_and_no_persisted_credentials(name: str) -> None:
    doc = _workflows()[name]
    assert doc["permissions"] == {}, "the workflow default grants nothing"
    for job_id, job in doc["jobs"].items():
        assert "permissions" in job, f"{name}:{job_id} declares its permissions"
        perms = job["permissions"]
        assert perms == {} or set(perms.values()) <= {"read", "write", "none"}
        writes = {k for k, v in (perms or {}).items() if v == "write"}
        assert writes <= {"id-token", "pull-requests"}, f"{name}:{job_id} writes {writes}"
    for step in _steps(doc):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] == "false"
    # Secrets: only the workflow token is referenced; identities are OIDC, ids are plain variables.
    assert set(re.findall(r"secrets\.(\w+)", (WORKFLOWS / name).read_text())) <= {"GITHUB_TOKEN"}


def test_pr_workflow_is_read_only_and_fork_safe() -> None:
    doc = _workflows()["pr.yml"]
    assert set(doc["on"]) == {"pull_request"}  # never pull_request_target
    jobs = doc["jobs"]
    assert {j: jobs[j]["permissions"] for j in ("test", "offline", "comment-body")} == {
        "test": {"contents": "read"}, "offline": {"contents": "read"}, "comment-body": {}}
    assert jobs["offline"]["strategy"]["matrix"]["stack"] == ["dev", "test", "prod"]
    offline = "\n".join(s.get("run", "") for s in jobs["offline"]["steps"])
    for command in ("git worktree add --detach ../base \"$BASE_SHA\"", "mlopsctl plan --stack \"$STACK\"",
                    ".venv/bin/mlopsctl diff", ".venv/bin/mlopsctl check", ".venv/bin/mlopsctl diagram"):
        assert command in offline
    assert "${{" not in offline, "event values reach scripts only through env"
    # Cloud preview: only for branches of this repository (forks have no secrets / OIDC), with the policy pack.
    preview = jobs["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["policyPacks"] == "infra/policy"
    assert pulumi["with"]["comment-on-pr"] == "true"


def test_comment_workflow_never_runs_pr_code() -> None:
    doc = _workflows()["pr-comment.yml"]
    assert set(doc["on"]) == {"workflow_run"} and doc["on"]["workflow_run"]["workflows"] == ["PR"]
    job = doc["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    uses = [s.get("uses", "").split("@")[0] for s in job["steps"]]
    assert uses == ["actions/download-artifact", "actions/github-script"]
    assert not any("run" in s for s in job["steps"])
    script = job["steps"][1]["with"]["script"]
    assert "<!-- mlops-platform:offline-plan -->" in script
    assert "pr.head.sha !== process.env.HEAD_SHA" in script  # artifact accepted only for its own commit
    assert "updateComment" in script and "createComment" in script
    body_job = "\n".join(s.get("run", "") for s in _workflows()["pr.yml"]["jobs"]["comment-body"]["steps"])
    assert 'echo "<!-- mlops-platform:offline-plan -->"' in body_job


def test_deploys_go_dev_then_test_then_prod_in_environments_with_policy_pack_and_verify() -> None:
    jobs = _workflows()["deploy.yml"]["jobs"]
    assert _workflows()["deploy.yml"]["on"]["push"]["branches"] == ["main"]
    chain = [(j, jobs[j].get("needs"), jobs[j].get("with", {}).get("stack")) for j in ("dev", "test-stack", "prod")]
    assert chain == [("dev", "test", "dev"), ("test-stack", "dev", "test"), ("prod", "test-stack", "prod")]
    stack_job = _workflows()["deploy-stack.yml"]["jobs"]["up"]
    assert stack_job["environment"] == "${{ inputs.stack }}"  # required reviewers live on the environment
    assert stack_job["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": "false"}
    up = next(s for s in stack_job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert (up["with"]["command"], up["with"]["policyPacks"]) == ("up", "infra/policy")
    assert ".venv/bin/mlopsctl verify --stack \"$STACK\" --outputs outputs.json" in stack_job["steps"][-1]["run"]
    login = next(s for s in stack_job["steps"] if s.get("uses", "").startswith("azure/login@"))
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}  # OIDC: no client secret


def test_drift_runs_nightly_per_stack() -> None:
    doc = _workflows()["drift.yml"]
    assert doc["on"]["schedule"] == [{"cron": "17 3 * * *"}]
    job = doc["jobs"]["drift"]
    assert job["strategy"]["matrix"]["stack"] == ["dev", "test", "prod"]
    assert job["strategy"]["fail-fast"] == "false"
    assert job["steps"][-1]["run"] == 'scripts/drift-check.sh "$STACK"'


def _fake_pulumi(tmp_path: Path, exit_code: int) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pulumi"
    fake.write_text(f'#!/usr/bin/env bash\necho "pulumi $*"\necho "~ 1 to update"\nexit {exit_code}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_STEP_SUMMARY": str(tmp_path / "sum")}


# pulumi exit code -> (script exit code, annotation, summary heading)
DRIFT_CASES = {
    0: (0, None, "### prod: no drift"),
    7: (1, "::error title=Drift in prod::", "### prod: DRIFT"),
    255: (2, "::error title=Drift check failed for prod::pulumi preview exited 255", "### prod: drift check FAILED"),
    3: (2, "::error title=Drift check failed for prod::pulumi preview exited 3 (an error, not drift)",
        "### prod: drift check FAILED (pulumi exit 3)"),
}


@pytest.mark.parametrize("pulumi_exit", sorted(DRIFT_CASES))
def test_drift_check_tells_drift_from_errors(tmp_path: Path, pulumi_exit: int) -> None:
    env = _fake_pulumi(tmp_path, pulumi_exit)
    result = subprocess.run([str(PROJECT_DIR / "scripts" / "drift-check.sh"), "prod"], capture_output=True,
                            text=True, env=env, timeout=30)
    code, annotation, heading = DRIFT_CASES[pulumi_exit]
    assert result.returncode == code
    assert "pulumi preview --stack prod --refresh --expect-no-changes --diff --non-interactive" in result.stdout
    if annotation:
        assert annotation in result.stdout
    summary = (tmp_path / "sum").read_text()
    assert summary.startswith(heading)
    assert ("~ 1 to update" in summary) == (pulumi_exit == 7)


def test_azure_pipeline_stages_and_approvals() -> None:
    doc = _load(PROJECT_DIR / "azure-pipelines.yml")
    stages = {s["stage"]: s for s in doc["stages"]}
    assert list(stages) == ["Validate", "DeployDev", "DeployTest", "DeployProd"]
    assert doc["pr"]["branches"]["include"] == ["develop", "main"]
    env = {name: s["jobs"][0].get("environment") for name, s in stages.items()}
    assert env == {"Validate": None, "DeployDev": "mlops-dev", "DeployTest": "mlops-test", "DeployProd": "mlops-prod"}
    assert "isDevelop" in stages["DeployDev"]["condition"] and "isDevelop" in stages["DeployTest"]["condition"]
    assert stages["DeployTest"]["dependsOn"] == "DeployDev"
    assert "isMain" in stages["DeployProd"]["condition"]
    for name in ("DeployDev", "DeployTest", "DeployProd"):
        steps = stages[name]["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"]
        script = next(s for s in steps if s.get("task") == "AzureCLI@2")["inputs"]["inlineScript"]
        stack = name.removeprefix("Deploy").lower()
        assert f"pulumi up --stack {stack} --yes --diff --non-interactive --policy-pack infra/policy" in script
        assert f"mlopsctl verify --stack {stack} --outputs outputs.json" in script
    prod_steps = stages["DeployProd"]["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"]
    assert 'git push origin "refs/tags/$tag"' in prod_steps[-1]["script"]


def test_make_test_runs_the_ci_checks() -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert re.search(r"^test: check-ci ", makefile, re.M)
    block = makefile.split("check-ci: $(STAMP)\n", 1)[1].split("\n\n", 1)[0]
    assert "--builtin-schema vendor.github-workflows .github/workflows/*.yml" in block
    assert "--builtin-schema vendor.azure-pipelines azure-pipelines.yml" in block
    assert "zizmor --offline" in block and "cp .secrets.baseline $$baseline" in block
    assert "detect-secrets-hook --baseline $$baseline" in block
