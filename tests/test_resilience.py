"""Resilience: prod's lake survives a regional outage and a mistaken delete (config, plan, rules), the standby stack
sits in its primary's paired region and plans with its checks passing, the drill's and the copy job's decisions,
and `mlopsctl recovery`."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import PROJECT_DIR, STANDBY_DIR, ConfigError, load_stack, read_stack_file, validate
from infra.policy.rules import RULES_BY_NAME
from infra.policy.rules import types as T
from jobs import drill, replicate
from mlopsctl.reports.recovery import posture, render
from tests.policy_fixtures import BASELINES, mutate, view
from tests.support import STACKS, plan_of, set_path, siblings, stack_raw

# --- 1. the lake per environment ---------------------------------------------------------------------

LAKE = [("dev", "Standard_LRS", 7), ("test", "Standard_LRS", 7), ("prod", "Standard_RAGZRS", 30)]


@pytest.mark.parametrize(("stack", "sku", "days"), LAKE)
def test_each_stack_plans_its_lake_redundancy_and_soft_delete(stack: str, sku: str, days: int) -> None:
    plan = plan_of(stack)
    assert plan.one(T.STORAGE_ACCOUNT).inputs["sku"] == {"name": sku}
    blob = plan.one(T.BLOB_SERVICE).inputs
    assert blob["deleteRetentionPolicy"] == blob["containerDeleteRetentionPolicy"] == {"enabled": True, "days": days}


def _problems(stack: str, *edits: tuple[str, Any]) -> list[str]:
    raw = copy.deepcopy(stack_raw(stack))
    for path, value in edits:
        set_path(raw, path, value)
    try:
        validate(stack, raw, siblings(stack))
    except ConfigError as exc:
        return exc.problems
    return []


REFUSED = [
    ("prod", [("lake.sku", "Standard_ZRS")],
     "prod: lake.sku: 'Standard_ZRS' is not allowed in prod: the lake must be geo-redundant with read access to "
     "the paired region; allowed in 'eastus2': 'Standard_RAGZRS'"),
    ("prod", [("lake.sku", "Standard_GZRS")],
     "prod: lake.sku: 'Standard_GZRS' is not allowed in prod: the lake must be geo-redundant with read access to "
     "the paired region; allowed in 'eastus2': 'Standard_RAGZRS'"),
    ("prod", [("lake.sku", "Standard_RAGRS")],
     "prod: lake.sku: 'Standard_RAGRS' is not allowed in prod in 'eastus2', which offers zone redundancy too; "
     "allowed: 'Standard_RAGZRS'"),
    ("prod", [("lake.softDeleteDays", 29)],
     "prod: lake.softDeleteDays: 29 is not allowed in prod: deleted blobs and containers must stay recoverable for "
     "at least 30 days; allowed: 30-365"),
    ("dev", [("location", "westus"), ("lake.sku", "Standard_RAGZRS")],
     "dev: lake.sku: 'Standard_RAGZRS' is not offered in region 'westus'; allowed there: 'Standard_RAGRS' "
     "(geo-zone-redundant storage is offered in a subset of regions)"),
]


@pytest.mark.parametrize(("stack", "edits", "message"), REFUSED, ids=[r[2][:60] for r in REFUSED])
def test_lake_durability_refusals_name_key_value_and_what_is_allowed(stack: str, edits: list[tuple[str, Any]],
                                                                     message: str) -> None:
    assert message in _problems(stack, *edits)


def test_prods_minimums_are_met_at_their_edges_and_by_the_alternative() -> None:
    assert _problems("prod", ("lake.softDeleteDays", 30)) == []
    # a region without GZRS takes RA-GRS (westus's pair is eastus; no other stack is there)
    assert not [p for p in _problems("prod", ("location", "westus"), ("lake.sku", "Standard_RAGRS"))
                if "lake." in p]
    assert _problems("dev", ("lake.sku", "Standard_LRS"), ("lake.softDeleteDays", 1)) == []


# --- the rules: alternatives, both edges, settings --------------------------------------------------------

def _rule(name: str, typ: str, path: str, value: Any, config: dict[str, Any] | None = None) -> list[str]:
    return [f.message for f in RULES_BY_NAME[name].run_resource(view(typ, mutate(BASELINES[typ], path, value)),
                                                                 config)]


@pytest.mark.parametrize(("sku", "fires"), [("Standard_RAGZRS", False), ("Standard_RAGRS", False),
                                            ("standard_ragzrs", False), ("Standard_GZRS", True),
                                            ("Standard_LRS", True)])
def test_geo_rule_accepts_read_access_geo_redundancy_only(sku: str, fires: bool) -> None:
    assert bool(_rule("lake-geo-redundant-read-access", T.STORAGE_ACCOUNT, "sku.name", sku)) is fires


def test_geo_rule_allowed_skus_come_from_the_policy_config() -> None:
    assert _rule("lake-geo-redundant-read-access", T.STORAGE_ACCOUNT, "sku.name", "Standard_RAGRS",
                 {"allowedSkus": ["Standard_RAGZRS"]}) == [
        "sku.name is 'Standard_RAGRS'; must be one of Standard_RAGZRS (a regional outage must not lose the data, "
        "and the paired region must be readable)"]


@pytest.mark.parametrize(("path", "value", "messages"), [
    ("deleteRetentionPolicy.days", 30, []),
    ("containerDeleteRetentionPolicy.days", 29,
     ["containerDeleteRetentionPolicy keeps deleted data 29 days; must be enabled with at least 30 days"]),
    ("containerDeleteRetentionPolicy.enabled", False,
     ["containerDeleteRetentionPolicy keeps deleted data disabled; must be enabled with at least 30 days"]),
])
def test_soft_delete_rule_edges(path: str, value: Any, messages: list[str]) -> None:
    assert _rule("lake-soft-delete-retention", T.BLOB_SERVICE, path, value) == messages


def test_soft_delete_minimum_comes_from_the_policy_config() -> None:
    assert _rule("lake-soft-delete-retention", T.BLOB_SERVICE, "deleteRetentionPolicy.days", 30, {"minDays": 31}) == [
        f"{policy} keeps deleted data 30 days; must be enabled with at least 31 days"
        for policy in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy")]


# --- 3. the standby stack --------------------------------------------------------------------------------

def _project(root: Path, standby: dict[str, Any]) -> Path:
    """The checked-in stacks and an edited standby stack file where the repository keeps it (infra/standby)."""
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", root)
    for stack in STACKS:
        shutil.copy(PROJECT_DIR / f"Pulumi.{stack}.yaml", root)
    (root / STANDBY_DIR).mkdir(parents=True)
    (root / STANDBY_DIR / "Pulumi.prod-dr.yaml").write_text(yaml.safe_dump({"config": standby}, sort_keys=False))
    return root


def test_the_standby_is_prods_tier_in_the_paired_region_with_prods_catalog_names() -> None:
    standby, prod = load_stack("prod-dr"), load_stack("prod")
    assert (standby.environment, standby.location, prod.location) == ("prod", "centralus", "eastus2")
    assert [c.name for c in standby.unity_catalog.catalogs] == [c.name for c in prod.unity_catalog.catalogs]
    assert standby.names.storage_account.startswith("mlopsproddrlake")


STANDBY_REFUSED = [
    ([("location", "eastus2"), ("azure-native:location", "eastus2")],
     "prod-dr: location: 'eastus2' is also its primary stack prod's region; a standby must survive the primary's "
     "region (allowed: 'centralus')"),
    ([("location", "westus2")],
     "prod-dr: location: 'westus2' is not the Azure pair of its primary stack prod's region 'eastus2'; allowed: "
     "'centralus'"),
    ([("standby.primaryRegion", "eastus")],
     "prod-dr: standby.primaryRegion: 'eastus' is not stack prod's location; allowed: 'eastus2'"),
    ([("network.vnetCidr", "10.0.0.0/16"), ("network.hostSubnetCidr", "10.0.1.0/24"),
      ("network.containerSubnetCidr", "10.0.2.0/24"), ("network.privateEndpointSubnetCidr", "10.0.3.0/24")],
     "prod-dr: network.vnetCidr: '10.0.0.0/16' overlaps stack prod's vnetCidr '10.0.0.0/16'; VNets must not "
     "overlap"),
    ([("standby.replication.shareName", None)],
     "prod-dr: standby.replication.shareName: null is required with managedFailover false (the copy job reads the "
     "primary's share through it)"),
    ([("standby.replication.schemas", []), ("standby.replication.models", [])],
     "prod-dr: standby.replication.schemas: [] must list a schema or standby.replication.models a model to copy "
     "with managedFailover false"),
]


@pytest.mark.parametrize(("edits", "message"), STANDBY_REFUSED, ids=[m[9:60] for _, m in STANDBY_REFUSED])
def test_standby_refusals(tmp_path: Path, edits: list[tuple[str, Any]], message: str) -> None:
    raw = read_stack_file("prod-dr")
    for path, value in edits:
        if path.startswith("azure-native:"):
            raw[path] = value
        else:
            set_path(raw, path, value)
    with pytest.raises(ConfigError) as info:
        load_stack("prod-dr", _project(tmp_path, raw))
    assert message in info.value.problems


@pytest.mark.parametrize(("schemas", "models"), [([], ["ml_prod_catalog.models.mlops_churn"]),
                                                 (["ml_prod_catalog.raw"], [])])
def test_the_copy_job_needs_a_schema_or_a_model_either_suffices(tmp_path: Path, schemas: list[str],
                                                        models: list[str]) -> None:
    raw = read_stack_file("prod-dr")
    raw["mlops-platform:standby"]["replication"].update(schemas=schemas, models=models)
    load_stack("prod-dr", _project(tmp_path, raw))


def test_the_copy_jobs_principal_registers_models_in_each_models_schema() -> None:
    """CREATE_MODEL on the schema that holds the model (catalog.schema), not on the model's own name."""
    config = load_stack("prod-dr")
    assert config.standby is not None and config.standby.replication.models == ["ml_prod_catalog.models.mlops_churn"]
    assert "CREATE_MODEL" in config.run_as_grants["ml_prod_catalog.models"]
    assert not [s for s in config.run_as_grants if s.count(".") != 1]


