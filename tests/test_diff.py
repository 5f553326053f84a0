"""`mlopsctl diff BASE HEAD`: added/removed/changed resources, property-level old -> new, replacements, masking."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.config import PROJECT_DIR
from infra.offline.diff import MISSING, SECRET, diff_plans, to_markdown
from infra.offline.engine import run_program
from tests.support import plan_of, set_path, stack_raw

MLOPSCTL = str(Path(sys.executable).parent / "mlopsctl")
WORKSPACE = "azure-native:databricks:Workspace"
STORAGE = "azure-native:storage:StorageAccount"
CATALOG = "databricks:index/catalog:Catalog"


def _doc(stack: str) -> dict[str, Any]:
    return copy.deepcopy(plan_of(stack).as_json())


def _resource(doc: dict[str, Any], typ: str, name: str | None = None) -> dict[str, Any]:
    found = [r for r in doc["resources"] if r["type"] == typ and (name is None or r["name"] == name)]
    assert found, f"no {typ} {name or ''} in the plan"
    return found[0]


def _set(inputs: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        inputs = inputs.setdefault(part, {})
    inputs[last] = value


# (resource type, input path, new value, kind, forces replacement)
CHANGES = [
    (WORKSPACE, "parameters.customVirtualNetworkId.value", "/subscriptions/x/virtualNetworks/other", "replace", True),
    (WORKSPACE, "managedResourceGroupId", "/subscriptions/x/resourceGroups/other-managed", "replace", True),
    (WORKSPACE, "parameters.customPrivateSubnetName.value", "other-subnet", "replace", True),
    (WORKSPACE, "workspaceName", "renamed-workspace", "replace", True),
    (WORKSPACE, "publicNetworkAccess", "Enabled", "update", False),
    (WORKSPACE, "tags.owner", "someone-else", "update", False),
    (STORAGE, "isHnsEnabled", False, "replace", True),
    (STORAGE, "accountName", "otherlake123", "replace", True),
    (STORAGE, "location", "westeurope", "replace", True),
    (STORAGE, "minimumTlsVersion", "TLS1_0", "update", False),
    (CATALOG, "storageRoot", "abfss://other@acct.dfs.core.windows.net/", "replace", True),
    (CATALOG, "comment", "a new comment", "update", False),
]


@pytest.mark.parametrize(("typ", "path", "value", "kind", "replaces"), CHANGES,
                         ids=[f"{t.rsplit(':', 1)[-1]}.{p}" for t, p, *_ in CHANGES])
def test_property_change_is_reported_old_to_new_and_flags_replacement(
        typ: str, path: str, value: Any, kind: str, replaces: bool) -> None:
    base, head = _doc("prod"), _doc("prod")
    target = _resource(head, typ)
    old = json.loads(json.dumps(target["inputs"]))
    _set(target["inputs"], path, value)
    result = diff_plans(base, head)
    assert [(c.urn, c.kind) for c in result.changes] == [(target["urn"], kind)]
    change = result.changes[0]
    assert [(p.path, p.new, p.replaces) for p in change.properties] == [(path, value, replaces)]
    old_value: Any = old
    for part in path.split("."):
        old_value = old_value.get(part) if isinstance(old_value, dict) else None
    assert change.properties[0].old == old_value
    assert result.counts["same"] == sum(1 for r in base["resources"] if r["custom"]) - 1
    if replaces:
        assert change.properties[0].replace_reason  # says why (docs / provider schema)
        assert "**forces replacement**" in to_markdown(result)


def test_added_and_removed_resources_and_protected_removal_warning() -> None:
    base, head = _doc("prod"), _doc("prod")
    workspace = _resource(head, WORKSPACE)
    head["resources"].remove(workspace)
    added = dict(_resource(head, STORAGE), urn="urn:pulumi:prod::mlops-platform::x$azure-native:storage:"
                 "StorageAccount::extra", name="extra")
    head["resources"].append(added)
    result = diff_plans(base, head)
    expected = sorted([(workspace["urn"], "remove", "workspace"), (added["urn"], "add", "extra")])
    assert [(c.urn, c.kind, c.name) for c in result.changes] == expected
    assert [c.protect for c in result.changes if c.kind == "remove"] == [True]  # prod workspace is protected
    md = to_markdown(result)
    assert "**1 to create, 0 to update, 0 to replace, 1 to delete" in md
    assert ("> - `workspace` (azure-native:databricks:Workspace) will be **deleted** "
            "(protected: Pulumi will refuse") in md


def test_protect_flag_and_provider_changes_are_option_changes() -> None:
    base, head = _doc("dev"), _doc("dev")
    target = _resource(head, WORKSPACE)
    target["protect"] = True
    result = diff_plans(base, head)
    change = result.changes[0]
    assert change.kind == "update" and change.properties == []
    assert [(o.path, o.old, o.new) for o in change.options] == [("protect", False, True)]


def test_secrets_stay_masked() -> None:
    base, head = _doc("dev"), _doc("dev")
    b, h = _resource(base, WORKSPACE), _resource(head, WORKSPACE)
    b["inputs"]["clientSecret"] = "hunter2-old"  # pragma: allowlist secret (fake, plain-text credential)
    h["inputs"]["clientSecret"] = "hunter2-new"  # pragma: allowlist secret
    h["inputs"]["adminPassword"] = SECRET        # already masked by the plan
    result = diff_plans(base, head)
    text = json.dumps(result.as_json()) + to_markdown(result)
    assert "hunter2" not in text
    props = {p.path: (p.old, p.new) for p in result.changes[0].properties}
    assert props == {"clientSecret": (SECRET, SECRET), "adminPassword": (MISSING, SECRET)}
    assert result.as_json()["changes"][0]["properties"][0] == {
        "path": "adminPassword", "old": "<absent>", "new": SECRET, "replaces": False, "reason": None}


def test_identical_plans_have_no_changes() -> None:
    result = diff_plans(_doc("test"), _doc("test"))
    assert not result.has_changes
    assert to_markdown(result).endswith("No resource changes.\n")


def test_a_real_config_change_diffs_as_updates_only() -> None:
    """Change the owner tag in Pulumi.dev.yaml: every tagged Azure resource updates its tag, nothing is replaced."""
    raw = set_path(stack_raw("dev"), "tags.owner", "another-team")
    head = run_program("dev", raw).as_json()
    base = plan_of("dev").as_json()
    result = diff_plans(base, head)
    tagged = {r["urn"] for r in base["resources"] if r["custom"] and "mlops-platform-team" in _leaves(r["inputs"])}
    assert len(tagged) > 10
    assert {c.urn for c in result.changes} == tagged
    assert {c.kind for c in result.changes} == {"update"}
    for change in result.changes:  # Azure tags (a map) or Databricks tags (a list of key/value)
        assert [(p.old, p.new) for p in change.properties] == [("mlops-platform-team", "another-team")]
        assert change.properties[0].path in ("tags.owner", "tags[key=owner].value")


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def _grants(doc: dict[str, Any], securable: str) -> dict[str, Any]:
    return next(r for r in doc["resources"] if r["type"] == "databricks:index/grants:Grants"
                and securable in (r["inputs"].get("schema"), r["inputs"].get("catalog")))


def test_one_more_principal_is_one_added_row() -> None:
    """Lists of objects are matched by their key: a grant to one more group does not shift every index."""
    base, head = _doc("dev"), _doc("dev")
    grants = _grants(head, "ml_dev_catalog")["inputs"]["grants"]
    grants.insert(0, {"principal": "mlops-analysts", "privileges": ["SELECT", "USE_SCHEMA"]})
    (change,) = diff_plans(base, head).changes
    assert [(p.path, p.old, p.new) for p in change.properties] == [
        ("grants[principal=mlops-analysts]", MISSING, {"principal": "mlops-analysts",
                                                       "privileges": ["SELECT", "USE_SCHEMA"]})]


def test_one_more_privilege_is_one_added_row() -> None:
    base, head = _doc("dev"), _doc("dev")
    grant = _grants(head, "ml_dev_catalog")["inputs"]["grants"][0]
    grant["privileges"] = [*grant["privileges"], "MODIFY"]
    (change,) = diff_plans(base, head).changes
    assert [(p.path, p.old, p.new) for p in change.properties] == [
        (f"grants[principal={grant['principal']}].privileges[MODIFY]", MISSING, "MODIFY")]


def test_unkeyed_list_items_are_in_index_order() -> None:
    """Items without a key keep their position, and [2] comes before [10]."""
    base, head = _doc("dev"), _doc("dev")
    for doc, value in ((base, 0), (head, 1)):
        _resource(doc, WORKSPACE)["inputs"]["extra"] = [{"n": value}] * 12
    (change,) = diff_plans(base, head).changes
    assert [p.path for p in change.properties] == [f"extra[{i}].n" for i in range(12)]


def test_created_and_deleted_resources_show_what_they_are() -> None:
    base, head = _doc("dev"), _doc("dev")
    lake = _resource(base, STORAGE)
    head["resources"].remove(_resource(head, STORAGE))
    md = to_markdown(diff_plans(base, head))
    assert (f"| - delete | `lake` | `{STORAGE}` | accountName={lake['inputs']['accountName']}  sku.name=Standard_LRS  "
            "publicNetworkAccess=Enabled  isHnsEnabled=True  networkRuleSet.defaultAction=Deny | | |") in md


def test_names_with_brackets_print_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from infra.offline.diff import print_text

    base, head = _doc("dev"), _doc("dev")
    _resource(head, WORKSPACE)["inputs"]["workspaceName"] = "[dev] workspace"
    print_text(diff_plans(base, head), Console(width=200))
    assert "[dev] workspace" in capsys.readouterr().out


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`mlopsctl diff ...` in process (fast); COLUMNS keeps rich's table unwrapped."""
    from infra.cli import main

    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Result:
        code = main(["diff", *args])
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return run


