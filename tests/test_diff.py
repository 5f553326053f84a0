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
from mlopsctl.plan.engine import run_program
from mlopsctl.reports.diff import MISSING, SECRET, diff_plans, to_markdown
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
        "path": "adminPassword", "old": "<absent>", "new": SECRET, "replaces": False, "reason": None,
        "refused": None}


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
    # (a governed `owner` tag on a catalog has the same value, from the governance section: it stays)
    tagged = {r["urn"] for r in base["resources"] if r["custom"] and "mlops-platform-team" in _leaves(r["inputs"])
              and r["type"] != "databricks:index/entityTagAssignment:EntityTagAssignment"}
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

    from mlopsctl.reports.diff import print_text

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
    from mlopsctl.commands.main import main

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


# --- changes Azure refuses in place, and the size of a PR comment ----------------------------------------

SUBNET = "azure-native:network:Subnet"


@pytest.mark.parametrize("name", ["network-host-subnet", "network-container-subnet"])
def test_renumbering_a_subnet_of_the_injected_workspace_is_flagged_as_refused(name: str) -> None:
    """A subnet the workspace is injected into cannot be renumbered in place: Azure refuses it, so the diff
    must not read as a harmless update."""
    base, head = _doc("dev"), _doc("dev")
    _set(_resource(head, SUBNET, name)["inputs"], "addressPrefix", "10.1.40.0/24")
    result = diff_plans(base, head)
    ((change, prop),) = result.refused
    assert (change.name, prop.path, change.kind) == (name, "addressPrefix", "update")
    md = to_markdown(result)
    assert "`addressPrefix` **refused in place**" in md
    assert f"> - `{name}`: `addressPrefix` cannot change in place: Azure Databricks VNet injection" in md


def test_renumbering_a_subnet_no_workspace_uses_is_an_ordinary_update() -> None:
    """The private endpoint subnet is not the workspace's: renumbering it is not refused."""
    base, head = _doc("dev"), _doc("dev")
    _set(_resource(head, SUBNET, "network-pe-subnet")["inputs"], "addressPrefix", "10.1.40.0/24")
    result = diff_plans(base, head)
    assert result.refused == [] and "refused" not in to_markdown(result)


def test_a_long_diff_keeps_the_risky_rows_and_points_at_the_full_text() -> None:
    base, head = _doc("prod"), _doc("prod")
    for res in head["resources"]:
        if res.get("custom"):
            res["inputs"]["note"] = "x" * 60  # an update on every resource
    _set(_resource(head, STORAGE)["inputs"], "isHnsEnabled", False)  # and one replacement
    result = diff_plans(base, head)
    full = to_markdown(result, limit=10**9)
    short = to_markdown(result, limit=6000, full_text="https://example.test/run/1")
    assert len(full) > 6000 >= len(short)
    assert "`isHnsEnabled` **forces replacement**" in short
    assert "more rows (creations and in-place updates) are left out" in short
    assert "[the full diff](https://example.test/run/1)" in short
    assert short.startswith(full.split("| op |")[0])  # the summary and the warnings stay whole


def test_a_short_diff_is_not_cut() -> None:
    base, head = _doc("prod"), _doc("prod")
    _set(_resource(head, STORAGE)["inputs"], "isHnsEnabled", False)
    result = diff_plans(base, head)
    assert to_markdown(result) == to_markdown(result, limit=10**9) and "left out" not in to_markdown(result)


def test_cli_limit_and_full_text_link(tmp_path: Path, cli: Callable[..., Result]) -> None:
    base, head = _doc("prod"), _doc("prod")
    for res in head["resources"]:
        if res.get("custom"):
            res["inputs"]["note"] = "x"
    (tmp_path / "base.json").write_text(json.dumps(base))
    (tmp_path / "head.json").write_text(json.dumps(head))
    args = (str(tmp_path / "base.json"), str(tmp_path / "head.json"), "--format", "markdown")
    cut = cli(*args, "--limit", "2000", "--full-text", "https://example.test/run/7")
    assert cut.returncode == 0 and len(cut.stdout) <= 2000 and "(https://example.test/run/7)" in cut.stdout
    whole = cli(*args, "--limit", "0")
    assert "left out" not in whole.stdout and whole.stdout.count("`note`") == len(diff_plans(base, head).changes)
