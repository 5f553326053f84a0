"""The delivery path against what the program really does: the deploy identity's role conditions, prod's
lock, the account groups, the preview runners and identity, deploying one stack, the Azure pipeline's state
account, and the serving.gitSha tag in every CI job that runs the program."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.components.roles import ROLES
from infra.config import PROJECT_DIR
from tests.support import STACKS, plan_of, stack_raw

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
GUIDE = PROJECT_DIR / "docs" / "delivery.md"
PIPELINE = PROJECT_DIR / "azure-pipelines.yml"
SCRIPTS = PROJECT_DIR / "scripts"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _load(path: Path) -> dict[str, Any]:
    doc = yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # BaseLoader: keep `on:` a string key
    assert isinstance(doc, dict)
    return doc


def _workflows() -> dict[str, dict[str, Any]]:
    return {p.name: _load(p) for p in sorted(WORKFLOWS.glob("*.yml"))}


def _guide() -> str:
    return GUIDE.read_text()


# --- 1. the RBAC Administrator condition --------------------------------------------------------------------

def _assigned_role_ids() -> set[str]:
    ids = set()
    for stack in STACKS:
        for res in plan_of(stack).resources:
            if res.type == "azure-native:authorization:RoleAssignment":
                ids.add(str(res.inputs["roleDefinitionId"]).rsplit("/", 1)[-1])
    return ids


def test_the_rbac_administrator_condition_allows_every_role_the_program_assigns() -> None:
    """Problem: the deploy identity's Role Based Access Control Administrator grant was conditioned to 4 role ids,
    but the program also assigns Key Vault Secrets User (every stack) and Key Vault Crypto Officer (the deployer,
    CMK stacks): those role assignment creates failed with 403."""
    guide = _guide()
    match = re.search(r'^ROLE_IDS="([^"]+)"$', guide, re.M)
    assert match, "the guide defines the condition's role list once"
    documented = set(GUID.findall(match.group(1)))
    assert len(documented) == len(match.group(1).split(","))
    assert documented == set(ROLES.values()), "exactly the roles of infra/components/roles.py"
    assigned = _assigned_role_ids()
    assert {ROLES["Key Vault Secrets User"], ROLES["Key Vault Crypto Officer"]} <= assigned
    assert assigned <= documented, sorted(assigned - documented)
    command = guide.split('--role "Role Based Access Control Administrator"', 1)[1].split("```", 1)[0]
    # both the write (@Request) and the delete (@Resource) side name the same list, and nothing else
    assert command.count("GuidEquals {$ROLE_IDS}") == 2
    assert not GUID.search(command)


# --- 2. prod's resource group lock --------------------------------------------------------------------------

def test_the_deployer_of_a_stack_with_a_lock_may_write_locks() -> None:
    """Problem: prod creates a CanNotDelete lock, but Contributor excludes Microsoft.Authorization/*/Write and RBAC
    Administrator adds only role assignments: the lock create failed with 403 on Microsoft.Authorization/locks/write."""
    guide = _guide()
    locked = [s for s in STACKS if any(r.type == "azure-native:authorization:ManagementLockAtResourceGroupLevel"
                                       for r in plan_of(s).resources)]
    assert locked == ["prod"]
    body = guide.split("cat > lock-operator.json <<JSON\n", 1)[1].split("\nJSON\n", 1)[0]
    role = json.loads(body.replace("$WORKLOAD_SUB", "00000000-0000-0000-0000-000000000000"))
    assert {"Microsoft.Authorization/locks/read", "Microsoft.Authorization/locks/write",
            "Microsoft.Authorization/locks/delete"} == set(role["Actions"])
    assert role["IsCustom"] is True and role["NotActions"] == []
    assert "az role definition create --role-definition @lock-operator.json" in guide
    for stack in locked:
        assignment = re.search(r'az role assignment create --assignee-object-id "\$DEPLOY_' + stack.upper()
                               + r'"[^\n]*\\\n\s+--role "' + re.escape(role["Name"]) + r'" --scope "([^"]+)"', guide)
        assert assignment, stack
        assert assignment.group(1).replace("$WORKLOAD_SUB", "00000000-0000-0000-0000-000000000000") \
            in role["AssignableScopes"]
    assert f'--role "{role["Name"]}" --scope' in guide.split("**Check (lock role):**", 1)[1]


# --- 3. the account groups ----------------------------------------------------------------------------------

def test_the_guide_has_the_account_groups_exist_before_the_first_up() -> None:
    """Problem: the guide said "dev creates the account groups", but every stack looks them up by name in the
    account (accountGroups.lookup), so they must exist (synced from Entra ID) before dev's first up."""
    guide = _guide()
    assert "dev creates the account groups" not in guide
    names: set[str] = set()
    for stack in STACKS:
        identity = stack_raw(stack)["mlops-platform:identity"]
        assert identity["accountGroups"] == {"lookup": True}, stack
        names |= set(identity["groups"].values())
    assert len(names) == 5
    section = guide.split("## 5. Databricks", 1)[1].split("\n## 6.", 1)[0]
    assert "before the first `up` of dev" in section and "SCIM" in section
    assert all(f"`{name}`" in section for name in names)
    assert "databricks account groups list --filter 'displayName eq \"mlops-data-scientists\"'" in section


# --- 4. preview runners, environments and identity ----------------------------------------------------------

def _jobs_with_runner() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, jid, job) for name, doc in _workflows().items() for jid, job in doc["jobs"].items()
            if "runs-on" in job]


def test_previews_never_share_the_deploy_runner_and_run_in_approved_environments() -> None:
    """Problem: the PR preview ran branch code on the deploy runner's label, where it could linger and take a
    later deploy job's OIDC token, with a "read-only" identity that cannot do an account-level group lookup."""
    deploy, preview = set(), set()
    for name, jid, job in _jobs_with_runner():
        runs_on, env = job["runs-on"], str(job.get("environment", ""))
        if env == "${{ inputs.stack }}":
            deploy.add(runs_on)
        elif env.startswith(("preview-", "drift-")):
            preview.add(runs_on)
        else:
            assert runs_on == "ubuntu-latest", (name, jid)  # no cloud identity, GitHub-hosted
        if "mlops-deploy" in runs_on or "DEPLOY_RUNS_ON" in runs_on:
            assert name == "deploy-stack.yml" and env == "${{ inputs.stack }}", (name, jid)
    assert deploy == {"${{ fromJSON(vars.DEPLOY_RUNS_ON || '[\"self-hosted\", \"mlops-deploy\"]') }}"}
    assert preview == {"${{ fromJSON(vars.PREVIEW_RUNS_ON || '[\"self-hosted\", \"mlops-preview\"]') }}"}
    assert not deploy & preview
    pr = _workflows()["preview.yml"]["jobs"]["preview"]
    assert pr["environment"] == "preview-${{ matrix.stack }}"
    assert _workflows()["drift.yml"]["jobs"]["drift"]["environment"] == "drift-${{ matrix.stack }}"
    guide = _guide()
    runners = guide.split("## 8. The runners", 1)[1].split("\n## 9.", 1)[0]
    assert "PREVIEW_RUNS_ON" in runners and "--ephemeral" in runners and "generate-jitconfig" in runners
    github = guide.split("## 9. GitHub", 1)[1].split("\n## 10.", 1)[0]
    preview_envs = github.split("for e in preview-dev preview-test preview-prod; do", 1)[1].split("done", 1)[0]
    assert '"reviewers"' in preview_envs
    drift_envs = github.split("for e in drift-dev drift-test drift-prod; do", 1)[1].split("done", 1)[0]
    assert '"custom_branch_policies": true' in drift_envs and "deployment-branch-policies\" -f name=main" in drift_envs
    databricks = guide.split("## 5. Databricks", 1)[1].split("\n## 6.", 1)[0]
    assert "The preview identity needs the **Account admin** role" in databricks
    assert "separate identity from every deployer" in databricks
    assert "read-only identity" not in guide


# --- 5. deploying some stacks only --------------------------------------------------------------------------

def _select_outputs(tmp_path: Path, event: str, stacks: str, ref: str = "refs/heads/main") -> dict[str, str] | None:
    step = _workflows()["deploy.yml"]["jobs"]["select"]["steps"][0]
    out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
    out.write_text("")
    env = {**os.environ, **step["env"], "EVENT": event, "STACKS": stacks, "REF": ref, "GITHUB_OUTPUT": str(out)}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        assert "::error::" in result.stdout
        return None
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def _evaluate(expr: str, needs: dict[str, dict[str, Any]]) -> bool:
    """A GitHub `if:` over needs.*.result and needs.select.outputs.*; without a status function GitHub adds
    success(): every needed job succeeded."""
    expr = " ".join(expr.split())
    implicit = "cancelled()" not in expr and "always()" not in expr
    py = re.sub(r"needs\.([\w-]+)\.outputs\.(\w+)", lambda m: repr(needs[m.group(1)]["outputs"].get(m.group(2), "")),
                expr)
    py = re.sub(r"needs\.([\w-]+)\.result", lambda m: repr(needs[m.group(1)]["result"]), py)
    py = py.replace("!cancelled()", "True").replace("&&", " and ").replace("||", " or ")
    # eval of our own workflow's expression, rewritten above into Python over literal values
    value = bool(eval(py))
    return value and (not implicit or all(n["result"] == "success" for n in needs.values()))


def _run_deploys(outputs: dict[str, str] | None, fail: str = "") -> dict[str, str]:
    jobs = _workflows()["deploy.yml"]["jobs"]
    done: dict[str, dict[str, Any]] = {"test": {"result": "success", "outputs": {}},
                                       "select": {"result": "success" if outputs else "failure",
                                                  "outputs": outputs or {}}}
    for jid in ("dev", "test-stack", "prod"):
        needs = {n: done[n] for n in jobs[jid]["needs"]}
        ran = _evaluate(jobs[jid]["if"], needs)
        done[jid] = {"result": ("failure" if jid == fail else "success") if ran else "skipped", "outputs": {}}
    return {j: done[j]["result"] for j in ("dev", "test-stack", "prod")}


def test_a_manual_run_deploys_the_chosen_stacks_in_order(tmp_path: Path) -> None:
    """Problem: deploy.yml could not deploy one stack; every run (a merge too) queued test and prod."""
    doc = _workflows()["deploy.yml"]
    assert doc["on"]["push"]["branches"] == ["main"]
    stacks_input = doc["on"]["workflow_dispatch"]["inputs"]["stacks"]
    assert stacks_input["default"] == "dev,test,prod" and stacks_input["type"] == "string"
    every = {"dev": "success", "test-stack": "success", "prod": "success"}
    assert _run_deploys(_select_outputs(tmp_path, "push", "")) == every  # a merge deploys all, in order
    assert _run_deploys(_select_outputs(tmp_path, "workflow_dispatch", "dev,test,prod")) == every
    assert _run_deploys(_select_outputs(tmp_path, "workflow_dispatch", "dev")) == \
        {"dev": "success", "test-stack": "skipped", "prod": "skipped"}
    assert _run_deploys(_select_outputs(tmp_path, "workflow_dispatch", "test,prod")) == \
        {"dev": "skipped", "test-stack": "success", "prod": "success"}
    assert _run_deploys(_select_outputs(tmp_path, "workflow_dispatch", "dev, prod")) == \
        {"dev": "success", "test-stack": "skipped", "prod": "success"}
    # a failed (or rejected) earlier stack still stops the later ones
    assert _run_deploys(_select_outputs(tmp_path, "push", ""), fail="dev") == \
        {"dev": "failure", "test-stack": "skipped", "prod": "skipped"}
    assert _run_deploys(_select_outputs(tmp_path, "workflow_dispatch", "test,prod"), fail="test-stack") == \
        {"dev": "skipped", "test-stack": "failure", "prod": "skipped"}
    # a typo, an empty list or another branch deploys nothing
    for stacks, ref in (("dev,prd", "refs/heads/main"), ("", "refs/heads/main"), ("dev", "refs/heads/feature")):
        outputs = _select_outputs(tmp_path, "workflow_dispatch", stacks, ref)
        assert outputs is None, (stacks, ref)
        assert _run_deploys(outputs) == {"dev": "skipped", "test-stack": "skipped", "prod": "skipped"}
    assert "-f stacks=dev" in _guide()


# --- 6. the Azure pipeline's state account ------------------------------------------------------------------

def _require_stack(tmp_path: Path, account: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "Pulumi.yaml").write_text("name: mlops-platform\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("secretsprovider: azurekeyvault://kv.vault.azure.net/keys/pulumi-dev\n"
                                              "encryptedkey: ZW5j\nconfig: {}\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pulumi"
    fake.write_text("#!/usr/bin/env bash\necho '[{\"name\": \"dev\"}]'\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if k not in ("TF_BUILD", "AZURE_STORAGE_ACCOUNT")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PULUMI_BACKEND_URL="azblob://pulumi-state",
               TF_BUILD="True")
    if account is not None:
        env["AZURE_STORAGE_ACCOUNT"] = account
    return subprocess.run([str(SCRIPTS / "require-stack.sh"), "dev"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("account", [None, "", "$(PULUMI_STATE_ACCOUNT)"])
def test_an_undeclared_state_account_fails_loudly(tmp_path: Path, account: str | None) -> None:
    """Problem: azure-pipelines.yml used $(PULUMI_STATE_ACCOUNT) without declaring it: an undefined macro stayed
    literal in the script, `$(...)` ran as a command, and AZURE_STORAGE_ACCOUNT was silently empty."""
    doc = _load(PIPELINE)
    assert {"group": "mlops-state"} in doc["variables"]
    for stage in doc["stages"]:
        for job in stage["jobs"]:
            for step in job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", []):
                if step.get("task") == "AzureCLI@2":
                    assert "PULUMI_STATE_ACCOUNT" not in step["inputs"]["inlineScript"]
                    assert step["env"]["AZURE_STORAGE_ACCOUNT"] == "$(PULUMI_STATE_ACCOUNT)"
    assert "variable group **`mlops-state`**" in _guide()
    result = _require_stack(tmp_path, account)
    assert result.returncode == 1
    assert "##vso[task.logissue type=error]Stack dev is not ready: AZURE_STORAGE_ACCOUNT is" in result.stdout
    assert "variable group mlops-state" in result.stdout
    assert _require_stack(tmp_path, "mlopsstate123456").returncode == 0


# --- 7. serving.gitSha --------------------------------------------------------------------------------------

def test_every_ci_run_of_the_program_sets_the_git_sha_the_same_way() -> None:
    """Problem: the stack files said "CI overrides serving.gitSha" but no CI system did, so every endpoint was
    tagged `unknown`; drift must use the deployed value, or it reports every tag as drift."""
    seen = set()
    for name, doc in _workflows().items():
        for jid, job in doc["jobs"].items():
            runs = [s.get("run", "") for s in job.get("steps", [])]
            program = [i for i, s in enumerate(job.get("steps", []))
                       if "command" in s.get("with", {}) or "drift-check.sh" in s.get("run", "")]
            if not program:
                continue
            want = ('scripts/set-git-sha.sh "$STACK" --last-deployed' if name == "drift.yml"
                    else 'scripts/set-git-sha.sh "$STACK"')
            assert runs.count(want) == 1, (name, jid)
            assert runs.index('scripts/require-stack.sh "$STACK"') < runs.index(want) < program[0], (name, jid)
            seen.add(name)
    assert seen == {"deploy-stack.yml", "preview.yml", "drift.yml"}
    for stage in _load(PIPELINE)["stages"]:
        for job in stage["jobs"]:
            for step in job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", []):
                if step.get("task") == "AzureCLI@2":
                    lines = step["inputs"]["inlineScript"].splitlines()
                    stack = job["environment"].removeprefix("mlops-")
                    up = next(i for i, line in enumerate(lines) if line.startswith("pulumi up"))
                    assert lines.index(f"scripts/set-git-sha.sh {stack}") < up, stage["stage"]


def _git_sha_env(tmp_path: Path, history: Any) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "history.json").write_text(json.dumps(history))
    fake = bin_dir / "pulumi"
    fake.write_text('#!/usr/bin/env bash\necho "$*" >> "$PULUMI_LOG"\n'
                    'if [ "$1 $2" = "stack history" ]; then cat "$HISTORY"; fi\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PULUMI_LOG": str(tmp_path / "log"),
            "HISTORY": str(tmp_path / "history.json")}


def _update(kind: str, result: str, sha: str | None, head: str) -> dict[str, Any]:
    config = {"mlops-platform:serving": {"value": "{}", "objectValue": {"gitSha": sha}, "secret": False}} if sha else {}
    return {"version": 1, "kind": kind, "result": result, "config": config, "environment": {"git.head": head}}


def test_the_git_sha_script_tags_the_checkout_or_the_last_deploy(tmp_path: Path) -> None:
    """Problem: no CI job set serving.gitSha; deploys and previews now use the checked-out commit and drift the
    value of the stack's last successful update."""
    script = str(SCRIPTS / "set-git-sha.sh")
    repo = tmp_path / "repo"
    env = _git_sha_env(tmp_path, [
        _update("preview", "succeeded", None, "1" * 40),
        _update("update", "failed", "2" * 40, "2" * 40),
        _update("update", "succeeded", "abcdef1", "3" * 40),
        _update("update", "succeeded", "4" * 40, "4" * 40)])
    subprocess.run(["bash", "-c", "git init -q repo && cd repo && git -c user.name=a -c user.email=a@b commit -q "
                                  "--allow-empty -m init"], cwd=tmp_path, env=env, check=True, timeout=30)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run([script, "dev"], cwd=repo, env=env, check=True, capture_output=True, timeout=30)
    subprocess.run([script, "prod", "--last-deployed"], cwd=repo, env=env, check=True, capture_output=True,
                   timeout=30)
    log = (tmp_path / "log").read_text().splitlines()
    assert log == [f"config set --path serving.gitSha {head} --stack dev --non-interactive",
                   "stack history --stack prod --json --page-size 50 --non-interactive",
                   "config set --path serving.gitSha abcdef1 --stack prod --non-interactive"]
    # an update without the key (before CI set it) falls back to the commit it ran from
    (tmp_path / "history.json").write_text(json.dumps([_update("update", "succeeded", None, "5" * 40)]))
    subprocess.run([script, "prod", "--last-deployed"], cwd=repo, env=env, check=True, capture_output=True,
                   timeout=30)
    assert (tmp_path / "log").read_text().splitlines()[-1].startswith(f"config set --path serving.gitSha {'5' * 40} ")
    # never deployed: the drift check cannot pick a value and says so
    (tmp_path / "history.json").write_text(json.dumps([_update("update", "failed", "6" * 40, "6" * 40)]))
    result = subprocess.run([script, "prod", "--last-deployed"], cwd=repo, env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 1 and "has no successful pulumi up" in result.stdout
