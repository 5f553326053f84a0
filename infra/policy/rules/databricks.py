"""Databricks governance: Unity Catalog grants, catalogs and owners, model serving, cluster policies, clusters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import (
    Finding,
    ResourceView,
    eq,
    get,
    is_unknown,
    items,
    resource_rule,
    shown,
    unknown,
)

Result = Iterator[Finding | str]

BROAD_PRIVILEGES = ("ALL_PRIVILEGES", "MANAGE")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_SECURABLES = ("metastore", "catalog", "schema", "table", "volume", "model", "function", "externalLocation",
               "storageCredential", "credential", "foreignConnection", "share", "recipient")


def securable_of(res: ResourceView) -> tuple[str, Any]:
    """('catalog', 'ml_dev_catalog') for a Grants/Grant resource; ('', None) when none is set."""
    for key in _SECURABLES:
        value = res.get(key)
        if value is not None:
            return key, value
    return "", None


def grant_entries(res: ResourceView) -> list[tuple[Any, list[Any]]]:
    """(principal, privileges) pairs of a Grants (list) or Grant (one principal) resource."""
    if res.type == T.GRANT:
        return [(res.get("principal"), items(res.get("privileges")))]
    out = []
    for entry in items(res.get("grants")):
        if isinstance(entry, Mapping):
            out.append((get(entry, "principal"), items(get(entry, "privileges"))))
        else:
            out.append((entry, []))
    return out


def _is_user(principal: Any) -> bool:
    return isinstance(principal, str) and "@" in principal and not is_unknown(principal)


# --- Unity Catalog --------------------------------------------------------------------------------

@resource_rule("uc-no-broad-privileges-to-non-admins", "critical",
               "ALL_PRIVILEGES and MANAGE are granted only to the admin groups named in the policy config.",
               [T.GRANTS, T.GRANT], source="UC best practice; SAT",
               config_schema={"adminGroups": {"type": "array", "items": {"type": "string"},
                                              "description": "principals allowed ALL_PRIVILEGES / MANAGE"}},
               defaults={"adminGroups": ["mlops-platform-admins"]})
def broad_privileges(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    admins = {str(a).lower() for a in settings.get("adminGroups") or []}
    for principal, privileges in grant_entries(res):
        broad = sorted({str(p).upper() for p in privileges if isinstance(p, str)} & set(BROAD_PRIVILEGES))
        if not broad:
            continue
        if is_unknown(principal):
            yield unknown("grants[].principal")
        elif str(principal).lower() not in admins:
            yield (f"{shown(principal)} is granted {', '.join(broad)} on {'.'.join(map(str, securable_of(res)))}; "
                   f"only admin groups ({', '.join(sorted(admins)) or 'none configured'}) may hold it")


@resource_rule("uc-grantees-are-groups", "high", "Unity Catalog privileges go to groups or service principals, "
               "never to individual users.", [T.GRANTS, T.GRANT], source="UC best practice; SAT GOV-21")
def grantees_groups(res: ResourceView, _: Mapping[str, Any]) -> Result:
    for principal, _privileges in grant_entries(res):
        if _is_user(principal):
            yield f"principal {principal!r} is a user; grant to an account group or a service principal"
        elif principal is None:
            yield "a grant has no principal"


@resource_rule("uc-catalog-isolated", "high", "Catalogs are ISOLATED (reachable only from the workspaces they are "
               "bound to).", [T.CATALOG], source="Databricks docs: workspace-catalog binding")
def catalog_isolated(res: ResourceView, _: Mapping[str, Any]) -> Result:
    value = res.get("isolationMode")
    if is_unknown(value):
        yield unknown("isolationMode")
    elif not eq(value, "ISOLATED"):
        yield f"isolationMode is {shown(value)}; must be 'ISOLATED' so only bound workspaces see the catalog"


@resource_rule("uc-owners-are-groups", "medium", "Catalogs and schemas are never owned by a person: an explicit "
               "owner is a group or a service principal; unset, the deploying service principal keeps ownership "
               "(see uc-deployer-keeps-ownership).", [T.CATALOG, T.SCHEMA],
               source="UC best practice; Databricks docs: Manage Unity Catalog object ownership")
def owners_groups(res: ResourceView, _: Mapping[str, Any]) -> Result:
    owner = res.get("owner")
    if is_unknown(owner):
        yield unknown("owner")
    elif _is_user(owner):
        yield f"owner {owner!r} is a user; must be a group or a service principal"


# --- Model serving --------------------------------------------------------------------------------

@resource_rule("serving-inference-tables", "high", "Serving endpoints log requests to an AI Gateway inference table "
               "in Unity Catalog.", [T.MODEL_SERVING], source="Databricks docs: AI Gateway inference tables")
def serving_inference_tables(res: ResourceView, _: Mapping[str, Any]) -> Result:
    base = "aiGateway.inferenceTableConfig"
    enabled = res.get(f"{base}.enabled")
    if is_unknown(enabled):
        yield unknown(f"{base}.enabled")
    elif enabled is not True:
        yield f"{base}.enabled is {shown(enabled)}; must be true (payload logging for monitoring and audit)"
    for key in ("catalogName", "schemaName"):
        value = res.get(f"{base}.{key}")
        if not value and not is_unknown(value):
            yield f"{base}.{key} is missing; the inference table lives in a Unity Catalog schema"


@resource_rule("serving-no-legacy-auto-capture", "high", "Serving endpoints do not use the retired legacy inference "
               "tables (config.autoCaptureConfig).", [T.MODEL_SERVING],
               source="Databricks docs: legacy inference tables retired")
def serving_legacy_capture(res: ResourceView, _: Mapping[str, Any]) -> Result:
    if res.get("config.autoCaptureConfig") not in (None, {}):
        yield "config.autoCaptureConfig is set; legacy inference tables are retired, use aiGateway.inferenceTableConfig"


@resource_rule("serving-gateway-controls", "medium", "Serving endpoints track usage and set AI Gateway rate limits.",
               [T.MODEL_SERVING], source="Databricks AI Gateway docs")
def serving_gateway(res: ResourceView, _: Mapping[str, Any]) -> Result:
    tracking = res.get("aiGateway.usageTrackingConfig.enabled")
    if is_unknown(tracking):
        yield unknown("aiGateway.usageTrackingConfig.enabled")
    elif tracking is not True:
        yield f"aiGateway.usageTrackingConfig.enabled is {shown(tracking)}; must be true"
    limits = items(res.get("aiGateway.rateLimits"))
    if not limits:
        yield "aiGateway.rateLimits is missing; set at least one rate limit"
    for i, limit in enumerate(limits):
        if isinstance(limit, Mapping):
            calls, tokens = get(limit, "calls"), get(limit, "tokens")
            if not (is_unknown(calls) or is_unknown(tokens)) and not (
                    (isinstance(calls, int) and calls > 0) or (isinstance(tokens, int) and tokens > 0)):
                yield f"aiGateway.rateLimits[{i}] has no positive calls or tokens limit"


_UC_NAME = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")


@resource_rule("serving-uc-models", "high", "Served entities are Unity Catalog models (catalog.schema.model), "
               "not the legacy workspace registry.", [T.MODEL_SERVING], source="SAT GOV-28")
def serving_uc_models(res: ResourceView, _: Mapping[str, Any]) -> Result:
    if items(res.get("config.servedModels")):
        yield "config.servedModels is the legacy workspace model registry; use config.servedEntities with UC models"
    for i, entity in enumerate(items(res.get("config.servedEntities"))):
        if not isinstance(entity, Mapping):
            continue
        name = get(entity, "entityName")
        if is_unknown(name):
            yield unknown(f"config.servedEntities[{i}].entityName")
        elif not (isinstance(name, str) and _UC_NAME.match(name)):
            yield f"config.servedEntities[{i}].entityName is {shown(name)}; must be a UC model catalog.schema.model"


# --- Cluster policies and clusters ----------------------------------------------------------------

UC_ACCESS_MODES = ("SINGLE_USER", "USER_ISOLATION", "DATA_SECURITY_MODE_DEDICATED", "DATA_SECURITY_MODE_STANDARD",
                   "DATA_SECURITY_MODE_AUTO")


def _definition(res: ResourceView) -> tuple[dict[str, Any] | None, Finding | str | None]:
    raw = res.get("definition")
    if is_unknown(raw):
        return None, unknown("definition")
    if not raw:
        return None, "definition is missing"
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        return None, f"definition is not valid JSON ({exc.msg})"
    if not isinstance(parsed, dict):
        return None, "definition is not a JSON object"
    return parsed, None


def _values(element: Mapping[str, Any]) -> list[Any]:
    kind = element.get("type")
    if kind == "fixed":
        return [element.get("value")]
    if kind == "allowlist":
        return list(element.get("values") or [])
    return []


@resource_rule("cluster-policy-auto-termination", "high", "Cluster policies fix or bound autotermination_minutes "
               "(1..maxAutoterminationMinutes; never 0 / unlimited); job-only policies are exempt.", [T.CLUSTER_POLICY],
               source="Compute policy reference; SAT GOV-4",
               config_schema={"maxAutoterminationMinutes": {"type": "integer", "minimum": 1}},
               defaults={"maxAutoterminationMinutes": 240})
def policy_auto_termination(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    definition, problem = _definition(res)
    if problem is not None:
        yield problem
        return
    assert definition is not None
    limit = int(settings["maxAutoterminationMinutes"])
    cluster_type = definition.get("cluster_type")
    if isinstance(cluster_type, Mapping) and _values(cluster_type) and all(
            v in ("job", "dlt") for v in _values(cluster_type)):
        return  # job and pipeline clusters end with their run; autotermination does not apply
    element = definition.get("autotermination_minutes")
    if not isinstance(element, Mapping):
        yield "definition has no autotermination_minutes element; clusters could run forever"
        return
    kind = element.get("type")
    if kind in ("fixed", "allowlist"):
        bad = [v for v in _values(element) if not (isinstance(v, (int, float)) and 1 <= v <= limit)]
        if bad or not _values(element):
            yield f"autotermination_minutes {kind} {bad or 'empty'}; values must be 1..{limit} minutes"
    elif kind == "range":
        lo, hi = element.get("minValue"), element.get("maxValue")
        if not (isinstance(hi, (int, float)) and hi <= limit) or (isinstance(lo, (int, float)) and lo < 1) \
                or lo is None:
            yield f"autotermination_minutes range {shown(lo)}..{shown(hi)}; must be within 1..{limit} minutes"
    else:
        yield f"autotermination_minutes is {shown(kind)}; must be fixed, allowlist or range within 1..{limit}"


@resource_rule("cluster-policy-guardrails", "high", "Cluster policies fix a Unity Catalog access mode, bound "
               "dbus_per_hour, restrict spark_version and fix the cost tag.", [T.CLUSTER_POLICY],
               source="Compute policy reference; SAT GOV-5/12",
               config_schema={"costTag": {"type": "string"}}, defaults={"costTag": "costCenter"})
def policy_guardrails(res: ResourceView, settings: Mapping[str, Any]) -> Result:
    definition, problem = _definition(res)
    if problem is not None:
        yield problem
        return
    assert definition is not None
    mode = definition.get("data_security_mode")
    modes = _values(mode) if isinstance(mode, Mapping) else []
    if not modes or any(m not in UC_ACCESS_MODES for m in modes):
        yield (f"data_security_mode is {shown(modes or None)}; must be fixed (or allow-listed) to Unity Catalog "
               f"modes {', '.join(UC_ACCESS_MODES)}")
    dbus = definition.get("dbus_per_hour")
    if not (isinstance(dbus, Mapping) and dbus.get("type") == "range" and isinstance(dbus.get("maxValue"),
                                                                                    (int, float))):
        yield "dbus_per_hour has no range maxValue; bound the hourly DBU spend"
    spark = definition.get("spark_version")
    if not (isinstance(spark, Mapping) and spark.get("type") in ("fixed", "allowlist", "regex")):
        yield "spark_version is not fixed, allow-listed or pattern-restricted"
    wanted = re.sub(r"[^a-z0-9]", "", str(settings["costTag"]).lower())
    tags = [k for k, v in definition.items() if k.startswith("custom_tags.") and isinstance(v, Mapping)
            and v.get("type") == "fixed" and re.sub(r"[^a-z0-9]", "", k.removeprefix("custom_tags.").lower()) == wanted]
    if not tags:
        yield f"custom_tags.{settings['costTag']} is not fixed; every cluster must carry the cost tag"


def _clusters(res: ResourceView) -> list[tuple[str, Mapping[str, Any]]]:
    """A cluster's own props, or each new cluster of a job (job clusters and per-task clusters)."""
    if res.type == T.CLUSTER:
        return [("", res.props)]
    out = []
    for i, jc in enumerate(items(res.get("jobClusters"))):
        if isinstance(jc, Mapping) and isinstance(get(jc, "newCluster"), Mapping):
            out.append((f"jobClusters[{i}].newCluster.", get(jc, "newCluster")))
    for i, task in enumerate(items(res.get("tasks"))):
        if isinstance(task, Mapping) and isinstance(get(task, "newCluster"), Mapping):
            out.append((f"tasks[{i}].newCluster.", get(task, "newCluster")))
    return out


