"""Delivery files: GitHub workflows, the Azure pipeline, the drift and state scripts.

Schema validation, zizmor and the secrets scan run in `make check-ci` (a prerequisite of `make test`); these
tests pin the properties the design depends on: pinning, least privilege, fork safety, the deploy order, the
drift exit codes and the state bootstrap.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time
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
    assert sorted(_workflows()) == ["deploy-stack.yml", "deploy.yml", "drift.yml", "pr-comment.yml", "pr.yml",
                                    "preview.yml"]


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


# Per-stack matrices come from the stack files (scripts/stacks.sh), never from a list in the workflow.
STACK_MATRIX = "${{ fromJSON(needs.stacks.outputs.list) }}"


def test_pr_workflow_is_read_only_and_fork_safe() -> None:
    doc = _workflows()["pr.yml"]
    assert set(doc["on"]) == {"pull_request"}  # never pull_request_target
    jobs = doc["jobs"]
    assert {j: jobs[j]["permissions"] for j in ("test", "offline", "comment-body")} == {
        "test": {"contents": "read"}, "offline": {"contents": "read"}, "comment-body": {}}
    assert jobs["offline"]["strategy"]["matrix"]["stack"] == STACK_MATRIX and "stacks" in jobs["offline"]["needs"]
    offline = "\n".join(s.get("run", "") for s in jobs["offline"]["steps"])
    for command in ("git worktree add --detach ../base \"$BASE_SHA\"", "mlopsctl plan --stack \"$STACK\"",
                    ".venv/bin/mlopsctl diff", ".venv/bin/mlopsctl check", ".venv/bin/mlopsctl diagram"):
        assert command in offline
    assert "${{" not in offline, "event values reach scripts only through env"
    assert "preview" not in jobs  # preview.yml: it waits for approvals


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
    assert chain == [("dev", ["test", "select"], "dev"), ("test-stack", ["test", "select", "dev"], "test"),
                     ("prod", ["test", "select", "dev", "test-stack"], "prod")]
    stack_job = _workflows()["deploy-stack.yml"]["jobs"]["up"]
    assert stack_job["environment"] == "${{ inputs.stack }}"  # required reviewers live on the environment
    assert stack_job["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": "false"}
    up = next(s for s in stack_job["steps"] if s.get("uses", "").startswith("pulumi/actions@")
              and "command" in s["with"])
    assert (up["with"]["command"], up["with"]["policyPacks"]) == ("up", "infra/policy")
    verify = next(s for s in stack_job["steps"] if "mlopsctl verify" in s.get("run", ""))
    assert ".venv/bin/mlopsctl verify --stack \"$STACK\" --outputs outputs.json" in verify["run"]
    login = next(s for s in stack_job["steps"] if s.get("uses", "").startswith("azure/login@"))
    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}  # OIDC: no client secret


def test_drift_runs_nightly_per_stack() -> None:
    doc = _workflows()["drift.yml"]
    assert doc["on"]["schedule"] == [{"cron": "17 3 * * *"}]
    job = doc["jobs"]["drift"]
    assert job["strategy"]["matrix"]["stack"] == STACK_MATRIX and job["needs"] == "stacks"
    assert job["strategy"]["fail-fast"] == "false"
    assert [s["run"] for s in job["steps"] if "drift-check" in s.get("run", "")] == ['scripts/drift-check.sh "$STACK"']


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


def test_make_test_runs_the_ci_checks() -> None:
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert re.search(r"^test: check-ci ", makefile, re.M)
    block = makefile.split("check-ci: $(STAMP)\n", 1)[1].split("\n\n", 1)[0]
    assert "--builtin-schema vendor.github-workflows .github/workflows/*.yml" in block
    assert "--builtin-schema vendor.azure-pipelines azure-pipelines.yml" in block
    # every file scanned, by two scanners, each on its own copy of the baseline (the hook rewrites it)
    assert "zizmor --offline" in block and "git ls-files -z --cached --others --exclude-standard" in block
    assert "xargs -0 -P 2" in block and 'cp .secrets.baseline "$$b"' in block
    assert '$(BIN)/detect-secrets-hook --baseline "$$b" "$$@"' in block


# --- the delivery path's gates, read from the workflows and the pipeline as data ---------------------------

STACKS = ("dev", "test", "prod")
PIPELINE = PROJECT_DIR / "azure-pipelines.yml"
DEPLOY_STAGES = {"DeployDev": "dev", "DeployTest": "test", "DeployProd": "prod"}


def _pipeline() -> dict[str, Any]:
    return _load(PIPELINE)


def _pipeline_variables() -> dict[str, str]:
    """The pipeline's variables by name (list form: `- name:`/`value:` entries next to `- group:`)."""
    return {v["name"]: v["value"] for v in _pipeline()["variables"] if "name" in v}


