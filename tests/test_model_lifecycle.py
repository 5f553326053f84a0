"""The closed loop: registered models and experiments as resources, retrain -> validate -> promote, endpoints
that follow the promoted alias, and the serving patterns.

Protects, per environment: who owns each served model (the run-as principal, which sets its aliases) and who may
load it (the deployer), the experiments and their permissions, the job graph with the gate from config and the
promotion code it runs, which version each endpoint entity serves (pinned or resolved from the alias in the
plan), the config rules of aliases, gates and patterns (every message exactly), and the ownership rule's
exemption for a model whose deployer holds EXECUTE through a Grants.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from infra.components.job_code import workspace_path
from infra.components.serving.endpoints import alias_version
from infra.config import PROJECT_DIR, validate
from infra.policy.rules import types as T
from mlopsctl.plan.mocks import alias_versions
from tests.support import DELETE, STACKS, config_problems, dig, plan_of, siblings, stack_raw, with_changes
from tests.test_deploy_rules_edges import findings, messages, res

MODEL = "databricks:index/registeredModel:RegisteredModel"
EXPERIMENT = "databricks:index/mlflowExperiment:MlflowExperiment"
GRANTS = "databricks:index/grants:Grants"
PERMISSIONS = "databricks:index/permissions:Permissions"
JOB = "databricks:index/job:Job"
SERVING = "databricks:index/modelServing:ModelServing"
FILE = "databricks:index/workspaceFile:WorkspaceFile"


def churn(stack: str) -> str:
    return f"ml_{stack}_catalog.models.mlops_churn"


def retrain_job(stack: str) -> str:
    return f"ml-model-model-serving-{stack}-drift-retrain"


def identity(stack: str) -> dict[str, Any]:
    return stack_raw(stack)["mlops-platform:identity"]


# stack -> served models (each becomes a registered model), protected?
MODELS = {
    "dev": ([churn("dev"), "ml_dev_catalog.models.mlops_churn_advanced"], False),
    "test": ([churn("test")], False),
    "prod": ([churn("prod")], True),
}


@pytest.mark.parametrize("stack", STACKS)
def test_each_served_model_is_a_registered_model_owned_by_the_run_as_principal(stack: str) -> None:
    plan = plan_of(stack)
    names, protected = MODELS[stack]
    models = plan.by_type(MODEL)
    assert sorted(f"{m.inputs['catalogName']}.{m.inputs['schemaName']}.{m.inputs['name']}" for m in models) == \
        sorted(names)
    cicd = identity(stack)["cicdServicePrincipal"]["applicationId"]
    for model in models:
        assert model.inputs["owner"] == cicd  # only an owner may set aliases and create versions
        assert "aliases" not in model.inputs  # the job moves them; a deploy never declares (or resets) them
        assert model.protect is protected
        schema = f"{model.inputs['catalogName']}.{model.inputs['schemaName']}"
        assert any(schema in d for d in model.dependencies), "a model waits for its schema"


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployer_may_load_what_it_serves(stack: str) -> None:
    plan = plan_of(stack)
    deployer = identity(stack)["deployer"]["applicationId"]
    grants = {g.inputs.get("model"): g for g in plan.by_type(GRANTS) if g.inputs.get("model")}
    assert sorted(grants) == sorted(MODELS[stack][0])
    for name, g in grants.items():
        assert g.inputs["grants"] == [{"principal": deployer, "privileges": ["EXECUTE"]}]
        model = next(m for m in plan.by_type(MODEL) if m.inputs["name"] == name.rsplit(".", 1)[1])
        assert model.urn in g.dependencies
    # the endpoint waits for that grant (through the alias read or directly)
    for endpoint in plan.by_type(SERVING):
        assert any(g.urn in endpoint.dependencies for g in grants.values())


# stack -> folder permission levels as they become experiment levels (CAN_RUN reads)
EXPERIMENT_ACCESS = {
    "dev": {"mlops-data-scientists": "CAN_MANAGE", "mlops-ml-engineers": "CAN_MANAGE",
            "mlops-devops-engineers": "CAN_READ"},
    "test": {"mlops-data-scientists": "CAN_READ", "mlops-ml-engineers": "CAN_EDIT",
             "mlops-devops-engineers": "CAN_MANAGE", "mlops-model-consumers": "CAN_READ"},
    "prod": {"mlops-data-scientists": "CAN_READ", "mlops-ml-engineers": "CAN_READ",
             "mlops-devops-engineers": "CAN_MANAGE", "mlops-model-consumers": "CAN_READ"},
}


@pytest.mark.parametrize("stack", STACKS)
def test_each_model_has_an_experiment_in_the_stack_folder_with_permissions(stack: str) -> None:
    plan = plan_of(stack)
    folder = plan.one("databricks:index/directory:Directory", "experiment-folder")
    experiments = plan.by_type(EXPERIMENT)
    assert sorted(e.inputs["name"] for e in experiments) == sorted(
        f"/Workspace/ml_experiments/{stack}/{m.rsplit('.', 1)[1]}" for m in MODELS[stack][0])
    cicd = identity(stack)["cicdServicePrincipal"]["applicationId"]
    for experiment in experiments:
        assert folder.urn in experiment.dependencies
        (perms,) = [p for p in plan.by_type(PERMISSIONS) if p.inputs.get("experimentId") == experiment.id]
        expected = [{"groupName": g, "permissionLevel": lvl} for g, lvl in sorted(EXPERIMENT_ACCESS[stack].items())]
        assert perms.inputs["accessControls"] == [
            *expected, {"servicePrincipalName": cicd, "permissionLevel": "CAN_MANAGE"}]


# stack -> the validate task's gate (min accuracy, max drop, max latency p95 ms, max error rate)
GATES = {"dev": ("0.75", "0.05", "500", "0.05"), "test": ("0.8", "0.02", "300", "0.02"),
         "prod": ("0.8", "0", "200", "0.01")}


@pytest.mark.parametrize("stack", STACKS)
def test_training_is_followed_by_validate_then_promote(stack: str) -> None:
    plan = plan_of(stack)
    job = plan.one(JOB, retrain_job(stack))
    tasks = {t["taskKey"]: t for t in job.inputs["tasks"]}
    validate, promote = tasks["validate_challenger"], tasks["promote_champion"]
    assert validate["dependsOns"] == [{"taskKey": "model_training"}]
    assert promote["dependsOns"] == [{"taskKey": "validate_challenger"}]  # only after a passing validation
    path = workspace_path("promotion")
    assert validate["sparkPythonTask"]["pythonFile"] == promote["sparkPythonTask"]["pythonFile"] == path
    accuracy, drop, latency, errors = GATES[stack]
    assert validate["sparkPythonTask"]["parameters"] == [
        "validate", "--model", churn(stack), "--challenger-alias", "Challenger", "--champion-alias", "Champion",
        "--min-accuracy", accuracy, "--max-accuracy-drop", drop, "--max-latency-p95-ms", latency,
        "--max-error-rate", errors]
    # promote applies the same gate to whatever the challenger names when it runs: no task value handed on
    assert promote["sparkPythonTask"]["parameters"] == ["promote", *validate["sparkPythonTask"]["parameters"][1:]]
    assert validate["environmentKey"] == promote["environmentKey"] == "promotion"
    (env,) = job.inputs["environments"]
    assert env["environmentKey"] == "promotion"
    assert env["spec"]["environmentVersion"] == "5"  # MLflow and databricks-sdk preinstalled
    assert env["spec"].get("dependencies", []) == []
    (code,) = [f for f in plan.by_type(FILE) if f.inputs["source"] == "../jobs/promotion.py"]
    assert f"/Workspace{code.inputs['path']}" == path
    assert code.urn in job.dependencies  # the code is uploaded before the job can run it


@pytest.mark.parametrize("stack", STACKS)
def test_a_rejected_challenger_reaches_the_environment_destinations(stack: str) -> None:
    raw = stack_raw(stack)["mlops-platform:serving"]
    expected = list(dict.fromkeys([*raw["retraining"]["failureRecipients"], *raw["notifications"]["emails"]]))
    job = plan_of(stack).one(JOB, retrain_job(stack))
    assert job.inputs["emailNotifications"] == {"onFailures": expected}
    assert "webhookNotifications" not in job.inputs  # no webhook configured in the checked-in stacks


# stack -> endpoint entity -> how it is served: a pinned version, or the alias the plan resolved
SERVED = {
    "dev": {"champion": ("alias", "Champion"), "challenger": ("alias", "Challenger")},
    "test": {"champion": ("alias", "Champion")},
    "prod": {"blue": ("version", "2"), "green": ("alias", "Champion")},
}


@pytest.mark.parametrize("stack", STACKS)
def test_endpoints_serve_the_pinned_version_or_the_alias_resolved_at_deploy(stack: str) -> None:
    plan = plan_of(stack)
    (endpoint,) = plan.by_type(SERVING)
    served = {e["name"]: e["entityVersion"] for e in endpoint.inputs["config"]["servedEntities"]}
    resolved = alias_versions(churn(stack))  # what the offline registry answers
    expected = {name: value if how == "version" else str(resolved[value])
                for name, (how, value) in SERVED[stack].items()}
    assert served == expected
    outputs = {e["name"]: e["entityVersion"] for e in plan.outputs["servingEndpoints"][0]["entities"]}
    assert outputs == expected  # verify compares the live endpoint with these


def _info(**aliases: int) -> SimpleNamespace:
    return SimpleNamespace(model_infos=[SimpleNamespace(
        aliases=[SimpleNamespace(alias_name=k, version_num=v) for k, v in aliases.items()])])


def test_an_alias_resolves_case_insensitively_to_its_version() -> None:
    assert alias_version("c.s.m", "champion", "ep/e", _info(Champion=7, Challenger=8)) == "7"


@pytest.mark.parametrize(("info", "aliases"), [(_info(Challenger=8), "challenger"), (_info(), "none"),
                                                (SimpleNamespace(model_infos=None), "none")])
def test_an_alias_no_version_carries_stops_the_deploy_with_what_to_do(info: Any, aliases: str) -> None:
    with pytest.raises(ValueError) as err:
        alias_version("c.s.m", "Champion", "ep/e", info)
    assert str(err.value) == (f"serving endpoint entity ep/e: no version of c.s.m carries the alias 'Champion' "
                              f"(aliases set: {aliases}); let the retrain job promote one, or pin entityVersion")


# --- config ---------------------------------------------------------------------------------------------------

EP = "serving.endpoints.0"
PROMO = "serving.retraining.promotion"
ALIAS_WORDS = ("is not a model alias; allowed: 1-255 letters, digits and underscores, not starting with a digit, "
               "e.g. 'Champion'")
RESERVED = "is reserved by MLflow (it already names a version); allowed: another name, e.g. 'Champion'"

# (case id, stack, changes, every problem line; [] = accepted)
CASES: list[tuple[str, str, list[tuple[str, Any]], list[str]]] = [
    ("pinned-instead-of-alias", "dev", [(f"{EP}.entities.0.entityAlias", DELETE),
                                        (f"{EP}.entities.0.entityVersion", 3)], []),
    ("version-and-alias", "dev", [(f"{EP}.entities.0.entityVersion", 3)],
     ["dev: serving.endpoints[0].entities[0].entityAlias: 'Champion' is set together with entityVersion; allowed: "
      "one of them (a pinned version or an alias resolved at deploy)"]),
    ("neither-version-nor-alias", "dev", [(f"{EP}.entities.0.entityAlias", DELETE)],
     ["dev: serving.endpoints[0].entities[0].entityVersion: null is required (or entityAlias); allowed: a "
      "pinned version >= 1, or an alias such as 'Champion' resolved at deploy"]),
    ("alias-latest", "dev", [(f"{EP}.entities.0.entityAlias", "Latest")],
     [f"dev: serving.endpoints[0].entities[0].entityAlias: 'Latest' {RESERVED}"]),
    ("alias-version-like", "dev", [(f"{EP}.entities.0.entityAlias", "v3")],
     [f"dev: serving.endpoints[0].entities[0].entityAlias: 'v3' {RESERVED}"]),
    ("alias-v-word-is-fine", "dev", [(f"{EP}.entities.0.entityAlias", "v3a")], []),
    ("alias-starts-with-digit", "dev", [(f"{EP}.entities.0.entityAlias", "1st")],
     [f"dev: serving.endpoints[0].entities[0].entityAlias: '1st' {ALIAS_WORDS}"]),
    ("alias-hyphen", "dev", [(f"{EP}.entities.0.entityAlias", "new-champ")],
     [f"dev: serving.endpoints[0].entities[0].entityAlias: 'new-champ' {ALIAS_WORDS}"]),
    ("alias-255", "dev", [(f"{EP}.entities.0.entityAlias", "A" * 255)], []),
    ("alias-256", "dev", [(f"{EP}.entities.0.entityAlias", "A" * 256)],
     [f"dev: serving.endpoints[0].entities[0].entityAlias: '{'A' * 256}' {ALIAS_WORDS}"]),
    # prod: live traffic only on pinned versions; an alias holds the idle slot
    ("prod-alias-on-live-traffic", "prod", [(f"{EP}.routes", {"blue": 0, "green": 100})],
     ["prod: serving.endpoints[0].entities[1].entityAlias: 'Champion' takes 100% of prod traffic; allowed: an "
      "alias only on a 0% entity in prod (pin entityVersion for live traffic, so a shift is a reviewed PR)"]),
    ("prod-pinned-green-takes-traffic", "prod", [(f"{EP}.routes", {"blue": 0, "green": 100}),
                                                 (f"{EP}.entities.1.entityAlias", DELETE),
                                                 (f"{EP}.entities.1.entityVersion", 3)], []),
    ("dev-alias-may-take-traffic", "dev", [(f"{EP}.routes", {"champion": 10, "challenger": 90})], []),
    # the promotion gate and its aliases
    ("same-aliases", "dev", [(f"{PROMO}.championAlias", "challenger")],
     ["dev: serving.retraining.promotion.championAlias: 'challenger' is the challenger alias too; allowed: a "
      "different alias (aliases are case-insensitive)"]),
    ("champion-alias-reserved", "dev", [(f"{PROMO}.championAlias", "latest")],
     [f"dev: serving.retraining.promotion.championAlias: 'latest' {RESERVED}"]),
    ("accuracy-edges", "dev", [(f"{PROMO}.gate.minAccuracy", 0), (f"{PROMO}.gate.maxAccuracyDrop", 1),
                               (f"{PROMO}.gate.maxErrorRate", 1), (f"{PROMO}.gate.maxLatencyP95Ms", 60000)], []),
    ("accuracy-above-1", "dev", [(f"{PROMO}.gate.minAccuracy", 1.01)],
     ["dev: serving.retraining.promotion.gate.minAccuracy: 1.01 is out of range (input should be less than or "
      "equal to 1)"]),
    ("negative-drop", "dev", [(f"{PROMO}.gate.maxAccuracyDrop", -0.01)],
     ["dev: serving.retraining.promotion.gate.maxAccuracyDrop: -0.01 is out of range (input should be greater "
      "than or equal to 0)"]),
    ("error-rate-above-1", "dev", [(f"{PROMO}.gate.maxErrorRate", 1.5)],
     ["dev: serving.retraining.promotion.gate.maxErrorRate: 1.5 is out of range (input should be less than or "
      "equal to 1)"]),
    ("latency-zero", "dev", [(f"{PROMO}.gate.maxLatencyP95Ms", 0)],
     ["dev: serving.retraining.promotion.gate.maxLatencyP95Ms: 0 is out of range (input should be greater than 0)"]),
    ("latency-above-a-minute", "dev", [(f"{PROMO}.gate.maxLatencyP95Ms", 60001)],
     ["dev: serving.retraining.promotion.gate.maxLatencyP95Ms: 60001 is out of range (input should be less than "
      "or equal to 60000)"]),
    ("gate-unknown-key", "dev", [(f"{PROMO}.gate.minF1", 0.8)],
     ["dev: serving.retraining.promotion.gate.minF1: unknown key (a typo?); see the configuration reference in "
      "docs/configuration.md"]),
    # serving patterns
    ("shadow-refused", "dev", [(f"{EP}.pattern", "shadow"), (f"{EP}.abTest", DELETE)],
     ["dev: serving.endpoints[0].pattern: 'shadow' is not something Model Serving does: traffic_config routes send "
      "each request to exactly one served entity (the percentages add up to 100) and nothing is mirrored; allowed: "
      "'single', 'abTest' or 'blueGreen'; for shadow evaluation, score the endpoint's inference table (every request "
      "and prediction is logged there) with the candidate version in a batch job and compare offline"]),
    ("blue-green-split", "prod", [(f"{EP}.routes", {"blue": 90, "green": 10})],
     ["prod: serving.endpoints[0].routes: {blue: 90, green: 10} split traffic on a blue/green endpoint; allowed: 100 "
      "to one colour and 0 to the other (smoke-test the idle colour, then shift all traffic in one PR)"]),
    ("blue-green-one-entity", "test", [(f"{EP}.pattern", "blueGreen")],
     ["test: serving.endpoints[0].pattern: 'blueGreen' serves 1 entities; allowed: exactly two (blue and green)"]),
    ("single-with-two", "dev", [(f"{EP}.pattern", "single"), (f"{EP}.abTest", DELETE)],
     ["dev: serving.endpoints[0].pattern: 'single' serves 2 entities; allowed: exactly one (or pattern 'abTest' / "
      "'blueGreen')"]),
    ("ab-without-groups", "dev", [(f"{EP}.abTest", DELETE)],
     ["dev: serving.endpoints[0].abTest: null is required with pattern 'abTest'; allowed: control and "
      "treatment (served entity names)"]),
    ("ab-unknown-control", "dev", [(f"{EP}.abTest.control", "blue")],
     ["dev: serving.endpoints[0].abTest.control: 'blue' names no served entity; allowed: 'champion', 'challenger'"]),
    ("ab-treatment-without-traffic", "dev", [(f"{EP}.routes", {"champion": 100, "challenger": 0})],
     ["dev: serving.endpoints[0].abTest.treatment: 'challenger' gets no traffic; allowed: an entity with a route "
      "above 0"]),
    ("ab-same-group", "dev", [(f"{EP}.abTest.treatment", "champion")],
     ["dev: serving.endpoints[0].abTest.treatment: 'champion' is the control too; allowed: another served entity"]),
    ("ab-block-without-pattern", "dev", [(f"{EP}.pattern", DELETE)],
     ["dev: serving.endpoints[0].abTest: '(set)' is only read with pattern 'abTest'; remove it or set the pattern"]),
    ("ab-unknown-metric", "dev", [(f"{EP}.abTest.compareMetrics", ["latency_p99"])],
     ["dev: serving.endpoints[0].abTest.compareMetrics[0]: 'latency_p99' is not allowed; allowed: 'latency_p95', "
      "'error_rate' or 'business_kpi'"]),
    ("ab-no-metric", "dev", [(f"{EP}.abTest.compareMetrics", [])],
     ["dev: serving.endpoints[0].abTest.compareMetrics: [] is not allowed (List should have at least 1 item after "
      "validation, not 0)"]),
    ("no-pattern-declared", "dev", [(f"{EP}.pattern", DELETE), (f"{EP}.abTest", DELETE)], []),
]


@pytest.mark.parametrize(("stack", "changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_lifecycle_config_problems(stack: str, changes: list[tuple[str, Any]], expected: list[str]) -> None:
    raw = with_changes(stack, changes)
    if expected:
        assert config_problems(stack, raw) == expected
    else:
        validate(stack, raw, siblings(stack))  # accepted


# --- the ownership rule's exemption ------------------------------------------------------------------------------

OWNERSHIP = "uc-deployer-keeps-ownership"
DEPLOYER = "8d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a"
CICD = "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d"


def _served(grantee: str = DEPLOYER, privileges: tuple[str, ...] = ("EXECUTE",), model: str = "cat.models.churn",
            direct: bool = False) -> list[Any]:
    registered = res(T.REGISTERED_MODEL, "model", {"catalogName": "cat", "schemaName": "models", "name": "churn",
                                                   "owner": CICD})
    grants = res(T.GRANTS, "model-grants", {"model": model, "grants": [
        {"principal": grantee, "privileges": list(privileges)}]}, deps=[registered])
    endpoint = res(T.MODEL_SERVING, "endpoint", {"name": "ep"}, deps=[grants, *([registered] if direct else [])])
    return [registered, grants, endpoint]


def _handed(later: int, first: str) -> str:
    return (f"RegisteredModel model hands ownership to service principal {CICD!r} in the call that creates it, but "
            f"{later} later create(s) need privileges on it (first: {first}) and the deploying principal is not "
            f"{CICD!r}; leave owner unset (the deployer keeps it) and grant MANAGE through Grants")


def test_a_model_owned_by_the_job_principal_is_fine_when_the_deployer_gets_execute() -> None:
    assert messages(OWNERSHIP, _served(), {"deployerPrincipals": [DEPLOYER.upper()]}) == []
    assert messages(OWNERSHIP, _served(model="CAT.models.Churn"), {"deployerPrincipals": [DEPLOYER]}) == []


@pytest.mark.parametrize(("served", "config"), [
    (_served(), {}),                                            # who the deployer is is not known
    (_served(grantee=CICD), {"deployerPrincipals": [DEPLOYER]}),  # the grant is someone else's
    (_served(privileges=("APPLY_TAG",)), {"deployerPrincipals": [DEPLOYER]}),  # no EXECUTE
    (_served(model="cat.models.other"), {"deployerPrincipals": [DEPLOYER]}),   # another model's grant
], ids=["no-deployer", "other-grantee", "no-execute", "other-model"])
def test_without_the_deployers_execute_grant_the_transfer_blocks(served: list[Any], config: dict[str, Any]) -> None:
    assert messages(OWNERSHIP, served, config) == [_handed(2, "ModelServing endpoint")]


def test_a_grant_on_a_function_of_the_models_name_is_not_the_models() -> None:
    """A function may share a model's three-part name; only a Grants on the model itself lets the deployer in."""
    served = _served()
    served[1] = res(T.GRANTS, "model-grants", {"function": "cat.models.churn", "grants": [
        {"principal": DEPLOYER, "privileges": ["EXECUTE"]}]}, deps=[served[0]])
    assert messages(OWNERSHIP, served, {"deployerPrincipals": [DEPLOYER]}) == [_handed(2, "ModelServing endpoint")]