def test_cli_markdown_text_json_and_exit_code(tmp_path: Path, cli: Callable[..., Result]) -> None:
    base, head = _doc("prod"), _doc("prod")
    _set(_resource(head, STORAGE)["inputs"], "isHnsEnabled", False)
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    md = cli(str(tmp_path / "base.json"), str(tmp_path / "head.json"), "--format", "markdown", "--title", "prod")
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("### prod\n\n**0 to create, 0 to update, 1 to replace, 0 to delete")
    assert "| +- replace | `lake` | `azure-native:storage:StorageAccount` | `isHnsEnabled` **forces replacement** " \
           "| `true` | `false` |" in md.stdout
    text = cli(str(tmp_path / "base.json"), str(tmp_path / "head.json"), "--exit-code")
    assert text.returncode == 1 and "isHnsEnabled" in text.stdout and "forces replacement" in text.stdout
    as_json = cli(str(tmp_path / "base.json"), str(tmp_path / "head.json"), "--format", "json")
    assert json.loads(as_json.stdout)["counts"]["replace"] == 1


def test_cli_user_errors(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (tmp_path / "bad.json").write_text("[]")
    (tmp_path / "dev.json").write_text(json.dumps(_doc("dev")))
    (tmp_path / "prod.json").write_text(json.dumps(_doc("prod")))
    bad = cli(str(tmp_path / "bad.json"), str(tmp_path / "dev.json"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith(f"mlopsctl diff: {tmp_path / 'bad.json'}: not a plan JSON")
    mixed = cli(str(tmp_path / "dev.json"), str(tmp_path / "prod.json"))
    assert mixed.returncode == 2
    assert "plans of different stacks" in mixed.stderr
    missing = cli(str(tmp_path / "nope.json"), str(tmp_path / "dev.json"))
    assert missing.returncode == 2 and "nope.json" in missing.stderr


def test_console_script_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps(_doc("dev")))
    result = subprocess.run([MLOPSCTL, "diff", str(tmp_path / "dev.json"), str(tmp_path / "dev.json"), "--format",
                             "markdown"], capture_output=True, text=True, cwd=PROJECT_DIR, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("No resource changes.\n")
