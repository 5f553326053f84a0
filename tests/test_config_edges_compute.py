"""Compute and cost config at their edges: each rule on both sides, each refusal by its exact line.

dev's compute (Standard_DS3_v2 at 0.75 DBU/h, 1-4 workers, a bound of 4 DBU/h, a pool of 10) is the baseline;
every case changes one key (tests/test_config_limits.py covers the plain numeric ranges).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from infra.config import ConfigError, validate
from infra.config import cost as config_cost
from infra.config.compute import (
    DBUS_PER_NODE_HOUR,
    SUPPORTED_ML_RUNTIMES,
    WAREHOUSE_DBUS_PER_HOUR,
    ComputeConfig,
    dbus_per_node_hour,
    node_family,
)
from tests.support import DELETE, siblings, stack_raw, with_changes


def problems(stack: str, changes: list[tuple[str, Any]]) -> list[str]:
    try:
        validate(stack, with_changes(stack, changes), siblings(stack))
    except ConfigError as exc:
        return exc.problems
    return []


AUTO = "compute.autoterminationMinutes"
RUNTIMES = "compute.runtimeVersions"

# (case id, stack, [(key path, value)], every problem line; [] = accepted)
CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    # auto-termination: 10-10000 minutes, 0 (off) named as such
    ("autotermination-9", "dev", [(AUTO, 9)],
     ["dev: compute.autoterminationMinutes: 9 is out of range; allowed: 10-10000 minutes (the Databricks limits)"]),
    ("autotermination-10", "dev", [(AUTO, 10)], []),
    ("autotermination-10000", "dev", [(AUTO, 10000)], []),
    ("autotermination-10001", "dev", [(AUTO, 10001)],
     ["dev: compute.autoterminationMinutes: 10001 is out of range; allowed: 10-10000 minutes (the Databricks "
      "limits)"]),
    ("autotermination-negative", "dev", [(AUTO, -1)],
     ["dev: compute.autoterminationMinutes: -1 is out of range; allowed: 10-10000 minutes (the Databricks limits)"]),
    # workers: min may equal max
    ("min-equals-max-workers", "dev", [("compute.minWorkers", 4)], []),
    ("min-above-max-workers", "dev", [("compute.minWorkers", 5)],
     ["dev: compute.minWorkers: 5 is above maxWorkers 4"]),
    # the DBU bound: the largest cluster (maxWorkers + driver) at the node's rate, doubled with Photon
    ("dbu-bound-equals-largest-cluster", "dev", [("compute.maxDbusPerHour", 3.75)], []),
    ("dbu-bound-below-largest-cluster", "dev", [("compute.maxDbusPerHour", 3.74)],
     ["dev: compute.maxDbusPerHour: 3.74 is below the largest allowed cluster's 3.75 DBU/h (4 workers + driver); "
      "raise it or lower maxWorkers"]),
    ("photon-doubles-the-rate", "dev", [("compute.photon", True)],
     ["dev: compute.maxDbusPerHour: 4.0 is below the largest allowed cluster's 7.5 DBU/h (4 workers + driver); "
      "raise it or lower maxWorkers"]),
    ("driver-at-its-own-rate", "dev", [("compute.driverNodeTypeId", "Standard_DS5_v2")],
     ["dev: compute.maxDbusPerHour: 4.0 is below the largest allowed cluster's 6 DBU/h (4 workers + driver); "
      "raise it or lower maxWorkers"]),
    ("smaller-driver", "test", [("compute.driverNodeTypeId", "Standard_DS3_v2")], []),
    # the pool holds one cluster at maxWorkers
    ("pool-holds-max-plus-driver", "dev", [("compute.instancePool.maxCapacity", 5)], []),
    ("pool-one-short", "dev", [("compute.instancePool.maxCapacity", 4)],
     ["dev: compute.instancePool.maxCapacity: 4 cannot hold one cluster at maxWorkers (4 workers + driver)"]),
    ("pool-one-short-odd-workers", "dev", [("compute.maxWorkers", 3), ("compute.instancePool.maxCapacity", 3)],
     ["dev: compute.instancePool.maxCapacity: 3 cannot hold one cluster at maxWorkers (3 workers + driver)"]),
    ("pool-capacity-1", "dev", [("compute.instancePool.maxCapacity", 1)],
     ["dev: compute.instancePool.maxCapacity: 1 cannot hold one cluster at maxWorkers (4 workers + driver)"]),
    ("pool-capacity-1000", "dev", [("compute.instancePool.maxCapacity", 1000)], []),
    ("pool-capacity-1001", "dev", [("compute.instancePool.maxCapacity", 1001)],
     ["dev: compute.instancePool.maxCapacity: 1001 is out of range (input should be less than or equal to 1000)"]),
    ("pool-capacity-zero", "dev", [("compute.instancePool.maxCapacity", 0)],
     ["dev: compute.instancePool.maxCapacity: 0 is out of range (input should be greater than or equal to 1)"]),
    ("spot-without-pool", "dev", [("compute.instancePool", DELETE), ("compute.spotInstances", True)], []),
    ("spot-with-pool", "dev", [("compute.spotInstances", True)],
     ["dev: compute.spotInstances: true is not allowed with an instancePool (pool nodes are on demand; the pool "
      "decides availability)"]),
    # runtimes
    ("runtime-twice", "dev", [(RUNTIMES, ["17.3.x-cpu-ml-scala2.13", "17.3.x-cpu-ml-scala2.13"])],
     ["dev: compute.runtimeVersions: ['17.3.x-cpu-ml-scala2.13', '17.3.x-cpu-ml-scala2.13'] lists a runtime twice"]),
    ("runtime-gpu", "dev", [(RUNTIMES, ["17.3.x-gpu-ml-scala2.13"])],
     ["dev: compute.runtimeVersions[0]: '17.3.x-gpu-ml-scala2.13' is not a supported LTS runtime; allowed: "
      "17.3.x-cpu-ml-scala2.13, 16.4.x-cpu-ml-scala2.13, 16.4.x-cpu-ml-scala2.12, 15.4.x-cpu-ml-scala2.12"]),
    ("runtime-scala-2-11", "dev", [(RUNTIMES, ["15.4.x-cpu-ml-scala2.11"])],
     ["dev: compute.runtimeVersions: ['15.4.x-cpu-ml-scala2.11'] has '15.4.x-cpu-ml-scala2.11', which is not an "
      "ML runtime key; format <major>.<minor>.x-cpu-ml-scala<2.12|2.13>, e.g. "
      "'17.3.x-cpu-ml-scala2.13'"]),
    ("runtimes-empty", "dev", [(RUNTIMES, [])],
     ["dev: compute.runtimeVersions: [] is not allowed (List should have at least 1 item after validation, not 0)"]),
    # node types
    ("driver-not-a-vm-size", "dev", [("compute.driverNodeTypeId", "big")],
     ["dev: compute.driverNodeTypeId: 'big' is not an Azure VM size (e.g. 'Standard_DS3_v2')"]),
    ("node-esv3", "test", [("compute.nodeTypeId", "Standard_E8s_v3")],
     ["test: compute.maxDbusPerHour: 14.0 is below the largest allowed cluster's 18 DBU/h (8 workers + driver); "
      "raise it or lower maxWorkers"]),
    # Spark settings
    ("spark-key-bare", "dev", [("compute.sparkConf", {"spark.": "x"})],
     ["dev: compute.sparkConf: {spark.: 'x'} has key 'spark.'; Spark settings start with 'spark.'"]),
    ("spark-key-case", "dev", [("compute.sparkConf", {"Spark.sql.x": "1"})],
     ["dev: compute.sparkConf: {Spark.sql.x: '1'} has key 'Spark.sql.x'; Spark settings start with 'spark.'"]),
    ("spark-key-suffix", "dev", [("compute.sparkConf", {"spark.sql.x y": "1"})],
     ["dev: compute.sparkConf: {spark.sql.x y: '1'} has key 'spark.sql.x y'; Spark settings start with 'spark.'"]),
    # spot bid: -1 (on-demand price) or a price above 0
    ("spot-bid-on-demand", "prod", [("compute.jobs.spotBidMaxPrice", -1)], []),
    ("spot-bid-price", "prod", [("compute.jobs.spotBidMaxPrice", 0.01)], []),
    ("spot-bid-negative", "prod", [("compute.jobs.spotBidMaxPrice", -0.5)],
     ["prod: compute.jobs.spotBidMaxPrice: -0.5 is not allowed; allowed: -1 (pay up to the on-demand price) or a "
      "price above 0 USD"]),
    ("spot-bid-minus-two", "prod", [("compute.jobs.spotBidMaxPrice", -2)],
     ["prod: compute.jobs.spotBidMaxPrice: -2 is not allowed; allowed: -1 (pay up to the on-demand price) or a "
      "price above 0 USD"]),
    # the SQL warehouse
    ("warehouse-stop-1", "dev", [("compute.sqlWarehouse.autoStopMins", 1)], []),
    ("warehouse-stop-1440", "dev", [("compute.sqlWarehouse.autoStopMins", 1440)], []),
    ("warehouse-stop-1441", "dev", [("compute.sqlWarehouse.autoStopMins", 1441)],
     ["dev: compute.sqlWarehouse.autoStopMins: 1441 is out of range (input should be less than or equal to 1440)"]),
    ("warehouse-stop-negative", "dev", [("compute.sqlWarehouse.autoStopMins", -1)],
     ["dev: compute.sqlWarehouse.autoStopMins: -1 is out of range (input should be greater than or equal to 1)"]),
    ("warehouse-min-equals-max", "prod", [("compute.sqlWarehouse.minNumClusters", 2)], []),
    ("warehouse-min-above-max", "prod", [("compute.sqlWarehouse.minNumClusters", 3)],
     ["prod: compute.sqlWarehouse.minNumClusters: 3 is above maxNumClusters 2"]),
    # budgets
    ("budget-one-threshold", "dev", [("cost.budget.thresholds", [{"percent": 100, "kind": "Forecasted"}])], []),
    ("budget-five-thresholds", "dev", [("cost.budget.thresholds",
                                        [{"percent": p, "kind": "Actual"} for p in (50, 60, 70, 80, 90)])], []),
    ("budget-no-thresholds", "dev", [("cost.budget.thresholds", [])],
     ["dev: cost.budget.thresholds: 0 notifications; Azure allows 1-5"]),
    ("budget-start-first-of-month", "test", [("cost.budget.startDate", "2026-03-01")], []),
    ("budget-start-second-of-month", "test", [("cost.budget.startDate", "2026-03-02")],
     ["test: cost.budget.startDate: '2026-03-02' is not the first day of a month (Azure budgets start on one); did "
      "you mean '2026-03-01'?"]),
    ("budget-recipient-second-not-email", "dev",
     [("cost.budget.contactEmails", ["ops@example.com", "finops"])],
     ["dev: cost.budget.contactEmails: ['ops@example.com', 'finops'] has 'finops', which is not an e-mail address"]),
    # ML runtimes (the only kind runtimeVersions takes) run on dedicated (SINGLE_USER) compute only; the message
    # names the first
    ("ml-runtimes-on-standard-access", "dev", [("compute.dataSecurityMode", "USER_ISOLATION")],
     ["dev: compute.dataSecurityMode: 'USER_ISOLATION' cannot run the ML runtime '17.3.x-cpu-ml-scala2.13' "
      "(standard access mode does not support Databricks Runtime ML); allowed: 'SINGLE_USER'"]),
    ("ml-runtimes-on-dedicated-access", "dev", [("compute.dataSecurityMode", "SINGLE_USER")], []),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compute_and_cost_edges(stack: str, changes: list[tuple[str, Any]], expected: list[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    # budget start dates are compared with today's month: a fixed today keeps the cases (March 2026) valid
    monkeypatch.setattr(config_cost, "today", lambda: dt.date(2026, 3, 15))
    assert problems(stack, changes) == expected


def test_the_dbu_bound_waits_for_a_valid_worker_range() -> None:
    """With minWorkers above maxWorkers only that is reported, not also the DBU bound it makes meaningless."""
    assert problems("dev", [("compute.minWorkers", 5), ("compute.maxDbusPerHour", 1)]) == [
        "dev: compute.minWorkers: 5 is above maxWorkers 4"]


def test_pool_and_spot_problems_are_reported_together() -> None:
    assert problems("dev", [("compute.instancePool.maxCapacity", 4), ("compute.spotInstances", True)]) == [
        "dev: compute.instancePool.maxCapacity: 4 cannot hold one cluster at maxWorkers (4 workers + driver)",
        "dev: compute.spotInstances: true is not allowed with an instancePool (pool nodes are on demand; the pool "
        "decides availability)"]


# The pricing page's DBU rates per node size (non-Photon), and the serverless warehouse sizes.
NODE_DBUS = {"Standard_DS3_v2": 0.75, "Standard_DS4_v2": 1.5, "Standard_DS5_v2": 3.0, "Standard_DS12_v2": 1.0,
             "Standard_DS13_v2": 2.0, "Standard_DS14_v2": 4.0, "Standard_D4s_v3": 0.75, "Standard_D8s_v3": 1.5,
             "Standard_D16s_v3": 3.0, "Standard_D32s_v3": 6.0, "Standard_E4s_v3": 1.0, "Standard_E8s_v3": 2.0,
             "Standard_E16s_v3": 4.0}
WAREHOUSE_DBUS = {"2X-Small": 4, "X-Small": 6, "Small": 12, "Medium": 24, "Large": 40, "X-Large": 80, "2X-Large": 144}


@pytest.mark.parametrize(("node", "dbus"), sorted(NODE_DBUS.items()))
def test_dbu_rate_of_each_allowed_node(node: str, dbus: float) -> None:
    assert dbus_per_node_hour(node) == dbus


def test_the_rate_tables_are_the_pricing_pages() -> None:
    assert {n: r for family in DBUS_PER_NODE_HOUR.values() for n, r in family.items()} == NODE_DBUS
    assert WAREHOUSE_DBUS_PER_HOUR == WAREHOUSE_DBUS
    assert SUPPORTED_ML_RUNTIMES[0] == "17.3.x-cpu-ml-scala2.13"


@pytest.mark.parametrize(("node", "family"), [("Standard_DS4_v2", "DSv2"), ("Standard_D8s_v3", "Dsv3"),
                                              ("Standard_E16s_v3", "Esv3"), ("Standard_F4", "F"),
                                              ("Standard_NC6s_v3", "NCsv3"), ("standard_DS4_v2", None),
                                              ("Standard_DS4_v2x", None)])
def test_node_families(node: str, family: str | None) -> None:
    assert node_family(node) == family


@pytest.mark.parametrize(("stack", "engine", "driver", "largest", "warehouse"), [
    ("dev", "STANDARD", "Standard_DS3_v2", 3.75, 4),
    ("test", "STANDARD", "Standard_DS4_v2", 13.5, 4),
    ("prod", "PHOTON", "Standard_DS5_v2", 102.0, 24),
])
def test_derived_compute_values_per_environment(stack: str, engine: str, driver: str, largest: float,
                                                warehouse: int) -> None:
    compute: ComputeConfig = validate(stack, stack_raw(stack), siblings(stack)).compute
    assert (compute.runtime_engine, compute.driver_node_type, compute.max_cluster_dbus) == (engine, driver, largest)
    assert compute.sql_warehouse.dbus_per_hour == warehouse
    assert compute.default_runtime == compute.runtime_versions[0] == "17.3.x-cpu-ml-scala2.13"


def test_budget_and_price_defaults() -> None:
    """Unset: alerts at 80 % and 100 % of actual cost and 110 % of forecast; premium-tier list prices per DBU."""
    cost = validate("dev", stack_raw("dev"), {}).cost
    assert [(t.percent, t.kind) for t in cost.budget.thresholds] == [(80, "Actual"), (100, "Actual"),
                                                                      (110, "Forecasted")]
    assert (cost.dbu_prices_usd.all_purpose, cost.dbu_prices_usd.jobs, cost.dbu_prices_usd.serverless_sql) == (
        0.55, 0.30, 0.70)
    assert cost.budget.start_date is None


def test_compute_defaults() -> None:
    """What a stack gets when it sets only the required compute keys."""
    compute = validate("dev", with_changes("dev", [("compute", {
        "runtimeVersions": ["17.3.x-cpu-ml-scala2.13"], "nodeTypeId": "Standard_DS3_v2", "minWorkers": 1,
        "maxWorkers": 2, "autoterminationMinutes": 30, "maxDbusPerHour": 10, "maxClustersPerUser": 1,
        "sqlWarehouse": {"clusterSize": "2X-Small", "autoStopMins": 10}})]), {}).compute
    assert (compute.photon, compute.spot_instances, compute.spark_conf, compute.data_security_mode) == (
        False, False, {}, "SINGLE_USER")
    assert (compute.instance_pool, compute.driver_node_type_id, compute.users) == (
        None, None, ["dataScientists", "mlEngineers"])
    assert (compute.jobs.availability, compute.jobs.first_on_demand, compute.jobs.spot_bid_max_price,
            compute.jobs.users) == ("SPOT_WITH_FALLBACK_AZURE", 1, -1, ["mlEngineers", "devopsEngineers"])
    warehouse = compute.sql_warehouse
    assert (warehouse.min_num_clusters, warehouse.max_num_clusters, warehouse.users) == (
        1, 1, ["dataScientists", "mlEngineers", "devopsEngineers"])


def test_instance_pool_defaults() -> None:
    pool = validate("dev", stack_raw("dev"), {}).compute.instance_pool
    assert pool is not None and (pool.min_idle_instances, pool.max_capacity) == (0, 10)