JOB = "databricks:index/job:Job"


@resource_rule("cluster-uc-access-mode", "high", "Clusters (and job clusters) use a Unity Catalog access mode.",
               [T.CLUSTER, JOB], source="SAT GOV-12")
def cluster_access_mode(res: ResourceView, _: Mapping[str, Any]) -> Result:
    for prefix, cluster in _clusters(res):
        mode = get(cluster, "dataSecurityMode")
        if is_unknown(mode):
            yield unknown(f"{prefix}dataSecurityMode")
        elif mode not in UC_ACCESS_MODES:
            yield f"{prefix}dataSecurityMode is {shown(mode)}; must be one of {', '.join(UC_ACCESS_MODES)}"


@resource_rule("cluster-under-policy", "medium", "Clusters (and job clusters) are created under a cluster policy.",
               [T.CLUSTER, JOB], source="Compute policy docs")
def cluster_policy_set(res: ResourceView, _: Mapping[str, Any]) -> Result:
    for prefix, cluster in _clusters(res):
        policy = get(cluster, "policyId")
        if not policy and not is_unknown(policy):  # an id of a policy created in the same run is unknown: fine
            yield f"{prefix}policyId is missing; clusters must use a cluster policy"


@resource_rule("cluster-no-dbfs-init-scripts", "high", "Clusters do not run init scripts from DBFS (use workspace "
               "files or UC volumes).", [T.CLUSTER, JOB], source="SAT GOV-25")
def cluster_dbfs_init(res: ResourceView, _: Mapping[str, Any]) -> Result:
    for prefix, cluster in _clusters(res):
        for i, script in enumerate(items(get(cluster, "initScripts"))):
            if isinstance(script, Mapping) and get(script, "dbfs") is not None:
                yield f"{prefix}initScripts[{i}].dbfs is set; DBFS init scripts are deprecated and writable by users"