def test_an_address_that_is_not_an_e_mail_is_named() -> None:
    assert _problems("prod", ("drill.failureRecipients", ["ops@example.com", "not-an-email", "x y@z"])) == [
        "prod: drill.failureRecipients: ['ops@example.com', 'not-an-email', 'x y@z'] lists 'not-an-email', which is "
        "not an e-mail address"]


def test_with_managed_failover_the_copy_job_settings_are_not_needed(tmp_path: Path) -> None:
    raw = read_stack_file("prod-dr")
    rep = raw["mlops-platform:standby"]["replication"]
    rep.update(managedFailover=True, schemas=[], models=[])
    del rep["providerName"], rep["shareName"]
    config = load_stack("prod-dr", _project(tmp_path, raw))
    assert config.standby is not None and config.standby.replication.managed_failover
    # no copy job, so its principal needs nothing extra on the standby's schemas
    assert not [s for s, p in config.run_as_grants.items() if "MODIFY" in p]


def test_standby_and_resilient_prod_plan_and_pass_their_checks() -> None:
    """From the repository itself: the standby's file under infra/standby, its enforcement file beside the others."""
    from infra.policy.enforcement import load_config
    from infra.policy.offline import check_plan
    from mlopsctl.plan.engine import plan_stack

    standby = plan_stack("prod-dr")
    report = check_plan(standby.as_json(), "prod-dr", load_config("prod-dr"))
    assert [(v.rule, v.message) for v in report.mandatory] == []
    job = next(r.inputs for r in standby.by_type(T.JOB) if r.inputs["name"] == "prod-dr-copy-from-prod")
    assert (job["name"], job["schedule"]["quartzCronExpression"], job["runAs"]) == (
        "prod-dr-copy-from-prod", "0 0 */6 * * ?", {"servicePrincipalName": "3b9d2c1e-8f7a-4e6d-b5c4-2a1f0e9d8c7b"})
    assert job["tasks"][0]["environmentKey"] == job["environments"][0]["environmentKey"]
    shared = standby.one(T.CATALOG, "standby-shared-catalog").inputs
    assert (shared["providerName"], shared["shareName"]) == ("mlops-prod-eastus2", "standby")



