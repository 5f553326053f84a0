"""Post-deploy checks against the live workspace with databricks-sdk: is the deployed stack really ready?

Every check reads what to expect from the stack outputs (the shared contract of infra/composition.py) and
asks the workspace what is there. Each API call goes through the SDK's own retry loop (backoff on
connection errors, timeouts, HTTP 429/503, bounded by `retry_timeout_seconds`); a call that still fails
becomes one failed check with a readable reason, and the remaining checks still run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, Unauthenticated
from databricks.sdk.service.catalog import MonitorInfoStatus, MonitorRefreshInfoState
from databricks.sdk.service.serving import EndpointStateReady

from infra.outputs import Binding, Catalog, Grant, Monitor, ServingEndpoint, StackOutputs

T = TypeVar("T")

OK, FAIL, DRIFT, SKIPPED = "ok", "fail", "drift", "skipped"
# System schema states that mean "enabled" (MANAGED: enabled and managed by Databricks).
ENABLED_STATES = {"ENABLE_COMPLETED", "MANAGED"}


@dataclass(frozen=True)
class CheckResult:
    area: str      # metastore | catalog | schema | binding | grant | serving | monitor | system schema
    target: str    # what was checked (a name)
    status: str    # ok | fail | drift | skipped
    detail: str

    @property
    def passed(self) -> bool:
        return self.status == OK


class CallFailed(Exception):
    """An API call that failed after the SDK's retries; the message is the report's detail."""


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, PermissionDenied):
        return f"HTTP 403 permission denied: {exc} (does the deploy identity have the privilege?)"
    if isinstance(exc, Unauthenticated):
        return f"HTTP 401 not authenticated: {exc}"
    if isinstance(exc, NotFound):
        return f"not found: {exc}"
    if isinstance(exc, TimeoutError):
        cause = exc.__cause__
        return f"timed out after retries ({type(cause).__name__ if cause else 'no answer'})"
    if isinstance(exc, DatabricksError):
        return f"API error {exc.error_code or ''}: {exc}".replace("  ", " ")
    if isinstance(exc, requests.RequestException):
        return f"network error: {type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


class Verifier:
    """Runs every check for one stack; results are collected in order."""

    def __init__(self, client: WorkspaceClient, outputs: StackOutputs, stack: str,
                 deadline_seconds: float = 600.0) -> None:
        self.w = client
        self.outputs = outputs
        self.stack = stack
        self.results: list[CheckResult] = []
        self._deadline = time.monotonic() + deadline_seconds

    # --- plumbing ---

    def add(self, area: str, target: str, status: str, detail: str) -> None:
        self.results.append(CheckResult(area, target, status, detail))

    def call(self, fn: Callable[[], T]) -> T:
        if time.monotonic() > self._deadline:
            raise CallFailed("skipped: the overall verify timeout has passed")
        try:
            return fn()
        except (DatabricksError, TimeoutError, requests.RequestException) as exc:
            raise CallFailed(describe_error(exc)) from exc

    def guarded(self, area: str, target: str, check: Callable[[], None]) -> None:
        try:
            check()
        except CallFailed as exc:
            status = SKIPPED if str(exc).startswith("skipped:") else FAIL
            self.add(area, target, status, str(exc))

    # --- checks ---

    def run(self) -> list[CheckResult]:
        self.guarded("metastore", str(self.outputs.get("metastoreId") or "?"), self.check_metastore)
        for catalog in self.outputs.get("catalogs") or []:
            self.guarded("catalog", catalog["name"], partial(self.check_catalog, catalog))
        for securable, declared in _grants_by_securable(self.outputs.get("grants") or []).items():
            self.guarded("grant", securable[1], partial(self.check_grants, securable, declared))
        for endpoint in self.outputs.get("servingEndpoints") or []:
            self.guarded("serving", endpoint["name"], partial(self.check_endpoint, endpoint))
        for monitor in self.outputs.get("monitors") or []:
            self.guarded("monitor", monitor["tableName"], partial(self.check_monitor, monitor))
        if self.outputs.get("systemSchemas"):
            self.guarded("system schema", ", ".join(self.outputs["systemSchemas"]), self.check_system_schemas)
        if self.outputs.get("workspaceConf"):
            self.guarded("workspace conf", ", ".join(sorted(self.outputs["workspaceConf"])), self.check_workspace_conf)
        return self.results

    def check_metastore(self) -> None:
        expected = self.outputs.get("metastoreId")
        assignment = self.call(self.w.metastores.current)
        target = expected or "?"
        if not assignment.metastore_id:
            self.add("metastore", target, FAIL, "no metastore assigned to the workspace")
        elif expected and assignment.metastore_id != expected:
            self.add("metastore", target, FAIL, f"workspace is assigned metastore {assignment.metastore_id}")
        else:
            numeric = self.outputs.get("workspaceNumericId")
            if numeric and assignment.workspace_id and str(assignment.workspace_id) != str(numeric):
                self.add("metastore", target, FAIL, f"assignment is for workspace {assignment.workspace_id}, "
                                                    f"expected {numeric}")
            else:
                self.add("metastore", target, OK, f"assigned (default catalog {assignment.default_catalog_name})")

    def check_catalog(self, catalog: Catalog) -> None:
        name = catalog["name"]
        info = self.call(lambda: self.w.catalogs.get(name))
        mode = _enum_value(info.isolation_mode)
        wanted_mode = catalog.get("isolationMode")
        if wanted_mode and mode and mode != wanted_mode:
            self.add("catalog", name, FAIL, f"isolation mode {mode}, declared {wanted_mode}")
        else:
            self.add("catalog", name, OK, f"exists ({mode or 'isolation mode not reported'})")
        for schema in catalog.get("schemas") or []:
            full = f"{name}.{schema}"
            self.guarded("schema", full, partial(self._schema_exists, full))
        if catalog.get("bindings"):
            self.guarded("binding", name, lambda: self.check_bindings(name, catalog["bindings"]))

    def _schema_exists(self, full_name: str) -> None:
        info = self.call(lambda: self.w.schemas.get(full_name))
        self.add("schema", full_name, OK, f"exists (owner {info.owner or '?'})")

    def check_bindings(self, catalog: str, declared: list[Binding]) -> None:
        live = self.call(lambda: list(self.w.workspace_bindings.get_bindings("catalog", catalog)))
        have = {(str(b.workspace_id), _enum_value(b.binding_type) or "BINDING_TYPE_READ_WRITE") for b in live}
        want = {(str(b["workspaceId"]), b.get("bindingType") or "BINDING_TYPE_READ_WRITE") for b in declared}
        missing, extra = want - have, have - want
        if missing:
            self.add("binding", catalog, FAIL, "missing: " + _pairs(missing))
        if extra:
            self.add("binding", catalog, DRIFT, "not declared: " + _pairs(extra))
        if not missing and not extra:
            self.add("binding", catalog, OK, "bound to " + _pairs(have))

    def check_grants(self, securable: tuple[str, str], declared: dict[str, set[str]]) -> None:
        kind, name = securable
        live: dict[str, set[str]] = {}
        for assignment in self.call(lambda: self._privilege_assignments(kind, name)):
            live.setdefault(str(assignment.get("principal") or "?"), set()).update(
                str(p) for p in assignment.get("privileges") or [])
        target = f"{kind} {name}"
        problems = False
        for principal in sorted(declared.keys() | live.keys()):
            want, have = declared.get(principal, set()), live.get(principal, set())
            if want - have:
                self.add("grant", target, FAIL, f"{principal}: missing {', '.join(sorted(want - have))}")
                problems = True
            if have - want:
                self.add("grant", target, DRIFT, f"{principal}: not declared (added by hand?) "
                                                 f"{', '.join(sorted(have - want))}")
                problems = True
        if not problems:
            self.add("grant", target, OK, f"{sum(len(v) for v in declared.values())} privileges as declared")

    def _privilege_assignments(self, kind: str, name: str) -> list[dict[str, Any]]:
        """Raw JSON, not GrantsAPI.get: the SDK silently drops privileges its enum does not know yet, which
        would turn a new privilege into a false "missing" (or hide an extra one)."""
        out: list[dict[str, Any]] = []
        query: dict[str, Any] = {"max_results": 0}
        while True:
            page = self.w.api_client.do("GET", f"/api/2.1/unity-catalog/permissions/{kind}/{name}", query=query)
            assert isinstance(page, dict)
            out.extend(page.get("privilege_assignments") or [])
            if not page.get("next_page_token"):
                return out
            query["page_token"] = page["next_page_token"]

    def check_endpoint(self, endpoint: ServingEndpoint) -> None:
        name = endpoint["name"]
        info = self.call(lambda: self.w.serving_endpoints.get(name))
        state = info.state
        ready = state.ready if state else None
        problems = []
        if ready != EndpointStateReady.READY:
            update = _enum_value(state.config_update) if state else ""
            suffix = f" (config update {update})" if update else ""
            problems.append(f"state {_enum_value(ready) or 'unknown'}{suffix}")
        table = info.ai_gateway.inference_table_config if info.ai_gateway else None
        if not (table and table.enabled):
            problems.append("inference table is off")
        else:
            wanted = endpoint.get("inferenceTable") or {}
            live = {"catalog": table.catalog_name, "schema": table.schema_name, "tablePrefix": table.table_name_prefix}
            wrong = [f"{k} {live[k]!r} (declared {v!r})" for k, v in wanted.items() if v and live.get(k) != v]
            if wrong:
                problems.append("inference table " + ", ".join(wrong))
        served = {(e.entity_name, str(e.entity_version)) for e in (info.config.served_entities or [])} \
            if info.config else set()
        for entity in endpoint.get("entities") or []:
            key = (entity.get("entityName"), str(entity.get("entityVersion")))
            if served and key not in served:
                problems.append(f"serves no {key[0]} v{key[1]}")
        if problems:
            self.add("serving", name, FAIL, "; ".join(problems))
        else:
            self.add("serving", name, OK, "READY, inference table on")

    def check_monitor(self, monitor: Monitor) -> None:
        table = monitor["tableName"]
        info = self.call(lambda: self.w.quality_monitors.get(table))
        if info.status != MonitorInfoStatus.MONITOR_STATUS_ACTIVE:
            self.add("monitor", table, FAIL, f"status {_enum_value(info.status) or 'unknown'}")
            return
        refreshes = self.call(lambda: self.w.quality_monitors.list_refreshes(table)).refreshes or []
        finished = [r for r in refreshes if r.state not in (MonitorRefreshInfoState.PENDING,
                                                            MonitorRefreshInfoState.RUNNING)]
        if not finished:
            running = ", ".join(f"{r.refresh_id} {_enum_value(r.state)}" for r in refreshes) or "none"
            self.add("monitor", table, FAIL, f"ACTIVE but no finished refresh yet (refreshes: {running})")
            return
        last = max(finished, key=lambda r: r.start_time_ms or 0)
        if last.state != MonitorRefreshInfoState.SUCCESS:
            self.add("monitor", table, FAIL, f"last refresh {last.refresh_id} {_enum_value(last.state)}: "
                                             f"{last.message or 'no message'}")
        else:
            self.add("monitor", table, OK, f"ACTIVE, last refresh {last.refresh_id} SUCCESS")

    def check_system_schemas(self) -> None:
        metastore = self.outputs.get("metastoreId") or self.call(self.w.metastores.current).metastore_id
        if not metastore:
            raise CallFailed("no metastore id to list system schemas of")
        live = {s.schema: s.state for s in self.call(lambda: list(self.w.system_schemas.list(str(metastore))))}
        for schema in self.outputs["systemSchemas"]:
            state = _enum_value(live.get(schema))
            if state in ENABLED_STATES:
                self.add("system schema", schema, OK, state)
            else:
                self.add("system schema", schema, FAIL, f"state {state or 'absent'} (enable it)")


    def check_workspace_conf(self) -> None:
        """SAT's workspace-conf checks, live: the workspace-conf API (`get_status`, the same read SAT's
        workspace_settings notebook does) against the declared values; a change made by hand is drift."""
        declared = self.outputs["workspaceConf"]
        live = self.call(lambda: self.w.workspace_conf.get_status(keys=",".join(sorted(declared)))) or {}
        for key, want in sorted(declared.items()):
            have = live.get(key)
            if have is None:
                self.add("workspace conf", key, FAIL, f"not set (declared {want!r})")
            elif _conf_text(have) != _conf_text(want):
                self.add("workspace conf", key, DRIFT, f"{_conf_text(have)!r}, declared {want!r} (changed by hand?)")
            else:
                self.add("workspace conf", key, OK, repr(_conf_text(have)))


def _conf_text(value: Any) -> str:
    """The API answers strings ("true"); a bool or a number compares as its lowercase text."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _pairs(pairs: set[tuple[str, str]]) -> str:
    return ", ".join(f"{ws} ({kind.removeprefix('BINDING_TYPE_')})" for ws, kind in sorted(pairs))


def _grants_by_securable(grants: list[Grant]) -> dict[tuple[str, str], dict[str, set[str]]]:
    out: dict[tuple[str, str], dict[str, set[str]]] = {}
    for grant in grants:
        key = (str(grant["securableType"]), str(grant["securable"]))
        out.setdefault(key, {}).setdefault(str(grant["principal"]), set()).update(grant.get("privileges") or [])
    return out
