"""`mlopsctl diagram`: a Mermaid flowchart of one stack, from its offline plan (or a plan JSON file).

Components become nested subgraphs holding the stack's key resources (KEY_TYPES); edges come from the
plan itself, never from a hand-drawn list:
- a key resource's input that holds another key resource's id is a reference edge (workspace -> VNet);
- a private endpoint's privateLinkServiceConnections[].privateLinkServiceId is a dotted "private link" edge
  to its target, labelled with the group ids (databricks_ui_api, dfs, vault, ...);
- a databricks WorkspaceBinding is a thick edge from its catalog to the workspace it depends on.
The output is deterministic (plan order), so the diagrams in docs/environments.md are compared with it in a test.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mlopsctl.plan.types import ARM_PATHS, KEY_TYPES
from mlopsctl.reports import blocks

BINDING = "databricks:index/workspaceBinding:WorkspaceBinding"
WORKSPACE = "azure-native:databricks:Workspace"
PRIVATE_ENDPOINT = "azure-native:network:PrivateEndpoint"
DIAGRAMS_PAGE = "docs/environments.md"  # where `--update-readme` writes (the page of the three stacks)
_NAME_KEYS = ("workspaceName", "accountName", "vaultName", "keyName", "virtualNetworkName", "natGatewayName",
              "privateEndpointName", "privateZoneName", "connectorName", "resourceGroupName", "budgetName", "name",
              "tableName", "clusterName", "instancePoolName", "policyName")


def _label(text: str) -> str:
    """Mermaid-safe label text inside ["..."]."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _display_name(res: dict[str, Any]) -> str:
    inputs = res.get("inputs") or {}
    # azure-native: the resource's own name is the last parameter of its ARM path ({vaultName}/keys/{keyName}).
    params = [p for p in re.findall(r"\{(\w+)\}", ARM_PATHS.get(res["type"], "")) if p not in ("sub", "rg")]
    if params and isinstance(inputs.get(params[-1]), str) and inputs.get(params[-1]):
        return str(inputs[params[-1]])
    own_keys = [k for k in _NAME_KEYS if isinstance(inputs.get(k), str) and inputs.get(k)]
    if res["type"] != "azure-native:resources:ResourceGroup":
        own_keys = [k for k in own_keys if k != "resourceGroupName"] or own_keys
    if res["type"] == "databricks:index/job:Job" and isinstance(inputs.get("name"), str):
        return str(inputs["name"])
    return str(inputs[own_keys[0]]) if own_keys else str(res["name"])


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [pair for k in sorted(value) for pair in _strings(value[k], f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [pair for i, v in enumerate(value) for pair in _strings(v, f"{path}[{i}]")]
    return []


def _edge_label(path: str) -> str:
    """'parameters.customVirtualNetworkId.value' -> 'customVirtualNetworkId' (the input that holds the id)."""
    parts = [p for p in re.sub(r"\[\d+\]", "", path).split(".") if p not in ("value", "id")]
    return parts[-1] if parts else path


def render(plan: dict[str, Any]) -> str:
    """The Mermaid flowchart (without the ``` fence) of a plan JSON document."""
    resources: list[dict[str, Any]] = plan["resources"]
    by_urn = {r["urn"]: r for r in resources}
    key = [r for r in resources if r.get("custom") and r["type"] in KEY_TYPES]
    node_id = {r["urn"]: f"r{i}" for i, r in enumerate(key)}
    by_id = {r["id"]: r["urn"] for r in key if r.get("id")}
    components = [r for r in resources if not r.get("custom")]
    comp_id = {r["urn"]: f"c{i}" for i, r in enumerate(components)}

    def owner(res: dict[str, Any]) -> str | None:
        parent = res.get("parent")
        while parent is not None and parent in by_urn and by_urn[parent].get("custom"):
            parent = by_urn[parent].get("parent")
        return parent if parent in comp_id else None

    members: dict[str | None, list[dict[str, Any]]] = {}
    for res in key:
        members.setdefault(owner(res), []).append(res)
    sub_components: dict[str | None, list[dict[str, Any]]] = {}
    for comp in components:
        sub_components.setdefault(comp.get("parent") if comp.get("parent") in comp_id else None, []).append(comp)

    def non_empty(urn: str) -> bool:
        return bool(members.get(urn)) or any(non_empty(c["urn"]) for c in sub_components.get(urn, []))

    lines = ["flowchart LR"]

    def emit_nodes(owner_urn: str | None, indent: str) -> None:
        for res in members.get(owner_urn, []):
            parts = [KEY_TYPES[res["type"]], _display_name(res)] + (["🔒 protected"] if res.get("protect") else [])
            text = "<br/>".join(_label(p) for p in parts)
            shape = ('[("', '")]') if res["type"] in ("azure-native:storage:StorageAccount",
                                                      "databricks:index/catalog:Catalog") else ('["', '"]')
            lines.append(f"{indent}{node_id[res['urn']]}{shape[0]}{text}{shape[1]}")
        for comp in sub_components.get(owner_urn, []):
            if not non_empty(comp["urn"]):
                continue
            kind = comp["type"].rsplit(":", 1)[-1]
            lines.append(f'{indent}subgraph {comp_id[comp["urn"]]}["{_label(kind + " " + comp["name"])}"]')
            emit_nodes(comp["urn"], indent + "  ")
            lines.append(f"{indent}end")

    emit_nodes(None, "  ")

    edges: list[str] = []
    for res in key:
        src = node_id[res["urn"]]
        inputs = res.get("inputs") or {}
        if res["type"] == PRIVATE_ENDPOINT:
            for conn in inputs.get("privateLinkServiceConnections") or []:
                target = by_id.get(conn.get("privateLinkServiceId") or "")
                if target:
                    groups = ", ".join(conn.get("groupIds") or []) or "private link"
                    edges.append(f'  {src} -.->|"{_label(groups)}"| {node_id[target]}')
            continue
        for path, value in _strings(inputs):
            target = by_id.get(value)
            if target and target != res["urn"]:
                edges.append(f'  {src} -->|"{_label(_edge_label(path))}"| {node_id[target]}')
    for res in key:  # the assignment names the workspace by its numeric id: use the dependency instead
        if res["type"] == "databricks:index/metastoreAssignment:MetastoreAssignment":
            for dep in res.get("dependencies") or []:
                if dep in node_id and by_urn[dep]["type"] == WORKSPACE:
                    edges.append(f'  {node_id[res["urn"]]} -->|"assigned to"| {node_id[dep]}')
    catalogs = {(r.get("inputs") or {}).get("name"): r["urn"] for r in key
                if r["type"] == "databricks:index/catalog:Catalog"}
    workspaces = {r["urn"] for r in key if r["type"] == WORKSPACE}
    for binding in (r for r in resources if r["type"] == BINDING):
        inputs = binding.get("inputs") or {}
        if (inputs.get("securableType") or "catalog") != "catalog":
            continue  # external locations and credentials are bound too; the picture shows catalogs
        catalog = catalogs.get(inputs.get("securableName"))
        targets = [d for d in binding.get("dependencies") or [] if d in workspaces]
        if catalog is None:
            continue
        label = (inputs.get("bindingType") or "BINDING_TYPE_READ_WRITE").removeprefix("BINDING_TYPE_").lower()
        if targets:
            edges.append(f'  {node_id[catalog]} ==>|"bound: {label}"| {node_id[targets[0]]}')
        else:  # bound to a workspace outside this stack
            ext = f"ws{inputs.get('workspaceId')}"
            lines.append(f'  {ext}(["{_label("workspace " + str(inputs.get("workspaceId")))}"])')
            edges.append(f'  {node_id[catalog]} ==>|"bound: {label}"| {ext}')
    return "\n".join(lines + sorted(set(edges), key=edges.index)) + "\n"


def fenced(plan: dict[str, Any]) -> str:
    return "```mermaid\n" + render(plan) + "```\n"


def _start(stack: str) -> str:
    return f"<!-- diagram:{stack}:start (generated by `mlopsctl diagram --update-readme`; do not edit) -->"


def _end(stack: str) -> str:
    return f"<!-- diagram:{stack}:end -->"


def readme_block(stack: str, plan: dict[str, Any]) -> str:
    return f"{_start(stack)}\n{fenced(plan)}{_end(stack)}"


def readme_diagrams(text: str) -> dict[str, str]:
    """stack -> the block currently embedded in the page (start marker through end marker)."""
    found = {}
    for match in re.finditer(r"<!-- diagram:(\w+):start.*?<!-- diagram:\1:end -->", text, re.S):
        found[match.group(1)] = match.group(0)
    return found


def update_readme(path: Path, plans: dict[str, dict[str, Any]]) -> list[str]:
    """Rewrite each stack's block in place; returns the stacks whose block changed. A stack with no block in
    the page is a LookupError naming the markers to add (nothing is written then)."""
    missing = [s for s in plans if blocks.find(path.read_text(), _start(s), _end(s)) is None]
    if missing:
        raise LookupError(f"{path}: no diagram markers for stack {missing[0]!r} "
                          f"({_start(missing[0])} ... {_end(missing[0])})")
    return [stack for stack, plan in plans.items()
            if blocks.rewrite(path, _start(stack), _end(stack), readme_block(stack, plan))]
