"""Deploy-readiness rules (unity_catalog): what Unity Catalog, serverless compute and the account check at `up`.

- ownership: the deploying principal can do each create and ownership transfer where the graph puts it;
- serverless: every storage Unity Catalog reads is reachable from serverless compute (an NCC bound to the
  workspace with dfs and blob private-endpoint rules), and serverless consumers wait for that path;
- run-as: every run-as identity (alerts, jobs) holds the privileges its queries and declared reads need;
- teardown: account-wide objects survive any one stack's destroy;
- bindings: a catalog is bound only to workspaces that can reach its storage.

References are matched by value when known (plan JSONs) and through the dependency graph otherwise
(CrossGuard previews), as in infra/policy/rules/stack.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
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
    stack_rule,
    unknown,
)
from infra.policy.rules.databricks import grant_entries, securable_of
from infra.policy.rules.stack import closure, endpoints_for, label, of_type, refers

Views = Sequence[ResourceView]
Result = Iterator[Finding]

_ABFSS = re.compile(r"^abfss://[^@/]+@([a-z0-9]+)\.dfs\.core\.windows\.net", re.I)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def _known(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not is_unknown(value)


def _by_urn(views: Views) -> dict[str, ResourceView]:
    return {v.urn: v for v in views}


def _dependents(views: Views) -> dict[str, set[str]]:
    """urn -> every urn that depends on it, directly or through others."""
    direct: dict[str, set[str]] = {}
    for v in views:
        for d in v.dependencies:
            direct.setdefault(d, set()).add(v.urn)
    out: dict[str, set[str]] = {}
    for urn in direct:
        seen: set[str] = set()
        stack = list(direct[urn])
        while stack:
            cur = stack.pop()
            if cur not in seen:
                seen.add(cur)
                stack.extend(direct.get(cur, ()))
        out[urn] = seen
    return out


# --- ownership --------------------------------------------------------------------------------------

OWNABLE = (T.METASTORE, T.STORAGE_CREDENTIAL, T.EXTERNAL_LOCATION, T.CATALOG, T.SCHEMA, T.VOLUME,
           T.REGISTERED_MODEL)


def _deployer_member_of(group_name: str, views: Views, deployers: set[str]) -> bool:
    """A GroupMember in the plan puts a deploying principal into the group that becomes the owner."""
    by_urn = _by_urn(views)
    groups = [g for g in of_type(views, T.GROUP) if g.get("displayName") == group_name]
    principals = [p for p in of_type(views, T.SERVICE_PRINCIPAL) if str(p.get("applicationId")).lower() in deployers]
    for member in of_type(views, T.GROUP_MEMBER):
        in_group = any(refers(member, member.get("groupId"), g, by_urn=by_urn) for g in groups)
        is_deployer = any(refers(member, member.get("memberId"), p, by_urn=by_urn) for p in principals)
        if in_group and is_deployer:
            return True
    return False


@stack_rule("uc-deployer-keeps-ownership", "high", "The deploying principal can do each create and ownership "
            "transfer where the graph puts it: no securable that later creates depend on is handed to an owner "
            "the deployer is not (or is not a member of).",
            source="terraform-provider-databricks catalog/resource_catalog.go, resource_schema.go, "
                   "resource_external_location.go, resource_storage_credential.go (Create, then Update(owner) when "
                   "owner is set); Databricks docs: Admin privileges in Unity Catalog (a metastore admin has "
                   "metastore-level privileges only)",
            config_schema={"deployerPrincipals": {"type": "array", "items": {"type": "string"},
                                                  "description": "application ids (or names) of the principals "
                                                                 "that run pulumi up"}},
            defaults={"deployerPrincipals": []})
def deployer_keeps_ownership(views: Views, settings: Mapping[str, Any]) -> Result:
    deployers = {str(d).lower() for d in settings.get("deployerPrincipals") or []}
    by_urn = _by_urn(views)
    dependents = _dependents(views)
    for res in of_type(views, *OWNABLE):
        owner = res.get("owner")
        if owner is None or owner == "":
            continue  # the creator (the deploying principal) keeps ownership
        granted = _deployer_execute_grants(res, views, deployers)
        reach = _dependents([v for v in views if v.urn not in granted]) if granted else dependents
        later = sorted((by_urn[u] for u in reach.get(res.urn, ()) if u in by_urn
                        and by_urn[u].type.startswith("databricks:")), key=lambda v: v.name)
        if not later:
            continue
        if is_unknown(owner):
            yield unknown(f"{label(res)} owner", res.urn)
            continue
        if str(owner).lower() in deployers or _deployer_member_of(str(owner), views, deployers):
            continue
        kind = "service principal" if _UUID.match(str(owner)) else "group"
        yield Finding(f"{label(res)} hands ownership to {kind} {owner!r} in the call that creates it, but "
                      f"{len(later)} later create(s) need privileges on it (first: {label(later[0])}) and the "
                      f"deploying principal is not {owner!r}" + (" nor a member of it" if kind == "group" else "")
                      + "; leave owner unset (the deployer keeps it) and grant MANAGE through Grants", res.urn)


def _deployer_execute_grants(res: ResourceView, views: Views, deployers: set[str]) -> set[str]:
    """URNs of Grants on a registered model handed to another owner that give a deploying principal EXECUTE.

    A model's owner must be the principal that sets its aliases (only an owner may: Databricks docs, "Upgrade ML
    workflows to target models in Unity Catalog", required privileges); the deployer, which owns the model's
    catalog and schema, may still grant on it (Databricks docs, "Manage privileges in Unity Catalog": the owner of
    the catalog or schema that contains the object), and EXECUTE is what loading or deploying it needs. So such
    a Grants is a create the deployer can do, and what waits for it has the deployer's access.
    """
    if res.type != T.REGISTERED_MODEL or not deployers:
        return set()
    parts = [res.get("catalogName"), res.get("schemaName"), res.get("name")]
    if not all(_known(p) for p in parts):
        return set()
    full = ".".join(str(p) for p in parts).lower()
    out: set[str] = set()
    for grants in of_type(views, T.GRANTS):
        kind, securable = securable_of(grants)
        if kind != "model" or not _known(securable) or str(securable).lower() != full:
            continue
        if any(_known(p) and str(p).lower() in deployers and "EXECUTE" in privileges
               for p, privileges in grant_entries(grants)):
            out.add(grants.urn)
    return out


# --- serverless reachability -------------------------------------------------------------------------

def storage_reads(views: Views) -> dict[str, list[str]]:
    """Storage account name -> what Unity Catalog reads there (external locations, managed storage)."""
    out: dict[str, list[str]] = {}
    for res in of_type(views, T.EXTERNAL_LOCATION, T.CATALOG, T.SCHEMA):
        url = res.get("url") if res.type == T.EXTERNAL_LOCATION else res.get("storageRoot")
        match = _ABFSS.match(url) if _known(url) else None
        if match:
            out.setdefault(match.group(1).lower(), []).append(label(res))
    return out


def _account(views: Views, name: str) -> ResourceView | None:
    for acc in of_type(views, T.STORAGE_ACCOUNT):
        if str(acc.get("accountName")).lower() == name or (acc.id or "").lower().endswith(f"/storageaccounts/{name}"):
            return acc
    return None


def _denies_public(account: ResourceView | None) -> bool:
    """Unknown accounts (another stack's) count as closed: every lake here denies by default."""
    if account is None:
        return True
    return eq(account.get("publicNetworkAccess"), "Disabled") or \
        eq(account.get("networkRuleSet.defaultAction"), "Deny")


def _own_workspace_ids(views: Views) -> set[str]:
    """This stack's workspace: the one its metastore assignment names."""
    ids = (a.get("workspaceId") for a in of_type(views, T.METASTORE_ASSIGNMENT))
    return {str(i) for i in ids if i is not None and not is_unknown(i)}


def _is_own_workspace(src: ResourceView, value: Any, views: Views) -> bool | None:
    """Does `value` (a workspace id input of `src`) name this stack's workspace? None: cannot tell."""
    if value is not None and not is_unknown(value) and _own_workspace_ids(views):
        return str(value) in _own_workspace_ids(views)
    deps = set(src.dependencies)
    if any(w.urn in deps for w in of_type(views, T.WORKSPACE)):
        return True
    if any(r.urn in deps for r in of_type(views, T.STACK_REFERENCE)):
        return False
    return None


def _bound_nccs(views: Views) -> list[ResourceView]:
    """NCCs bound to this stack's workspace."""
    by_urn = _by_urn(views)
    own = [b for b in of_type(views, T.NCC_BINDING) if _is_own_workspace(b, b.get("workspaceId"), views)]
    return [ncc for ncc in of_type(views, T.NCC) if any(_ncc_ref(b, ncc, by_urn) for b in own)]


def _ncc_ref(src: ResourceView, ncc: ResourceView, by_urn: Mapping[str, ResourceView]) -> bool:
    value = src.get("networkConnectivityConfigId")
    if _known(value) and ncc.id:
        return ncc.id.endswith("/" + str(value)) or ncc.id == value
    return ncc.urn in src.dependencies


def _rule_targets(rule: ResourceView, account: ResourceView | None, name: str) -> bool:
    target = rule.get("resourceId")
    if _known(target):
        return str(target).lower().rstrip("/").endswith(f"/storageaccounts/{name}")
    return account is not None and account.urn in rule.dependencies


def serverless_gaps(views: Views, name: str) -> list[str]:
    """What is missing for serverless compute to reach storage account `name` ([] when reachable)."""
    account = _account(views, name)
    if not _denies_public(account):
        return []
    by_urn = _by_urn(views)
    bound = _bound_nccs(views)
    if not of_type(views, T.NCC):
        return ["no network connectivity config (NCC) in the stack"]
    if not bound:
        return ["no NCC bound to this stack's workspace (MwsNccBinding)"]
    missing = []
    for group in ("dfs", "blob"):
        if not any(eq(r.get("groupId"), group) and _rule_targets(r, account, name)
                   and any(_ncc_ref(r, n, by_urn) for n in bound) for r in of_type(views, T.NCC_RULE)):
            missing.append(f"no private-endpoint rule with groupId {group!r} to it in the bound NCC")
    return missing


def _posture(account: ResourceView | None) -> str:
    if account is None:
        return "not in this stack, so counted as closed"
    return ("public access disabled" if eq(account.get("publicNetworkAccess"), "Disabled")
            else "network default Deny")


@stack_rule("serverless-storage-reachable", "high", "Every storage account Unity Catalog reads (external locations, "
            "managed storage) that denies public access or defaults to Deny is reachable from serverless compute: "
            "an NCC bound to the workspace with dfs and blob private-endpoint rules to it.",
            source="Databricks docs: serverless private link to Azure storage (NCC, private-endpoint rules, "
                   "approval); terraform-databricks-sra azure/tf/modules/catalog/private_endpoint.tf (ncc_dfs, "
                   "ncc_blob); serving/resource_model_serving.go (45-minute create timeout, then delete)")
def serverless_storage_reachable(views: Views, _: Mapping[str, Any]) -> Result:
    for name, readers in sorted(storage_reads(views).items()):
        gaps = serverless_gaps(views, name)
        if gaps:
            account = _account(views, name)
            yield Finding(f"storage account {name} ({_posture(account)}; read by {', '.join(sorted(readers))}) is "
                          f"unreachable from serverless compute: {'; '.join(gaps)}",
                          account.urn if account else None)


def _serverless_job(job: ResourceView) -> bool:
    """A job whose tasks name no cluster runs on serverless jobs compute."""
    if items(job.get("jobClusters")):
        return False
    tasks = [t for t in items(job.get("tasks")) if isinstance(t, Mapping)]
    return bool(tasks) and not any(get(t, k) for t in tasks for k in ("newCluster", "existingClusterId",
                                                                     "jobClusterKey"))


def serverless_consumers(views: Views) -> list[ResourceView]:
    return [*of_type(views, T.MODEL_SERVING, T.QUALITY_MONITOR, T.ALERT_V2),
            *[j for j in of_type(views, T.JOB) if _serverless_job(j)]]


@stack_rule("serverless-consumers-wait-for-ncc", "high", "Serving endpoints, monitors, SQL alerts and serverless "
            "jobs depend on the workspace's NCC binding and on its private-endpoint rules (serverless compute "
            "reaches the lakes only once they exist and are approved).",
            source="docs/resources/mws_ncc_private_endpoint_rule.md (rules take effect only when ESTABLISHED); "
                   "serving/resource_model_serving.go (45-minute create timeout, then delete)")
def serverless_consumers_wait(views: Views, _: Mapping[str, Any]) -> Result:
    consumers = serverless_consumers(views)
    if not consumers:
        return
    by_urn = _by_urn(views)
    bindings = [b for b in of_type(views, T.NCC_BINDING) if _is_own_workspace(b, b.get("workspaceId"), views)]
    rules = of_type(views, T.NCC_RULE)
    for res in consumers:
        before = closure(res, by_urn)
        if not bindings:
            yield Finding(f"{label(res)} runs on serverless compute, but no NCC is bound to this stack's workspace",
                          res.urn)
            continue
        if not any(b.urn in before for b in bindings):
            yield Finding(f"{label(res)} does not depend on the NCC binding ({bindings[0].name}); serverless "
                          "compute may start before it can reach the lakes", res.urn)
        waiting = sorted(r.name for r in rules if r.urn not in before)
        if waiting:
            yield Finding(f"{label(res)} does not depend on the private-endpoint rule(s) {', '.join(waiting)}",
                          res.urn)


# --- run-as identities --------------------------------------------------------------------------------

READS_PARAM, REGISTERS_PARAM = "uc_reads", "uc_registers_models"
_THREE_PART = re.compile(r"(?<![\w.`])`?([A-Za-z_]\w*)`?\.`?([A-Za-z_]\w*)`?\.`?([A-Za-z_]\w*)`?(?![\w.])")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'")


def three_part_names(sql: str) -> list[str]:
    """catalog.schema.table names in a query (string literals removed first)."""
    return list(dict.fromkeys(".".join(m.groups()).lower() for m in _THREE_PART.finditer(_STRING.sub("''", sql))))


SYSTEM_CATALOG = "system"


class _Privileges:
    """What the plan's Grants (and explicit owners) give each principal, with Unity Catalog's inheritance."""

    def __init__(self, views: Views) -> None:
        self.granted: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.catalogs = {str(c.get("name")).lower() for c in of_type(views, T.CATALOG) if _known(c.get("name"))}
        # Every Unity Catalog metastore has the `system` catalog (Databricks docs, "Monitor account activity with
        # system tables"): reading it needs the same USE_CATALOG/USE_SCHEMA/SELECT grants, which a stack declares.
        self.catalogs.add(SYSTEM_CATALOG)
        for g in of_type(views, T.GRANTS, T.GRANT):
            kind, name = securable_of(g)
            if kind not in ("catalog", "schema", "table", "model") or not _known(name):
                continue
            for principal, privileges in grant_entries(g):
                if _known(principal):
                    self.granted.setdefault((str(principal).lower(), str(name).lower()), {}).setdefault(
                        kind, set()).update(str(p).upper() for p in privileges if isinstance(p, str))
        # Registered models the plan declares, by full name -> their owner: an owner registers new versions
        # without CREATE_MODEL on the schema (Databricks docs, "Upgrade ML workflows to target models in Unity
        # Catalog": a new version needs ownership of the model).
        self.model_owners: dict[str, str] = {}
        for m in of_type(views, T.REGISTERED_MODEL):
            parts = [m.get("catalogName"), m.get("schemaName"), m.get("name")]
            if all(_known(p) for p in parts) and _known(m.get("owner")):
                self.model_owners[".".join(str(p) for p in parts).lower()] = str(m.get("owner")).lower()
        for res in of_type(views, T.CATALOG, T.SCHEMA):
            owner = res.get("owner")
            name = res.get("name") if res.type == T.CATALOG else f"{res.get('catalogName')}.{res.get('name')}"
            if _known(owner) and _known(name):
                self.granted.setdefault((str(owner).lower(), str(name).lower()), {}).setdefault(
                    "owner", set()).add("ALL_PRIVILEGES")

    def has(self, principal: str, securables: Sequence[str], privilege: str) -> bool:
        """`privilege` held on any of `securables` (the object or a parent that passes it down)."""
        for s in securables:
            for privileges in self.granted.get((principal.lower(), s.lower()), {}).values():
                if privilege in privileges or ("ALL_PRIVILEGES" in privileges and privilege != "MANAGE"):
                    return True
        return False

    def missing(self, principal: str, full_name: str, need: str) -> list[str]:
        """Privileges `principal` lacks to `need` (SELECT a table, CREATE_MODEL a model) on catalog.schema.x."""
        catalog, schema, _ = full_name.split(".")  # three parts: _needs and three_part_names keep no other
        cs = f"{catalog}.{schema}"
        wanted = [("USE_CATALOG", [catalog], f"USE_CATALOG on {catalog}"),
                  ("USE_SCHEMA", [cs, catalog], f"USE_SCHEMA on {cs}")]
        if need == "SELECT":
            wanted.append(("SELECT", [full_name, cs, catalog], f"SELECT on {full_name}"))
        elif self.model_owners.get(full_name.lower()) != principal.lower():  # an owned model takes new versions
            wanted.append(("CREATE_MODEL", [cs, catalog], f"CREATE_MODEL on {cs}"))
        return [what for privilege, where, what in wanted if not self.has(principal, where, privilege)]


def _run_as(res: ResourceView) -> Any:
    run_as = res.get("runAs")
    if is_unknown(run_as):
        return run_as
    if isinstance(run_as, Mapping):
        return run_as.get("servicePrincipalName") or run_as.get("userName")
    return res.get("runAsUserName")


def _needs(res: ResourceView) -> tuple[list[tuple[str, str]], Finding | None]:
    """(full name, SELECT | CREATE_MODEL) the alert's query or the job's declared parameters need."""
    if res.type == T.ALERT_V2:
        query = res.get("queryText")
        if is_unknown(query):
            return [], unknown("queryText", res.urn)
        return [(n, "SELECT") for n in three_part_names(str(query or ""))], None
    params = {get(p, "name"): get(p, "default") for p in items(res.get("parameters")) if isinstance(p, Mapping)}
    out: list[tuple[str, str]] = []
    for key, need in ((READS_PARAM, "SELECT"), (REGISTERS_PARAM, "CREATE_MODEL")):
        value = params.get(key)
        if is_unknown(value):
            return [], unknown(f"parameters.{key}", res.urn)
        out += [(n.strip().lower(), need) for n in str(value or "").split(",") if n.strip().count(".") == 2]
    return out, None


@stack_rule("run-as-identity-privileges", "high", "Every run-as identity (SQL alerts' runAs, jobs' runAs) holds, "
            "through the plan's Grants, the privileges its query (three-part names in queryText) or its declared "
            "job parameters (uc_reads: SELECT; uc_registers_models: CREATE_MODEL, unless it owns the declared "
            "registered model) need, with USE_CATALOG and USE_SCHEMA.",
            source="Databricks docs: Unity Catalog privileges reference (USE CATALOG + USE SCHEMA + SELECT to "
                   "query; CREATE MODEL to register); AlertV2 runs its query as run_as")
def run_as_privileges(views: Views, _: Mapping[str, Any]) -> Result:
    grants = _Privileges(views)
    for res in [*of_type(views, T.ALERT_V2), *of_type(views, T.JOB)]:
        principal = _run_as(res)
        needs, undecided = _needs(res)
        if undecided is not None:
            yield undecided
            continue
        if not needs or principal is None:
            continue
        if is_unknown(principal):
            yield unknown("runAs", res.urn)
            continue
        for full_name, need in needs:
            if full_name.partition(".")[0] not in grants.catalogs:
                yield Finding(f"{label(res)} reads {full_name}, whose catalog is not in this stack; its grants to "
                              f"{principal} cannot be checked here", res.urn, unknown=True)
                continue
            lacking = grants.missing(str(principal), full_name, need)
            if lacking:
                verb = "queries" if need == "SELECT" else "registers models in"
                yield Finding(f"{label(res)} runs as {principal}, which {verb} {full_name} but holds no "
                              f"{', '.join(lacking)} in this stack's Grants (INSUFFICIENT_PERMISSIONS at run time)",
                              res.urn)


# --- teardown -----------------------------------------------------------------------------------------

ACCOUNT_WIDE = (T.GROUP, T.SYSTEM_SCHEMA, T.METASTORE)


@resource_rule("account-objects-survive-stack-destroy", "high", "Account- and metastore-wide objects a stack "
               "declares (groups, system schemas, metastores) have protect and retainOnDelete, so destroying one "
               "stack deletes or disables nothing the other stacks use.", list(ACCOUNT_WIDE),
               source="terraform-provider-databricks catalog/resource_system_schema.go (Delete -> safeDisable, "
                      "metastore-wide); scim/resource_group.go (Delete removes the account group)")
def account_objects_survive(res: ResourceView, _: Mapping[str, Any]) -> Iterator[Finding | str]:
    # CrossGuard's resource options carry no retainOnDelete (None here): there only `protect` is checked, and the
    # offline check of the same plan (`mlopsctl check`, every PR) checks both.
    missing = [o for o, on in (("protect", res.protect), ("retainOnDelete", res.retain_on_delete)) if on is False]
    if missing:
        yield (f"{' and '.join(missing)} not set: a destroy of stack {res.stack!r} would "
               f"{'disable' if res.type == T.SYSTEM_SCHEMA else 'delete'} this account-wide object for every stack")


# --- bindings -----------------------------------------------------------------------------------------

def _binding_target(views: Views, binding: ResourceView) -> ResourceView | None:
    kind = str(binding.get("securableType") or "catalog").lower()
    types = {"catalog": T.CATALOG, "external_location": T.EXTERNAL_LOCATION}
    typ = types.get(kind)
    if typ is None:
        return None
    name = binding.get("securableName") or binding.get("catalogName")
    for res in of_type(views, typ):
        if (_known(name) and res.get("name") == name) or (not _known(name) and res.urn in binding.dependencies):
            return res
    return None


@stack_rule("uc-bound-workspace-reaches-storage", "high", "A catalog or external location is bound only to "
            "workspaces that can reach its storage: another stack's workspace has no private endpoint, DNS record "
            "or NCC rule to this stack's closed storage; this stack's own needs the serverless path to it.",
            source="Databricks docs: workspace-catalog binding; serverless private link; Azure storage firewall "
                   "(default Deny, public access disabled)")
def bound_workspace_reaches_storage(views: Views, _: Mapping[str, Any]) -> Result:
    for binding in of_type(views, T.WORKSPACE_BINDING):
        target = _binding_target(views, binding)
        if target is None:
            continue
        url = target.get("url") if target.type == T.EXTERNAL_LOCATION else target.get("storageRoot")
        match = _ABFSS.match(url) if _known(url) else None
        if not match:
            continue
        name = match.group(1).lower()
        account = _account(views, name)
        own = _is_own_workspace(binding, binding.get("workspaceId"), views)
        if own is False and _denies_public(account):
            yield Finding(f"{label(target)} is bound to workspace {shown(binding.get('workspaceId'))} of another "
                          f"stack, which cannot reach its storage account {name} ({_posture(account)}): no private "
                          "endpoint, DNS record or NCC rule to it exists there", binding.urn)
        elif own:
            gaps = serverless_gaps(views, name)
            if account is not None and eq(account.get("publicNetworkAccess"), "Disabled") and \
                    not endpoints_for(views, account, "dfs"):
                gaps.append("no dfs private endpoint for classic compute")
            if gaps:
                yield Finding(f"{label(target)} is bound to this stack's workspace, which cannot reach its storage "
                              f"account {name}: {'; '.join(gaps)}", binding.urn)