def test_prod_runs_the_restore_drill_and_shares_its_schemas_with_the_standby() -> None:
    prod = plan_of("prod")
    drill_job = next(r for r in prod.by_type(T.JOB) if r.inputs["name"] == "prod-restore-drill")
    inputs = drill_job.inputs
    assert inputs["schedule"] == {"quartzCronExpression": "0 0 5 1 * ?", "timezoneId": "UTC",
                                  "pauseStatus": "UNPAUSED"}
    assert inputs["emailNotifications"] == {"onFailures": ["mlops-platform-team@example.com"]}
    assert inputs["runAs"] == {"servicePrincipalName": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}
    task = inputs["tasks"][0]
    assert task["sparkPythonTask"]["pythonFile"] == "/Workspace/mlops-platform/jobs/drill.py"
    assert task["environmentKey"] == inputs["environments"][0]["environmentKey"]
    assert prod.one("databricks:index/workspaceFile:WorkspaceFile", "job-code-drill").urn in drill_job.dependencies
    recipient = prod.one("databricks:index/recipient:Recipient").inputs
    assert recipient["dataRecipientGlobalMetastoreId"] == "azure:centralus:2d4c6e8f-1a3b-4c5d-9e7f-8a6b4c2d0e1f"
    share = prod.one("databricks:index/share:Share").inputs
    assert {o["dataObjectType"] for o in share["objects"]} == {"SCHEMA"} and len(share["objects"]) == 6


