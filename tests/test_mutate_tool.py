"""`make mutate`'s own logic: its module map names real files, changed files select the right modules, and
type annotations and excluded operators produce no mutant to run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mutate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_tool", ROOT / "scripts" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate_tool"] = module
    spec.loader.exec_module(module)
    return module


def test_every_mapped_module_and_test_file_exists(mutate: ModuleType) -> None:
    for modules in mutate.AREAS.values():
        for module, area in modules.items():
            assert (ROOT / module).is_file(), module
            for test in (*area.tests, *(d.split("::")[0] for d in area.deselect)):
                assert (ROOT / test).is_file(), test


def test_every_policy_rule_module_is_mutated(mutate: ModuleType) -> None:
    """A new rules module (or package) guards production from its first commit: it belongs in AREAS."""
    rules = {str(p.relative_to(ROOT)) for p in (ROOT / "infra" / "policy" / "rules").rglob("*.py")}
    assert rules == set(mutate.AREAS["policy rules"])


def test_changed_files_select_modules(mutate: ModuleType) -> None:
    assert mutate.modules_for(["infra/policy/rules/azure.py", "README.md"]) == ["infra/policy/rules/azure.py"]
    assert mutate.modules_for(["tests/test_grant_table.py"]) == ["infra/components/unity_catalog/grant_table.py"]
    assert set(mutate.modules_for(["tests/test_config_edges_compute.py"])) == {"infra/config/compute.py",
                                                                                "infra/config/cost.py"}
    assert mutate.modules_for([str(ROOT / "infra/config/core.py")]) == ["infra/config/core.py"]


def test_annotations_and_excluded_operators_are_skipped(mutate: ModuleType) -> None:
    source = "x: int | None = None\ndef f(a: str | None) -> int | str:\n    return a or 1  # pragma: no mutate\n"
    spans = mutate.annotation_spans(source)
    lines = source.splitlines()
    assert mutate.skip_reason("core/ReplaceBinaryOperator_BitOr_Add", (1, 7), (1, 8), lines, spans) == \
        "type annotation"
    assert mutate.skip_reason("core/ReplaceBinaryOperator_BitOr_Add", (2, 32), (2, 33), lines, spans) == \
        "type annotation"
    assert mutate.skip_reason("core/ReplaceComparisonOperator_Eq_Is", (9, 0), (9, 1), lines, spans) == \
        "operator excluded"
    assert mutate.skip_reason("core/ReplaceBinaryOperator_Add_Pow", (9, 0), (9, 1), lines, spans) == \
        "operator excluded"
    assert mutate.skip_reason("core/ReplaceOrWithAnd", (3, 13), (3, 15), lines, spans) == "pragma: no mutate"
    assert mutate.skip_reason("core/ReplaceBinaryOperator_Add_Sub", (9, 0), (9, 1), lines, spans) is None


def test_classmethod_under_a_pydantic_validator_is_not_mutated(mutate: ModuleType) -> None:
    lines = ["class M:", "    @field_validator('a')", "    @classmethod", "    def v(cls, x): ...",
             "    @classmethod", "    def other(cls): ..."]
    assert mutate.skip_reason("core/RemoveDecorator", (3, 4), (4, 0), lines, []) == "implied @classmethod"
    assert mutate.skip_reason("core/RemoveDecorator", (5, 4), (6, 0), lines, []) is None
    assert mutate.skip_reason("core/RemoveDecorator", (2, 4), (3, 0), lines, []) is None


def _order_plugin() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutate_order", ROOT / "scripts" / "mutate_order.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Item:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_the_baseline_records_durations_and_mutant_runs_take_the_fastest_tests_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin, durations = _order_plugin(), tmp_path / "durations.json"
    monkeypatch.setenv("MUTATE_DURATIONS", str(durations))
    monkeypatch.setenv("MUTATE_RECORD", "1")
    for nodeid, seconds in [("t::plans", 9.0), ("t::parses", 0.01), ("t::renders", 0.5), ("t::parses", 0.02)]:
        plugin.pytest_runtest_logreport(type("Report", (), {"nodeid": nodeid, "duration": seconds})())
    plugin.pytest_sessionfinish(None)
    items = [_Item(n) for n in ("t::plans", "t::new", "t::renders", "t::parses")]
    plugin.pytest_collection_modifyitems(items)  # still recording: the baseline keeps the collection order
    assert [i.nodeid for i in items] == ["t::plans", "t::new", "t::renders", "t::parses"]
    monkeypatch.setenv("MUTATE_RECORD", "0")
    plugin.pytest_collection_modifyitems(items)
    assert [i.nodeid for i in items] == ["t::parses", "t::renders", "t::plans", "t::new"]  # unknown ones last


def test_each_area_records_its_own_durations(mutate: ModuleType, tmp_path: Path) -> None:
    tree = tmp_path / "worker-0"
    env = mutate.test_env(tree, mutate.SAT)
    assert env["MUTATE_DURATIONS"] != mutate.test_env(tree, mutate.GRANTS)["MUTATE_DURATIONS"]
    assert env["MUTATE_DURATIONS"] == mutate.test_env(tmp_path / "worker-1", mutate.SAT)["MUTATE_DURATIONS"]
    assert (env["MUTATE_RECORD"], mutate.test_env(tree, mutate.SAT, record=True)["MUTATE_RECORD"]) == ("0", "1")
    assert "-p mutate_order" in mutate.test_command(mutate.SAT)
    assert "--noconftest" not in mutate.test_command(mutate.SAT)
    assert "--noconftest" in mutate.test_command(mutate.AREAS["policy rules"]["infra/policy/rules/azure.py"])


def test_a_sample_is_the_same_mutants_every_run_and_about_its_fraction(mutate: ModuleType) -> None:
    mutants = [("m.py", "core/NumberReplacer", f"x = {n}", 4, 1) for n in range(2000)]
    fifth = [m for m in mutants if mutate.in_sample(*m, 0.2)]
    assert fifth == [m for m in mutants if mutate.in_sample(*m, 0.2)]  # deterministic
    assert 300 < len(fifth) < 500
    assert all(mutate.in_sample(*m, 1.0) for m in mutants)
    # the position in the file does not matter, the mutated code and its place in the line do
    assert mutate.in_sample("m.py", "core/NumberReplacer", "    x = 7", 4, 1, 0.2) == mutate.in_sample(
        "m.py", "core/NumberReplacer", "x = 7", 4, 1, 0.2)


@pytest.mark.parametrize(("text", "ok"), [("0.2", True), ("1", True), ("0", False), ("1.5", False), ("-0.1", False)])
def test_the_sample_fraction_is_above_0_and_at_most_1(mutate: ModuleType, text: str, ok: bool) -> None:
    if ok:
        assert mutate._fraction(text) == float(text)
    else:
        with pytest.raises(Exception, match="is not a fraction above 0 and at most 1"):
            mutate._fraction(text)