def test_what_depends_on_the_model_itself_still_counts() -> None:
    [finding] = findings(OWNERSHIP, _served(direct=True), {"deployerPrincipals": [DEPLOYER]})
    assert finding.message == _handed(1, "ModelServing endpoint")


@pytest.mark.parametrize("stack", STACKS)
def test_the_policy_config_names_the_stacks_deployer(stack: str) -> None:
    """The rule's exemption needs to know the deployer: the policy config keeps it in step with the stack file."""
    policy = json.loads((PROJECT_DIR / "infra" / "policy" / "config" / f"{stack}.json").read_text())
    assert policy[OWNERSHIP]["deployerPrincipals"] == [identity(stack)["deployer"]["applicationId"]]
    assert dig(policy, f"{OWNERSHIP}.enforcementLevel") == "mandatory"


# --- the run-as rule: an owned model takes new versions without CREATE_MODEL ---------------------------------

RUN_AS = "run-as-identity-privileges"


def _registering_job(owner: str | None) -> list[Any]:
    catalog = res(T.CATALOG, "catalog", {"name": "cat"})
    grants = res(T.GRANTS, "g", {"schema": "cat.models", "grants": [{"principal": CICD,
                                                                    "privileges": ["USE_SCHEMA"]}]})
    on_catalog = res(T.GRANTS, "c", {"catalog": "cat", "grants": [{"principal": CICD,
                                                                 "privileges": ["USE_CATALOG"]}]})
    job = res(T.JOB, "retrain", {"runAs": {"servicePrincipalName": CICD},
                                 "parameters": [{"name": "uc_registers_models", "default": "cat.models.churn"}]})
    model = res(T.REGISTERED_MODEL, "model", {"catalogName": "cat", "schemaName": "models", "name": "churn",
                                              **({"owner": owner} if owner else {})})
    return [catalog, grants, on_catalog, job, model]


