"""Both edges of every numeric limit in the config, each refused side by its exact line.

One table: (stack, key path, lowest accepted, highest accepted, context). The value just below the lowest and
just above the highest are refused with pydantic's range message; the edges themselves are accepted. `context`
holds the keys a far edge needs to stay valid elsewhere (e.g. a DBU bound for 1000 workers).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.config import ConfigError, validate
from infra.config.base import show
from tests.support import DELETE, siblings, with_changes

EP = "serving.endpoints.0"
BIG = [("compute.maxDbusPerHour", 100000), ("compute.instancePool", DELETE), ("compute.spotInstances", False)]

# (stack, key path, lowest accepted, highest accepted or None (no upper limit), context changes)
LIMITS: list[tuple[str, str, float, float | None, list[tuple[str, Any]]]] = [
    ("dev", "compute.minWorkers", 0, 1000, [("compute.maxWorkers", 1000), *BIG]),
    ("dev", "compute.maxWorkers", 1, 1000, [("compute.minWorkers", 0), *BIG]),
    ("dev", "compute.maxClustersPerUser", 1, 100, []),
    ("dev", "compute.instancePool.idleInstanceAutoterminationMinutes", 1, 10000, []),
    ("dev", "compute.instancePool.minIdleInstances", 0, 100, []),
    ("prod", "compute.jobs.firstOnDemand", 1, 100, []),
    ("dev", "compute.sqlWarehouse.minNumClusters", 1, 30, [("compute.sqlWarehouse.maxNumClusters", 30)]),
    ("dev", "compute.sqlWarehouse.maxNumClusters", 1, 30, []),
    ("dev", "cost.budget.thresholds.0.percent", 0.01, 1000, [("cost.budget.thresholds", [{"kind": "Actual"}])]),
    ("dev", "lake.softDeleteDays", 1, 365, []),
    ("dev", "keyVault.softDeleteRetentionDays", 7, 90, []),
    ("prod", "encryption.rotationDays", 30, 730, []),
    ("dev", "observability.retentionDays", 30, 730, []),
    ("dev", "observability.dailyQuotaGb", -1, None, []),
    ("dev", "unityCatalog.metastore.deltaSharingRecipientTokenLifetimeDays", 1, 365, []),
    ("prod", "unityCatalog.catalogs.1.schemas.0.retentionDays", 1, 3650, []),
    ("dev", f"{EP}.rateLimits.0.calls", 1, None, []),
]
# Limits that exclude their bound: (stack, key path, the refused bound, the smallest accepted value, context)
POSITIVE: list[tuple[str, str, float, float, list[tuple[str, Any]]]] = [
    # the smallest cluster (a DS3_v2 worker and driver) needs 1.5 DBU/h: a lower bound is refused as too low
    ("dev", "compute.maxDbusPerHour", 0, 1.5, [("compute.maxWorkers", 1), ("compute.minWorkers", 0),
                                               ("compute.instancePool", DELETE)]),
    ("dev", "cost.budget.monthlyAmount", 0, 0.01, []),
    ("dev", "cost.dbuPricesUsd.allPurpose", 0, 0.01, []),
    ("dev", "cost.dbuPricesUsd.jobs", 0, 0.01, []),
    ("dev", "cost.dbuPricesUsd.serverlessSql", 0, 0.01, []),
    ("prod", f"{EP}.monitor.driftAlerts.0.threshold", 0, 0.01, []),
]


def _line(stack: str, path: str, value: float, relation: str, bound: float) -> str:
    key = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)
    return f"{stack}: {key}: {show(value)} is out of range (input should be {relation} {show(bound)})"


def _problems(stack: str, changes: list[tuple[str, Any]]) -> list[str]:
    try:
        validate(stack, with_changes(stack, changes), siblings(stack))
    except ConfigError as exc:
        return exc.problems
    return []


@pytest.mark.parametrize(("stack", "path", "lo", "hi", "context"), LIMITS, ids=[c[1] for c in LIMITS])
def test_both_edges_of_the_limit(stack: str, path: str, lo: float, hi: float | None,
                                 context: list[tuple[str, Any]]) -> None:
    step = 0.01 if isinstance(lo, float) else 1
    below = round(lo - step, 2) if isinstance(lo, float) else lo - step
    relation = "greater than" if isinstance(lo, float) else "greater than or equal to"
    bound = 0 if isinstance(lo, float) else lo
    assert _problems(stack, [*context, (path, lo)]) == []
    assert _problems(stack, [*context, (path, below)]) == [_line(stack, path, below, relation, bound)]
    if hi is not None:
        assert _problems(stack, [*context, (path, hi)]) == []
        assert _problems(stack, [*context, (path, hi + 1)]) == [
            _line(stack, path, hi + 1, "less than or equal to", hi)]


@pytest.mark.parametrize(("stack", "path", "bound", "smallest", "context"), POSITIVE, ids=[c[1] for c in POSITIVE])
def test_positive_values_only(stack: str, path: str, bound: float, smallest: float,
                              context: list[tuple[str, Any]]) -> None:
    assert _problems(stack, [*context, (path, bound)]) == [_line(stack, path, bound, "greater than", bound)]
    assert _problems(stack, [*context, (path, smallest)]) == []