@pytest.mark.parametrize(("stack", "paused"), [("dev", True), ("test", True), ("prod", False)])
def test_the_drill_is_paused_outside_prod_unless_configured(stack: str, paused: bool) -> None:
    from infra.config.resilience import drill_paused

    raw = copy.deepcopy(stack_raw(stack))
    catalog = f"ml_{stack}_catalog"
    raw["mlops-platform:drill"] = {"tables": [f"{catalog}.models.t"], "scratchSchema": f"{catalog}.models"}
    assert drill_paused(validate(stack, raw, siblings(stack))) is paused
    raw["mlops-platform:drill"]["paused"] = not paused
    assert drill_paused(validate(stack, raw, siblings(stack))) is (not paused)


def test_the_drill_needs_a_declared_scratch_schema() -> None:
    assert _problems("prod", ("drill.scratchSchema", "ml_prod_catalog.nowhere")) == [
        "prod: drill.scratchSchema: 'ml_prod_catalog.nowhere' is not a schema of this stack's unityCatalog.catalogs; "
        "declare it there so the drill's grants have a target"]


# --- 4. the drill's and the copy job's decisions ------------------------------------------------------------

class FakeLake:
    def __init__(self, versions: dict[str, int], counts: dict[tuple[str, int], int],
                 restored: dict[str, int] | None = None) -> None:
        self.versions, self.counts, self.restored, self.dropped = versions, counts, restored or {}, []

    def current_version(self, table: str) -> int:
        return self.versions[table]

    def count_at(self, table: str, version: int) -> int:
        return self.counts[(table, version)]

    def restore_copy(self, table: str, version: int, target: str) -> int:
        return self.restored.get(table, self.counts[(table, version)])

    def drop(self, target: str) -> None:
        self.dropped.append(target)


class FakeRegistry:
    def __init__(self, aliases: dict[str, dict[str, int]], versions: dict[str, set[int]]) -> None:
        self._aliases, self._versions = aliases, versions

    def aliases(self, model: str) -> dict[str, int]:
        return self._aliases[model]

    def version_exists(self, model: str, version: int) -> bool:
        return version in self._versions.get(model, set())


