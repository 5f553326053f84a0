"""Deploy readiness: the deploy reaches what it calls, and a first `up` creates only what can exist.

- A public front end with IP access lists refuses every call from outside the lists once they are enforced,
  the deploy's own later calls included; creating a list that would block the caller fails.
- On a first `up` from nothing, a model version or a table in a catalog the same run creates cannot exist
  yet, and DBFS root CMK needs a grant to an identity that only the workspace's creation makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from infra.policy.rules import types as T
from infra.policy.rules.base import FIRST_DEPLOY, Finding, ResourceView, eq, get, items, stack_rule
from infra.policy.rules.stack import Result, label, of_type

# The ALLOW list of the deploy runner's egress (infra/components/front_end_access.py names it).
DEPLOY_RUNNER_LABEL = "deploy-runner"

_IP_LISTS_SOURCE = ("Databricks CLI reference, ip-access-lists create: a list has no effect until "
                    "enableIpAccessLists is on, and a list that would block the caller fails with INVALID_STATE; "
                    "learn.microsoft.com/azure/databricks/security/network/front-end/ip-access-list-workspace")


def _enables_ip_lists(conf: ResourceView) -> bool:
    value = get(conf.props, "customConfig.enableIpAccessLists")
    return value is True or eq(value, "true")


def _is_runner_list(view: ResourceView) -> bool:
    return (view.get("label") == DEPLOY_RUNNER_LABEL and eq(view.get("listType"), "ALLOW")
            and view.get("enabled") is not False and bool(items(view.get("ipAddresses"))))


@stack_rule(
    "deploy-runner-allowed-before-ip-lists-enforced", "critical",
    "A workspace that enforces IP access lists allows the deploy runner's egress in a 'deploy-runner' ALLOW list "
    "created before enforcement is switched on, so the deploy's own later calls are not refused.",
    source=_IP_LISTS_SOURCE)
def deploy_runner_allowed(views: Sequence[ResourceView], _: Mapping[str, Any]) -> Result:
    # A private front end's runner comes over Private Link, which IP access lists never filter (Microsoft Learn,
    # "Manage IP access lists": private IP addresses from Private Link traffic cannot be blocked).
    if any(eq(get(ws.props, "publicNetworkAccess"), "Disabled") for ws in of_type(views, T.WORKSPACE)):
        return
    lists = of_type(views, T.IP_ACCESS_LIST)
    for conf in of_type(views, T.WORKSPACE_CONF):
        if not _enables_ip_lists(conf):
            continue
        mine = [v for v in lists if v.provider == conf.provider]
        runner = [v for v in mine if _is_runner_list(v)]
        if not runner:
            yield Finding(f"{label(conf)} switches on IP access lists, but no enabled ALLOW list labeled "
                          f"{DEPLOY_RUNNER_LABEL!r} holds the deploy runner's egress (deploy.runner.egressCidrs): "
                          "every later call of the deploy, refresh and drift check is refused (403)", conf.urn)
            continue
        for lst in mine:
            if lst.urn not in conf.dependencies:
                yield Finding(f"{label(conf)} switches on IP access lists without waiting for {label(lst)}: "
                              "make it depend on every list, so none is created under enforcement", conf.urn)


def _catalog_of(name: Any) -> str | None:
    return name.partition(".")[0] if isinstance(name, str) and name.count(".") == 2 else None


@stack_rule(
    "first-deploy-creates-only-what-can-exist", "critical",
    "The plan of a first `pulumi up` from nothing declares no serving endpoint or monitor over model versions or "
    "tables in catalogs the same run creates, and no DBFS root CMK before its storage identity holds the key.",
    source="terraform-provider-databricks serving/resource_model_serving.go and catalog/resource_quality_monitor.go "
           "(create fails when the model version or table does not exist); Microsoft Learn 'Configure "
           "customer-managed keys for DBFS root' (the storage identity exists only once the workspace does)")
def first_deploy_order(views: Sequence[ResourceView], settings: Mapping[str, Any]) -> Result:
    if not settings.get(FIRST_DEPLOY):
        return
    created = {c.get("name") for c in of_type(views, T.CATALOG)}
    for endpoint in of_type(views, T.MODEL_SERVING):
        for entity in items(get(endpoint.props, "config.servedEntities")):
            name = get(entity, "entityName")
            if _catalog_of(name) in created:
                yield Finding(f"{label(endpoint)} serves {name} version {get(entity, 'entityVersion')}, but its "
                              "catalog is created in this run: the version cannot be registered yet (leave the "
                              "endpoint out of the first deploy: modelRegistered false)", endpoint.urn)
    for monitor in of_type(views, T.QUALITY_MONITOR):
        table = monitor.get("tableName")
        if _catalog_of(table) in created:
            yield Finding(f"{label(monitor)} monitors {table}, but its catalog is created in this run: the table "
                          "cannot exist yet (leave the monitor out of the first deploy: tableExists false)",
                          monitor.urn)
    for ws in of_type(views, T.WORKSPACE):
        if eq(get(ws.props, "parameters.encryption.value.keySource"), "Microsoft.Keyvault"):
            yield Finding(f"{label(ws)} sets the DBFS root key on a first deploy: the workspace's storage identity "
                          "must hold the key first (encryption.dbfsRoot 'prepare', then 'enabled')", ws.urn)
