"""Compute governance per environment: cluster policies (parsed JSON, every attribute), pools, SQL warehouse."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.components.compute import interactive_policy_definition, policy_json
from infra.config.compute import DBUS_PER_NODE_HOUR, PHOTON_DBU_MULTIPLIER
from mlopsctl.plan.model import Plan, Resource
from tests.support import STACKS, plan_of

POLICY = "databricks:index/clusterPolicy:ClusterPolicy"
POOL = "databricks:index/instancePool:InstancePool"
WAREHOUSE = "databricks:index/sqlEndpoint:SqlEndpoint"
PERMISSIONS = "databricks:index/permissions:Permissions"

DS, MLE, DEVOPS, CONSUMERS = ("mlops-data-scientists", "mlops-ml-engineers", "mlops-devops-engineers",
                              "mlops-model-consumers")
CICD = {"dev": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e",
        "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}

# The seed's runtime_config per environment, as the policies must enforce it.
# stack -> (runtimes, node type, min, max, auto-termination, runtime engine, spark conf, DBU/h bound,
#           clusters per user, interactive availability (None = from the pool))
EXPECTED: dict[str, tuple[Any, ...]] = {
    "dev": (["17.3.x-cpu-ml-scala2.13", "16.4.x-cpu-ml-scala2.12"], "Standard_DS3_v2", 1, 4, 30, "STANDARD",
            {"spark.databricks.delta.preview.enabled": "true",
             "spark.databricks.delta.retentionDurationCheck.enabled": "false"}, 4, 2, None),
    "test": (["17.3.x-cpu-ml-scala2.13"], "Standard_DS4_v2", 2, 8, 60, "STANDARD",
             {"spark.databricks.delta.optimizeWrite.enabled": "true",
              "spark.databricks.delta.autoCompact.enabled": "true"}, 14, 1, None),
    "prod": (["17.3.x-cpu-ml-scala2.13"], "Standard_DS5_v2", 4, 16, 120, "PHOTON",
             {"spark.databricks.delta.optimizeWrite.enabled": "true",
              "spark.databricks.delta.autoCompact.enabled": "true",
              "spark.sql.adaptive.enabled": "true"}, 110, 1, "SPOT_WITH_FALLBACK_AZURE"),
}
# stack -> (idle auto-termination, max capacity) of the pool, None = no pool (seed: prod has none)
POOLS = {"dev": (10, 10), "test": (20, 18), "prod": None}
# stack -> (interactive policy groups, jobs policy groups)
POLICY_USERS = {"dev": ([DS, MLE], [DS, MLE, DEVOPS]), "test": ([MLE, DEVOPS], [MLE, DEVOPS]),
                "prod": ([MLE], [MLE, DEVOPS])}
# stack -> (size, auto-stop, min clusters, max clusters, groups)
WAREHOUSES = {"dev": ("2X-Small", 10, 1, 1, [DS, MLE, DEVOPS]), "test": ("2X-Small", 10, 1, 1, [DS, MLE, DEVOPS]),
              "prod": ("Small", 15, 1, 2, [MLE, DEVOPS, CONSUMERS])}


def _policies(plan: Plan) -> dict[str, Resource]:
    return {r.inputs["name"].rsplit("-", 1)[-1]: r for r in plan.by_type(POLICY)}


def _definition(res: Resource) -> dict[str, dict[str, Any]]:
    return json.loads(res.inputs["definition"])


def _tags(stack: str) -> dict[str, dict[str, Any]]:
    return {f"custom_tags.{k}": {"type": "fixed", "value": v}
            for k, v in {"costCenter": f"cc-ml-{stack}", "environment": stack, "project": "mlops-platform"}.items()}


def _common(stack: str) -> dict[str, dict[str, Any]]:
    runtimes, _node, lo, hi, _auto, engine, conf, dbus, _per_user, _avail = EXPECTED[stack]
    return {
        "spark_version": {"type": "allowlist", "values": runtimes, "defaultValue": runtimes[0]},
        "runtime_engine": {"type": "fixed", "value": engine},
        "data_security_mode": {"type": "fixed", "value": "SINGLE_USER"},
        "autoscale.min_workers": {"type": "range", "minValue": lo, "maxValue": hi, "defaultValue": lo},
        "autoscale.max_workers": {"type": "range", "minValue": lo, "maxValue": hi, "defaultValue": hi},
        "num_workers": {"type": "range", "minValue": lo, "maxValue": hi, "isOptional": True},
        "dbus_per_hour": {"type": "range", "maxValue": dbus},
        "enable_local_disk_encryption": {"type": "fixed", "value": True, "hidden": True},  # SAT DP-2
        **{f"spark_conf.{k}": {"type": "fixed", "value": v} for k, v in conf.items()},
        **_tags(stack),
    }


def _fixed_nodes(node: str, availability: str, spot: bool) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        "node_type_id": {"type": "fixed", "value": node},
        "driver_node_type_id": {"type": "fixed", "value": node},
        "instance_pool_id": {"type": "forbidden", "hidden": True},
        "driver_instance_pool_id": {"type": "forbidden", "hidden": True},
        "azure_attributes.availability": {"type": "fixed", "value": availability, "hidden": True},
    }
    if spot:
        out["azure_attributes.first_on_demand"] = {"type": "fixed", "value": 1, "hidden": True}
        out["azure_attributes.spot_bid_max_price"] = {"type": "fixed", "value": -1, "hidden": True}
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_interactive_policy_is_exactly_the_seed_runtime_config(stack: str) -> None:
    plan = plan_of(stack)
    policy = _policies(plan)["interactive"]
    _runtimes, node, _lo, _hi, auto, *_rest = EXPECTED[stack]
    availability = EXPECTED[stack][9]
    expected = {"cluster_type": {"type": "fixed", "value": "all-purpose"}, **_common(stack),
                "autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": auto, "defaultValue": auto}}
    if POOLS[stack]:
        pool_id = plan.one(POOL).id
        expected["instance_pool_id"] = {"type": "fixed", "value": pool_id, "hidden": True}
        expected["driver_instance_pool_id"] = {"type": "fixed", "value": pool_id, "hidden": True}
    else:
        expected.update(_fixed_nodes(node, availability, spot=availability == "SPOT_WITH_FALLBACK_AZURE"))
    assert _definition(policy) == expected
    assert policy.inputs["name"] == f"mlops-{stack}-ml-interactive"
    assert policy.inputs["maxClustersPerUser"] == EXPECTED[stack][8]


@pytest.mark.parametrize("stack", STACKS)
def test_jobs_policy_runs_on_spot_with_on_demand_driver_everywhere(stack: str) -> None:
    policy = _policies(plan_of(stack))["jobs"]
    node = EXPECTED[stack][1]
    expected = {"cluster_type": {"type": "fixed", "value": "job"}, **_common(stack),
                **_fixed_nodes(node, "SPOT_WITH_FALLBACK_AZURE", spot=True)}
    assert _definition(policy) == expected
    assert policy.inputs["name"] == f"mlops-{stack}-ml-jobs"
    assert "maxClustersPerUser" not in policy.inputs


@pytest.mark.parametrize("stack", STACKS)
def test_auto_termination_is_bounded_and_never_off(stack: str) -> None:
    rule = _definition(_policies(plan_of(stack))["interactive"])["autotermination_minutes"]
    assert rule["type"] == "range"
    assert 10 <= rule["minValue"] <= rule["defaultValue"] == rule["maxValue"] == EXPECTED[stack][4]


@pytest.mark.parametrize("stack", STACKS)
def test_the_largest_allowed_cluster_fits_under_the_dbu_bound(stack: str) -> None:
    plan = plan_of(stack)
    for kind, policy in _policies(plan).items():
        d = _definition(policy)
        node = plan.one(POOL).inputs["nodeTypeId"] if "node_type_id" not in d else d["node_type_id"]["value"]
        rate = next(f[node] for f in DBUS_PER_NODE_HOUR.values() if node in f)
        photon = PHOTON_DBU_MULTIPLIER if d["runtime_engine"]["value"] == "PHOTON" else 1.0
        largest = (d["autoscale.max_workers"]["maxValue"] + 1) * rate * photon
        assert largest <= d["dbus_per_hour"]["maxValue"], (kind, largest)
        # ...and the bound is not loose: less than one more node's worth of headroom.
        assert d["dbus_per_hour"]["maxValue"] - largest < rate * photon * 4, kind


@pytest.mark.parametrize("stack", STACKS)
def test_instance_pool_only_in_dev_and_test_and_used_by_the_interactive_policy(stack: str) -> None:
    plan = plan_of(stack)
    pools = plan.by_type(POOL)
    if POOLS[stack] is None:
        assert pools == []
        return
    idle, capacity = POOLS[stack]
    pool = pools[0]
    assert pool.inputs == {
        "instancePoolName": f"mlops-{stack}-ml-pool", "nodeTypeId": EXPECTED[stack][1],
        "idleInstanceAutoterminationMinutes": idle, "minIdleInstances": 0, "maxCapacity": capacity,
        "preloadedSparkVersions": [EXPECTED[stack][0][0]], "azureAttributes": {"availability": "ON_DEMAND_AZURE"},
        "customTags": {"costCenter": f"cc-ml-{stack}", "environment": stack, "project": "mlops-platform"}}
    interactive = _policies(plan)["interactive"]
    assert pool.urn in interactive.dependencies  # the policy JSON carries the pool's id
    assert capacity >= EXPECTED[stack][3] + 1  # one cluster at max size fits


@pytest.mark.parametrize("stack", STACKS)
def test_serverless_sql_warehouse(stack: str) -> None:
    plan = plan_of(stack)
    size, stop, lo, hi, _groups = WAREHOUSES[stack]
    wh = plan.one(WAREHOUSE)
    assert wh.inputs["name"] == f"mlops-{stack}-monitoring"
    assert (wh.inputs["clusterSize"], wh.inputs["autoStopMins"]) == (size, stop)
    assert (wh.inputs["minNumClusters"], wh.inputs["maxNumClusters"]) == (lo, hi)
    assert wh.inputs["enableServerlessCompute"] is True
    assert wh.inputs["warehouseType"] == "PRO"
    assert {t["key"]: t["value"] for t in wh.inputs["tags"]["customTags"]} == {
        "costCenter": f"cc-ml-{stack}", "environment": stack, "project": "mlops-platform"}
    assert plan.outputs["sqlWarehouseId"] == wh.id


def _grants(plan: Plan, key: str, target: str) -> dict[str, str]:
    perms = [p for p in plan.by_type(PERMISSIONS) if p.inputs.get(key) == target]
    assert len(perms) == 1, (key, target)
    return {a.get("groupName") or a["servicePrincipalName"]: a["permissionLevel"]
            for a in perms[0].inputs["accessControls"]}


@pytest.mark.parametrize("stack", STACKS)
def test_who_may_use_policies_pool_and_warehouse(stack: str) -> None:
    plan = plan_of(stack)
    policies = _policies(plan)
    interactive_groups, jobs_groups = POLICY_USERS[stack]
    assert _grants(plan, "clusterPolicyId", policies["interactive"].id) == dict.fromkeys(interactive_groups,
                                                                                         "CAN_USE")
    assert _grants(plan, "clusterPolicyId", policies["jobs"].id) == {
        **dict.fromkeys(jobs_groups, "CAN_USE"), CICD[stack]: "CAN_USE"}
    assert _grants(plan, "sqlEndpointId", plan.one(WAREHOUSE).id) == {
        **dict.fromkeys(WAREHOUSES[stack][4], "CAN_USE"), CICD[stack]: "CAN_USE"}
    if POOLS[stack]:
        assert _grants(plan, "instancePoolId", plan.one(POOL).id) == dict.fromkeys(interactive_groups,
                                                                                   "CAN_ATTACH_TO")
    component = next(r for r in plan.resources if r.type == "mlops:platform:Compute")
    for perm in (p for p in plan.by_type(PERMISSIONS) if p.parent == component.urn):
        target = next(v for k, v in perm.inputs.items() if k.endswith("Id"))
        owner = next(r for r in plan.resources if r.custom and r.id == target)
        assert owner.urn in perm.dependencies


@pytest.mark.parametrize("stack", STACKS)
def test_compute_resources_use_the_workspace_provider(stack: str) -> None:
    plan = plan_of(stack)
    component = next(r for r in plan.resources if r.type == "mlops:platform:Compute")
    children = [r for r in plan.resources if r.parent == component.urn]
    assert len(children) == len(plan.by_type(POLICY)) + len(plan.by_type(POOL)) + 1 + (4 if POOLS[stack] else 3)
    for res in children:
        assert res.provider and "::databricks-workspace::" in res.provider, res.urn


def test_policy_json_is_deterministic_and_typed() -> None:
    kwargs: dict[str, Any] = dict(
        runtimes=["17.3.x-cpu-ml-scala2.13"], node_type="Standard_DS3_v2", driver_node_type="Standard_DS3_v2",
        instance_pool_id=None, min_workers=1, max_workers=2, autotermination_minutes=20, runtime_engine="STANDARD",
        spark_conf={"spark.b": "1", "spark.a": "2"}, data_security_mode="SINGLE_USER", cost_tags={"costCenter": "x"},
        max_dbus_per_hour=3.0, spot=None)
    text = policy_json(interactive_policy_definition(**kwargs))
    assert text == policy_json(interactive_policy_definition(**kwargs))
    parsed = json.loads(text)
    assert list(parsed) == sorted(parsed)
    assert parsed["azure_attributes.availability"]["value"] == "ON_DEMAND_AZURE"
    assert "azure_attributes.first_on_demand" not in parsed


@pytest.mark.parametrize("stack", STACKS)
def test_permissions_wait_for_the_groups_to_be_workspace_principals(stack: str) -> None:
    plan = plan_of(stack)
    assignments = {r.urn for r in plan.by_type("databricks:index/mwsPermissionAssignment:MwsPermissionAssignment")}
    assert assignments
    components = {r.urn for r in plan.resources if r.type in ("mlops:platform:Compute", "mlops:platform:Cost")}
    acls = [r for r in plan.resources if r.parent in components
            and r.type in (PERMISSIONS, "databricks:index/accessControlRuleSet:AccessControlRuleSet")]
    assert len(acls) == (5 if POOLS[stack] else 4)
    for acl in acls:
        assert assignments <= set(acl.dependencies), acl.urn
    # Policies, pools and the warehouse do not name principals: they need not wait.
    for res in plan.resources:
        if res.parent in components and res.type in (POLICY, POOL, WAREHOUSE):
            assert not assignments & set(res.dependencies), res.urn