def _stage_steps(stage: dict[str, Any]) -> list[dict[str, Any]]:
    return list(stage["jobs"][0]["strategy"]["runOnce"]["deploy"]["steps"])


def _stage_script(stage: dict[str, Any]) -> str:
    return str(next(s for s in _stage_steps(stage) if s.get("task") == "AzureCLI@2")["inputs"]["inlineScript"])


def _pulumi_steps(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(job id, job, step) for every pulumi/actions step that runs a command."""
    return [(jid, job, step) for jid, job in doc["jobs"].items() for step in job.get("steps", [])
            if step.get("uses", "").startswith("pulumi/actions@") and "command" in step.get("with", {})]


def _stack_expr(job: dict[str, Any]) -> str:
    """The expression a job's stack comes from: a reusable workflow's input or a matrix value."""
    return "${{ inputs.stack }}" if job.get("environment") == "${{ inputs.stack }}" else "${{ matrix.stack }}"


def test_stack_references_name_the_diy_organisation() -> None:
    """Finding: StackReferences must name `organization` on the DIY backend (pulumi/pulumi pkg/backend/diy/store.go,
    ParseReference refuses any other organisation), or test and prod cannot read dev's outputs."""
    assert _pipeline_variables()["PULUMI_BACKEND_URL"].startswith("azblob://")
    for stack in STACKS:
        config = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert config["mlops-platform:unityCatalog"]["stackReferences"]["organization"] == "organization", stack


def test_every_preview_and_up_names_its_own_policy_config() -> None:
    """Finding: CI passed the policy pack without the stack's enforcement file, so every rule was mandatory and
    dev and test failed on what they relax on purpose."""
    seen = set()
    for name, doc in _workflows().items():
        for jid, job, step in _pulumi_steps(doc):
            if step["with"]["command"] not in ("preview", "up"):
                continue
            stack = _stack_expr(job)
            assert step["with"]["stack-name"] == stack, (name, jid)
            assert step["with"]["policyPacks"] == "infra/policy", (name, jid)
            assert step["with"]["policyPackConfigs"] == f"infra/policy/config/{stack}.json", (name, jid)
            seen.add((name, step["with"]["command"]))
    assert seen == {("preview.yml", "preview"), ("deploy-stack.yml", "up")}
    for stage, stack in DEPLOY_STAGES.items():
        script = _stage_script({s["stage"]: s for s in _pipeline()["stages"]}[stage])
        runs = [line for line in script.splitlines() if re.match(r"\s*pulumi (up|preview)\b", line)]
        assert runs and all(f"--stack {stack} " in r and "--policy-pack infra/policy " in r
                            and r.endswith(f"--policy-pack-config infra/policy/config/{stack}.json") for r in runs)
    for stack in STACKS:
        assert (PROJECT_DIR / "infra" / "policy" / "config" / f"{stack}.json").is_file()


def test_deploys_run_dev_then_test_then_prod_behind_environments_in_both_ci_systems() -> None:
    """Finding: Azure Pipelines deployed prod from main without that commit going through dev and test, with no
    lock and no PR gate; GitHub and Azure DevOps now apply the same order, environments and locks."""
    jobs = _workflows()["deploy.yml"]["jobs"]
    assert [(jobs[j]["needs"][-1], jobs[j]["with"]["stack"]) for j in ("dev", "test-stack", "prod")] == \
        [("select", "dev"), ("dev", "test"), ("test-stack", "prod")]
    assert _workflows()["deploy-stack.yml"]["jobs"]["up"]["environment"] == "${{ inputs.stack }}"
    doc = _pipeline()
    assert doc["trigger"]["branches"]["include"] == ["main"]
    assert doc["lockBehavior"] == "sequential"
    stages = {s["stage"]: s for s in doc["stages"]}
    assert [(s, stages[s]["dependsOn"]) for s in DEPLOY_STAGES] == \
        [("DeployDev", "Validate"), ("DeployTest", "DeployDev"), ("DeployProd", "DeployTest")]
    for stage, stack in DEPLOY_STAGES.items():
        assert "eq(variables.isMain, true)" in stages[stage]["condition"], stage  # the same commit, every stage
        assert stages[stage]["jobs"][0]["environment"] == f"mlops-{stack}"
        assert "deployment" in stages[stage]["jobs"][0]
    # What YAML cannot say is set on the environments and the repository; the pipeline and the guide say so.
    header = PIPELINE.read_text().split("\ntrigger:", 1)[0]
    for words in ("Exclusive Lock", "Approvals", "Build validation", "branch policy", "keepAzSessionActive"):
        assert words in header, words
    guide = (PROJECT_DIR / "docs" / "delivery.md").read_text()
    for words in ("required reviewers", "Exclusive Lock", "Approvals", "Build validation", "mlops-test",
                  "mlops-prod"):
        assert words in guide, words


def test_every_job_has_a_timeout_long_enough_for_a_first_prod_deploy() -> None:
    """Finding: no job had a timeout (Azure DevOps cancels at its default mid-update, GitHub waits 6 hours)."""
    for name, doc in _workflows().items():
        for jid, job in doc["jobs"].items():
            if "uses" in job:  # a reusable workflow call: the called workflow's job carries the timeout
                assert job["uses"].startswith("./.github/workflows/"), (name, jid)
                continue
            minutes = int(job["timeout-minutes"])
            assert 5 <= minutes <= 180, (name, jid)
    assert int(_workflows()["deploy-stack.yml"]["jobs"]["up"]["timeout-minutes"]) >= 120
    for stage in _pipeline()["stages"]:
        for job in stage["jobs"]:
            minutes = int(job["timeoutInMinutes"])
            assert 5 <= minutes <= 180, stage["stage"]
            if stage["stage"] in DEPLOY_STAGES:
                assert minutes >= 120


def test_oidc_everywhere_a_token_is_needed_and_it_outlives_a_long_up() -> None:
    """Finding: verify and the state backend used azure/login's CLI session, whose GitHub token expires after
    five minutes (AADSTS700024 after a long up); AZURE_KEYVAULT_AUTH_VIA_CLI did nothing."""
    for name, doc in _workflows().items():
        text = (WORKFLOWS / name).read_text()
        assert "AZURE_KEYVAULT_AUTH_VIA_CLI" not in text and "CLIENT_SECRET" not in text and "creds:" not in text
        for jid, job in doc["jobs"].items():
            steps = job.get("steps", [])
            uses = [s.get("uses", "").split("@")[0] for s in steps]
            if "azure/login" not in uses:
                continue
            assert job["permissions"].get("id-token") == "write", (name, jid)
            env = job["env"]
            assert env["ARM_USE_OIDC"] == "true"  # azure-native fetches a fresh GitHub token per Entra token
            assert env["ARM_CLIENT_ID"] == env["AZURE_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
            assert env["DATABRICKS_AUTH_TYPE"] == "azure-cli"
            login = uses.index("azure/login")
            assert set(steps[login]["with"]) == {"client-id", "tenant-id", "subscription-id"}
            # the keeper starts right after the login, before anything that authenticates, and stops last
            assert steps[login + 1]["run"] == "scripts/azure-session-keeper.sh start", (name, jid)
            first_pulumi = min(i for i, s in enumerate(steps) if "pulumi" in s.get("uses", "") + s.get("run", "")
                               or "drift-check" in s.get("run", ""))
            assert login + 1 < first_pulumi
            assert steps[-1] == {"name": "Stop the Azure session keeper", "if": "always()",
                                 "run": "scripts/azure-session-keeper.sh stop"}
    verify = next(s for s in _workflows()["deploy-stack.yml"]["jobs"]["up"]["steps"]
                  if "mlopsctl verify" in s.get("run", ""))
    assert verify["env"] == {"DATABRICKS_AUTH_TYPE": "github-oidc-azure"}
    text = PIPELINE.read_text()
    assert "AZURE_KEYVAULT_AUTH_VIA_CLI" not in text and "DATABRICKS_AUTH_TYPE=azure-cli .venv" not in text
    for stage, stack in DEPLOY_STAGES.items():
        task = next(s for s in _stage_steps({s["stage"]: s for s in _pipeline()["stages"]}[stage])
                    if s.get("task") == "AzureCLI@2")
        assert task["inputs"]["azureSubscription"] == f"mlops-{stack}"
        assert task["inputs"]["keepAzSessionActive"] == "true"
    for path in (PROJECT_DIR / "scripts").glob("*.sh"):
        assert "AZURE_KEYVAULT_AUTH_VIA_CLI" not in path.read_text(), path


def _pipeline_steps() -> list[tuple[str, dict[str, Any]]]:
    """(stage, step) for every step of every job of the pipeline, deployment jobs included."""
    out = []
    for stage in _pipeline()["stages"]:
        for job in stage["jobs"]:
            steps = job["strategy"]["runOnce"]["deploy"]["steps"] if "deployment" in job else job["steps"]
            out += [(stage["stage"], step) for step in steps]
    return out


def _runs_the_pulumi_cli(step: dict[str, Any]) -> bool:
    script = str(step.get("script", "")) + str(step.get("inputs", {}).get("inlineScript", ""))
    return any(re.match(r"\s*(pulumi|scripts/require-stack\.sh|scripts/drift-check\.sh)\b", line)
               for line in script.splitlines())


def test_the_pipeline_deploys_as_the_service_connection_never_as_the_agent_vm() -> None:
    """Finding: inside AzureCLI@2 the Pulumi CLI's azblob:// state and azurekeyvault:// secrets use azidentity's
    DefaultAzureCredential, which tries the managed identity before the Azure CLI, so on a self-hosted agent VM
    with an identity the state was read and written as the VM instead of the service connection. Every step that
    runs the Pulumi CLI keeps only the CLI credential (AZURE_TOKEN_CREDENTIALS), sets no AZURE_CLIENT_ID (which
    makes the managed identity fail the chain rather than fall through), and pins azure-native's ARM_USE_*
    switches off; the Databricks provider and verify are pinned to the Azure CLI too."""
    pulumi_steps = [(stage, step) for stage, step in _pipeline_steps() if _runs_the_pulumi_cli(step)]
    assert {stage for stage, _ in pulumi_steps} == set(DEPLOY_STAGES)  # the PR stage never reaches the backend
    for stage, step in pulumi_steps:
        assert step.get("task") == "AzureCLI@2", stage
        assert step["inputs"]["azureSubscription"] == f"mlops-{DEPLOY_STAGES[stage]}"
        assert step["inputs"].get("addSpnToEnvironment", "false") == "false", stage
        env = step["env"]
        assert env["AZURE_TOKEN_CREDENTIALS"] == "AzureCLICredential", stage  # azidentity's credNameAzureCLI
        assert {k: env[k] for k in ("ARM_USE_MSI", "ARM_USE_OIDC", "ARM_USE_DEFAULT_AZURE_CREDENTIAL")} == \
            {"ARM_USE_MSI": "false", "ARM_USE_OIDC": "false", "ARM_USE_DEFAULT_AZURE_CREDENTIAL": "false"}, stage
        assert not {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "ARM_CLIENT_ID"} & set(env)
        assert "mlopsctl verify" in step["inputs"]["inlineScript"]
    assert _pipeline_variables()["DATABRICKS_AUTH_TYPE"] == "azure-cli"
    section = (PROJECT_DIR / "docs" / "delivery.md").read_text().split("## 12. Azure DevOps", 1)[1].split("\n## ")[0]
    assert f"AZURE_TOKEN_CREDENTIALS={env['AZURE_TOKEN_CREDENTIALS']}" in section and "managed identity" in section


def test_ci_never_creates_a_stack_and_checks_it_exists_first() -> None:
    """Finding: on a fresh backend no stack exists; pulumi/actions fails on select (or, with upsert, would create
    a passphrase-encrypted stack). Every job checks the stack before any Pulumi command."""
    for name, doc in _workflows().items():
        for jid, job, step in _pulumi_steps(doc):
            assert "upsert" not in step["with"] and "secrets-provider" not in step["with"], (name, jid)
            steps = job["steps"]
            check = next(i for i, s in enumerate(steps) if s.get("run") == 'scripts/require-stack.sh "$STACK"')
            assert check < steps.index(step), (name, jid)
            assert job["env"]["STACK"] == _stack_expr(job)
    drift = _workflows()["drift.yml"]["jobs"]["drift"]["steps"]
    runs = [s.get("run") for s in drift]
    assert runs.index('scripts/require-stack.sh "$STACK"') < runs.index('scripts/drift-check.sh "$STACK"')
    for stage, stack in DEPLOY_STAGES.items():
        script = _stage_script({s["stage"]: s for s in _pipeline()["stages"]}[stage]).splitlines()
        assert script.index(f"scripts/require-stack.sh {stack}") < next(
            i for i, line in enumerate(script) if line.startswith("pulumi up"))


def _project(tmp_path: Path, stack_file: str, listing: str, ls_exit: int = 0) -> dict[str, str]:
    (tmp_path / "Pulumi.yaml").write_text("name: mlops-platform\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(stack_file)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(f"#!/usr/bin/env bash\n[ \"$*\" = \"stack ls --json --non-interactive\" ] || exit 9\n"
                    f"cat <<'JSON'\n{listing}\nJSON\nexit {ls_exit}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k != "TF_BUILD"}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PULUMI_BACKEND_URL": "azblob://pulumi-state",
            "AZURE_STORAGE_ACCOUNT": "mlopsstate123456"}


READY = ("secretsprovider: azurekeyvault://mlopsstate-kv-123456.vault.azure.net/keys/pulumi-dev\n"
         "encryptedkey: ZW5jcnlwdGVka2V5\nconfig: {}\n")


@pytest.mark.parametrize(("stack_file", "listing", "message"), [
    (READY, "[]", "::error title=Stack dev is not ready::stack dev does not exist in azblob://pulumi-state. "
                  "Create it once, as the state admin, with its own Key Vault key: pulumi stack init "
                  "organization/mlops-platform/dev --secrets-provider "
                  "azurekeyvault://<vault>.vault.azure.net/keys/pulumi-dev"),
    ("config: {}\n", '[{"name": "dev"}]', "::error title=Stack dev is not ready::Pulumi.dev.yaml has no "
                                          "'secretsprovider: azurekeyvault://...' and 'encryptedkey:' lines."),
    (READY, '[{"name": "test"}]', "stack dev does not exist"),
])
def test_a_missing_stack_fails_with_what_to_do(tmp_path: Path, stack_file: str, listing: str, message: str) -> None:
    """Finding: a missing stack failed inside pulumi/actions with no hint; now it fails first, saying what to do."""
    env = _project(tmp_path, stack_file, listing)
    result = subprocess.run([str(PROJECT_DIR / "scripts" / "require-stack.sh"), "dev"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 1
    assert message in result.stdout


@pytest.mark.parametrize("name", ["dev", "organization/mlops-platform/dev"])
def test_an_initialised_stack_passes_the_check(tmp_path: Path, name: str) -> None:
    env = _project(tmp_path, READY, json.dumps([{"name": name, "current": False}]))
    result = subprocess.run([str(PROJECT_DIR / "scripts" / "require-stack.sh"), "dev"], cwd=tmp_path,
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0, result.stdout
    assert "stack dev exists in azblob://pulumi-state" in result.stdout


def test_the_release_tag_is_made_with_a_git_identity(tmp_path: Path) -> None:
    """Finding: the prod tag step ran `git tag -a` on an agent with no git identity: it failed after prod deployed.
    Runs the pipeline's step in a repository and a home with no identity configured."""
    stages = {s["stage"]: s for s in _pipeline()["stages"]}
    step = next(s for s in _stage_steps(stages["DeployProd"]) if "tag -a" in s.get("script", ""))
    assert _stage_steps(stages["DeployProd"]).index(step) > next(
        i for i, s in enumerate(_stage_steps(stages["DeployProd"])) if s.get("task") == "AzureCLI@2")
    repo = tmp_path / "repo"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "EMAIL"))}
    env.update(HOME=str(tmp_path), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull,
               # like an agent: no name, no e-mail, and no guessing them from the host
               GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="user.useConfigOnly", GIT_CONFIG_VALUE_0="true")
    setup = "git init -q repo && cd repo && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m init"
    subprocess.run(["bash", "-c", setup], cwd=tmp_path, env=env, check=True, timeout=30)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True, text=True,
                         check=True).stdout.strip()
    script = (step["script"].replace("$(Build.BuildNumber)", "20260101.1").replace("$(Build.SourceVersion)", sha)
              .replace('git push origin "refs/tags/$tag"', 'echo "would push $tag"'))
    result = subprocess.run(["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "would push prod-20260101.1" in result.stdout
    tagger = subprocess.run(["git", "for-each-ref", "refs/tags/prod-20260101.1", "--format=%(taggername)"],
                            cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert tagger == "Azure Pipelines (mlops-platform)"


def test_superseded_pr_runs_do_not_show_red() -> None:
    """Finding: pr-comment.yml failed (red) for a cancelled or superseded PR run; now it skips them."""
    job = _workflows()["pr-comment.yml"]["jobs"]["comment"]
    condition = " ".join(job["if"].split())
    assert "github.event.workflow_run.conclusion != 'cancelled'" in condition
    assert "github.event.workflow_run.event == 'pull_request'" in condition
    script = job["steps"][1]["with"]["script"]
    superseded = script.split("if (pr.head.sha !== process.env.HEAD_SHA) {", 1)[1].split("return;", 1)[0] + "return;"
    assert "core.notice(" in superseded and "setFailed" not in superseded and "return;" in superseded


def test_documents_state_the_rule_count_of_the_policy_pack() -> None:
    """Finding: the docs' rule count was stale. The delivery guide states none; any count it states is the real one."""
    from infra.policy.rules import RULES

    for path in (PROJECT_DIR / "docs").glob("*.md"):
        for count in re.findall(r"\b(\d+) (?:policy )?rules\b", path.read_text()):
            assert int(count) == len(RULES), path


def test_the_readme_states_the_real_rule_count() -> None:
    from infra.policy.rules import RULES

    counts = re.findall(r"\b(\d+) rules\b", (PROJECT_DIR / "README.md").read_text())
    assert counts and all(int(c) == len(RULES) for c in counts)


def _keeper_env(tmp_path: Path, token_url: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text('#!/usr/bin/env bash\necho "$AZURE_CONFIG_DIR $*" >> "$AZ_LOG"\n'
                  'touch "$AZURE_CONFIG_DIR/azureProfile.json"\n')
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "AZ_LOG": str(tmp_path / "az.log"),
            "AZURE_SESSION_ROOT": str(tmp_path / "session"), "AZURE_CLIENT_ID": "client-1",
            "AZURE_TENANT_ID": "tenant-1", "AZURE_SUBSCRIPTION_ID": "sub-1", "GITHUB_ENV": str(tmp_path / "github_env"),
            "ACTIONS_ID_TOKEN_REQUEST_URL": token_url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-request-token"}


def test_the_session_keeper_signs_the_cli_in_with_a_fresh_github_token_each_time(
        tmp_path: Path, httpserver: Any) -> None:
    """Finding: the Azure CLI signed in once with a 5-minute GitHub token; every refresh now asks for a new one
    and switches AZURE_CONFIG_DIR atomically, keeping the previous session for readers mid-switch."""
    from werkzeug import Request, Response

    issued: list[str] = []

    def token(request: Request) -> Response:
        assert request.headers["Authorization"] == "bearer runner-request-token"
        assert request.args["audience"] == "api://AzureADTokenExchange"
        issued.append(f"github-token-{len(issued) + 1}")
        return Response(json.dumps({"value": issued[-1]}), content_type="application/json")

    httpserver.expect_request("/token").respond_with_handler(token)
    env = _keeper_env(tmp_path, httpserver.url_for("/token") + "?api-version=2.0")
    keeper = str(PROJECT_DIR / "scripts" / "azure-session-keeper.sh")
    for _ in range(3):
        subprocess.run([keeper, "once"], env=env, check=True, capture_output=True, timeout=30)
    logins = [line.split() for line in (tmp_path / "az.log").read_text().splitlines() if " login " in line]
    assert [words[words.index("--federated-token") + 1] for words in logins] == issued == \
        ["github-token-1", "github-token-2", "github-token-3"]
    assert all(w[1:4] == ["login", "--service-principal", "--username"] and "client-1" in w for w in logins)
    dirs = [w[0] for w in logins]
    assert len(set(dirs)) == 3
    current = tmp_path / "session" / "current"
    assert current.is_symlink() and os.readlink(current) == dirs[2]
    assert not Path(dirs[0]).exists() and Path(dirs[1]).exists()  # the previous session is kept, older ones go
    sets = [line for line in (tmp_path / "az.log").read_text().splitlines() if "account set" in line]
    assert sets == [f"{d} account set --subscription sub-1 --output none" for d in dirs]


def test_the_session_keeper_refreshes_in_the_background_until_stopped(tmp_path: Path, httpserver: Any) -> None:
    httpserver.expect_request("/token").respond_with_json({"value": "github-token"})
    env = {**_keeper_env(tmp_path, httpserver.url_for("/token") + "?x=1"), "AZURE_SESSION_INTERVAL": "1"}
    keeper = str(PROJECT_DIR / "scripts" / "azure-session-keeper.sh")
    started = subprocess.run([keeper, "start"], env=env, capture_output=True, text=True, timeout=30)
    assert started.returncode == 0, started.stderr
    try:
        assert (tmp_path / "github_env").read_text() == f"AZURE_CONFIG_DIR={tmp_path / 'session' / 'current'}\n"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (tmp_path / "az.log").read_text().count(" login ") < 3:
            time.sleep(0.2)
        assert (tmp_path / "az.log").read_text().count(" login ") >= 3
    finally:
        subprocess.run([keeper, "stop"], env=env, check=True, timeout=30)
    assert not (tmp_path / "session").exists()
    count = (tmp_path / "az.log").read_text().count(" login ")
    time.sleep(2.5)
    assert (tmp_path / "az.log").read_text().count(" login ") == count


def test_the_offline_plan_comment_never_waits_for_an_approval() -> None:
    """Finding: the preview job (approval-gated environment preview-<stack>) sat in pr.yml, and pr-comment.yml
    runs when pr.yml completes, so the offline plan's comment waited for every preview's approval (GitHub keeps a
    waiting job up to 30 days). The workflows a workflow_run listens to hold no environment-gated job."""
    docs = _workflows()
    by_name = {doc["name"]: file for file, doc in docs.items()}
    for file, doc in docs.items():
        for watched in doc["on"].get("workflow_run", {}).get("workflows", []) if isinstance(doc["on"], dict) else []:
            gated = [jid for jid, job in docs[by_name[watched]]["jobs"].items() if "environment" in job]
            assert not gated, f"{file} waits for {by_name[watched]}, whose jobs {gated} wait for approval"


def test_the_cloud_preview_is_a_workflow_of_its_own_for_branches_of_this_repository() -> None:
    doc = _workflows()["preview.yml"]
    assert set(doc["on"]) == {"pull_request"}
    assert doc["concurrency"]["cancel-in-progress"] == "true"
    preview = doc["jobs"]["preview"]
    assert preview["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert preview["environment"] == "preview-${{ matrix.stack }}"
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert preview["strategy"]["matrix"]["stack"] == STACK_MATRIX and "stacks" in preview["needs"]
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@") and "with" in s
                  and "command" in s["with"])
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["comment-on-pr"] == "true"


def test_github_jobs_that_open_the_state_use_the_signed_in_cli_only() -> None:
    """Finding: with AZURE_CLIENT_ID set, azidentity's DefaultAzureCredential (the azblob:// state and the Key Vault
    secrets provider) asks a self-hosted runner VM's IMDS for that user-assigned identity; the 400 it gets is an
    authentication failure that stops the chain before the Azure CLI (azure-sdk-for-go sdk/azidentity
    managed_identity_client.go), so the state could not be opened."""
    for name, doc in _workflows().items():
        for jid, job in doc["jobs"].items():
            env = job.get("env", {})
            if "PULUMI_BACKEND_URL" in env:
                assert env.get("AZURE_TOKEN_CREDENTIALS") == "AzureCLICredential", (name, jid)