@pytest.mark.parametrize(("month", "expected"), [(0, ["a", "b"]), (1, ["c", "a"]), (2, ["b", "c"])])
def test_the_sample_rotates_so_every_table_is_rehearsed(month: int, expected: list[str]) -> None:
    assert drill.pick_sample(["a", "b", "c"], 2, month) == expected
    assert drill.pick_sample(["a"], 5, month) == ["a"] and drill.pick_sample([], 2, month) == []


@pytest.mark.parametrize(("current", "back", "expected"), [(5, 1, 4), (1, 1, 0), (0, 1, None)])
def test_restore_version_edges(current: int, back: int, expected: int | None) -> None:
    assert drill.restore_version(current, back) == expected


def test_a_good_drill_passes_and_drops_its_copies() -> None:
    lake = FakeLake({"c.s.t": 3}, {("c.s.t", 2): 10})
    report = drill.run_drill(lake, FakeRegistry({"c.m.x": {"champion": 2}}, {"c.m.x": {1, 2}}),
                             ["c.s.t"], 1, 1, "c.scratch", ["c.m.x"], 0)
    assert report.ok and lake.dropped == ["c.scratch.drill_c__s__t"]
    assert report.lines() == ["ok table c.s.t: version 2: 10 rows restored, 10 expected",
                              "ok alias c.m.x@champion -> version 2"]


@pytest.mark.parametrize(("lake", "registry", "line"), [
    (FakeLake({"c.s.t": 3}, {("c.s.t", 2): 10}, {"c.s.t": 9}), FakeRegistry({"c.m.x": {"a": 1}}, {"c.m.x": {1}}),
     "FAILED table c.s.t: version 2: 9 rows restored, 10 expected"),
    (FakeLake({"c.s.t": 0}, {}), FakeRegistry({"c.m.x": {"a": 1}}, {"c.m.x": {1}}),
     "FAILED table c.s.t: has fewer than 1 earlier versions to restore from"),
    (FakeLake({}, {}), FakeRegistry({"c.m.x": {"a": 1}}, {"c.m.x": {1}}), "FAILED table c.s.t: KeyError: 'c.s.t'"),
    (FakeLake({"c.s.t": 3}, {("c.s.t", 2): 10}), FakeRegistry({"c.m.x": {"champion": 7}}, {"c.m.x": {1}}),
     "FAILED alias c.m.x@champion -> version 7 does not exist"),
    (FakeLake({"c.s.t": 3}, {("c.s.t", 2): 10}), FakeRegistry({"c.m.x": {}}, {}),
     "FAILED alias c.m.x@* has no aliases"),
])
def test_a_failed_drill_says_what_failed(lake: FakeLake, registry: FakeRegistry, line: str) -> None:
    report = drill.run_drill(lake, registry, ["c.s.t"], 1, 1, "c.scratch", ["c.m.x"], 0)
    assert not report.ok and line in report.lines()


def test_the_copy_job_copies_every_shared_table_into_the_schema_of_the_same_name() -> None:
    copies = replicate.plan_tables("prod_standby_share", ["ml_prod_catalog.raw", "ml_prod_catalog.models"],
                                   {"prod_standby_share.raw": ["b", "a"]})
    assert copies == [replicate.TableCopy("prod_standby_share.raw.a", "ml_prod_catalog.raw.a"),
                      replicate.TableCopy("prod_standby_share.raw.b", "ml_prod_catalog.raw.b")]


def test_the_copy_job_copies_missing_versions_and_mirrors_aliases() -> None:
    plan = replicate.plan_models("c.m.x", [1, 2, 3], {"champion": 3, "old": 1}, {"champion": 1, "gone": 1},
                                 {1: 1, 2: 2})
    assert plan == replicate.ModelPlan("c.m.x", [3], {"old": 1}, ["gone"])
    after = replicate.plan_models("c.m.x", [1, 2, 3], {"champion": 3, "old": 1}, {"champion": 1, "gone": 1},
                                  {1: 1, 2: 2, 3: 4})
    assert after.copy_versions == [] and after.set_aliases == {"champion": 4, "old": 1}


