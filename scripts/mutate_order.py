"""pytest plugin for `make mutate`: an area's tests run fastest first.

The baseline run (unmutated code) records each test's duration (MUTATE_RECORD=1) in MUTATE_DURATIONS; each mutant's
run sorts the tests by it. With `-x` a mutant is killed by its first failing test, so most mutants fail in the
tests that take milliseconds instead of after the ones that plan whole stacks (seconds each).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_durations: dict[str, float] = {}


def _file() -> Path | None:
    name = os.environ.get("MUTATE_DURATIONS")
    return Path(name) if name else None


def _recording() -> bool:
    return os.environ.get("MUTATE_RECORD") == "1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    path = _file()
    if path is None or _recording() or not path.is_file():
        return
    known: dict[str, float] = json.loads(path.read_text())
    items.sort(key=lambda item: known.get(item.nodeid, float("inf")))  # stable: ties keep the collection order


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if _recording():
        _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = _file()
    if _recording() and path is not None:
        path.write_text(json.dumps(_durations))