@pytest.mark.parametrize("owner", [CICD, CICD.upper()])
def test_the_owner_of_the_declared_model_needs_no_create_model(owner: str) -> None:
    assert messages(RUN_AS, _registering_job(owner)) == []


@pytest.mark.parametrize("owner", [DEPLOYER, None])
def test_a_model_owned_by_someone_else_still_needs_create_model(owner: str | None) -> None:
    assert messages(RUN_AS, _registering_job(owner)) == [
        f"Job retrain runs as {CICD}, which registers models in cat.models.churn but holds no CREATE_MODEL on "
        "cat.models in this stack's Grants (INSUFFICIENT_PERMISSIONS at run time)"]


def test_the_gate_and_the_aliases_a_promotion_section_leaves_out() -> None:
    """What `promotion: {}` means: the documented defaults (the stack files set some of them explicitly)."""
    from infra.config.lifecycle import Promotion

    promotion = Promotion()
    assert (promotion.challenger_alias, promotion.champion_alias) == ("Challenger", "Champion")
    gate = promotion.gate
    assert (gate.min_accuracy, gate.max_accuracy_drop, gate.max_latency_p95_ms, gate.max_error_rate) == (
        0.8, 0.0, 200.0, 0.01)


@pytest.mark.parametrize(("challenger", "champion", "refused"), [
    ("Zeta", "Alpha", False), ("Alpha", "Zeta", False), ("Champion", "champion", True)])
def test_the_two_aliases_differ_case_insensitively(challenger: str, champion: str, refused: bool) -> None:
    from pydantic import ValidationError

    from infra.config.lifecycle import Promotion

    if refused:
        with pytest.raises(ValidationError, match="is the challenger alias too; allowed: a different alias"):
            Promotion(challengerAlias=challenger, championAlias=champion)
    else:
        assert Promotion(challengerAlias=challenger, championAlias=champion).champion_alias == champion