# --- 5. mlopsctl recovery ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("stack", "relaxed"), [
    ("dev", {"lake redundancy", "soft delete", "resource group lock", "pulumi protect", "retain on delete",
             "key vault recovery", "restore drill"}),
    ("prod", set()),
])
def test_recovery_posture_per_stack(stack: str, relaxed: set[str]) -> None:
    rows = posture(plan_of(stack).as_json())
    assert {r.aspect.split(" (")[0] for r in rows if not r.ok} == relaxed
    text = render(stack, rows)
    assert text.splitlines()[0] == f"recovery posture of stack {stack} (from its plan)"
    assert (f"{len(relaxed)} aspect(s) below prod's bar" if relaxed else "every aspect meets prod's bar") in text


def test_recovery_command_reads_a_plan_json(tmp_path: Path, mlopsctl: Any) -> None:
    path = tmp_path / "prod.json"
    plan_of("prod").write(path)
    result = mlopsctl("recovery", "--plan-json", str(path))
    assert result.returncode == 0, result.stderr
    assert "lake redundancy (mlopsprodlake" in result.stdout and "Standard_RAGZRS" in result.stdout


def test_the_drill_runs_on_the_environment_that_ships_mlflow() -> None:
    """Review finding: the drill imports mlflow but ran on serverless environment 2, which the docs do not say
    ships it; environment 5 ships MLflow 3.8.1, as the retention and promotion jobs use."""
    from tests.support import plan_of

    drill = next(r for r in plan_of("prod").by_type(T.JOB) if r.inputs["name"] == "prod-restore-drill")
    assert [e["spec"]["environmentVersion"] for e in drill.inputs["environments"]] == ["5"]


# --- the drill's settings and what its principal needs ----------------------------------------------------------

def test_the_drills_principal_reads_the_tables_schemas_writes_the_scratch_and_loads_the_models() -> None:
    from infra.config import resilience

    config = validate("prod", stack_raw("prod"), siblings("prod"))
    assert resilience.run_as_grants(config) == {
        "ml_prod_catalog.feature_store": {"SELECT", "USE_SCHEMA"},
        "ml_prod_catalog.restore_drill": {"CREATE_TABLE", "MODIFY", "SELECT", "USE_SCHEMA"},
        "ml_prod_catalog.models": {"EXECUTE", "USE_SCHEMA"}}


def test_drill_and_copy_job_defaults() -> None:
    from infra.config.resilience import DrillConfig, Replication

    drill = DrillConfig.model_validate({"tables": ["c.s.t"], "scratchSchema": "c.scratch"})
    assert (drill.sample, drill.versions_back, drill.paused, drill.schedule.cron) == (3, 1, None, "0 5 1 * *")
    copy_job = Replication()
    assert (copy_job.managed_failover, copy_job.paused, copy_job.schedule.cron) == (False, False, "0 */6 * * *")


DRILL_EDGES = [
    ("drill.sample", 50, []), ("drill.sample", 1, []),
    ("drill.sample", 51, ["prod: drill.sample: 51 is out of range (input should be less than or equal to 50)"]),
    ("drill.sample", 0, ["prod: drill.sample: 0 is out of range (input should be greater than or equal to 1)"]),
    ("drill.versionsBack", 1, []), ("drill.versionsBack", 100, []),
    ("drill.versionsBack", 0,
     ["prod: drill.versionsBack: 0 is out of range (input should be greater than or equal to 1)"]),
    ("drill.versionsBack", 101,
     ["prod: drill.versionsBack: 101 is out of range (input should be less than or equal to 100)"]),
    ("drill.tables", ["ml_prod_catalog.feature_store"],
     ["prod: drill.tables: ['ml_prod_catalog.feature_store'] lists 'ml_prod_catalog.feature_store'; each table is "
      "a three-part name catalog.schema.name"]),
    ("lake.softDeleteDays", 31, []),  # above prod's minimum is fine, not only the minimum itself
]


@pytest.mark.parametrize(("path", "value", "expected"), DRILL_EDGES, ids=[f"{p}={v}" for p, v, _ in DRILL_EDGES])
def test_drill_limits_on_both_sides(path: str, value: Any, expected: list[str]) -> None:
    assert _problems("prod", (path, value)) == expected
