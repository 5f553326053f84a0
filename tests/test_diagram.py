"""`mlopsctl diagram`: Mermaid flowchart of each stack, its edges derived from the plan, and the README copies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra.config import PROJECT_DIR
from infra.offline.diagram import KEY_TYPES, readme_block, readme_diagrams, render, update_readme
from tests.support import STACKS, plan_of

PE = "azure-native:network:PrivateEndpoint"


def _nodes(text: str) -> dict[str, str]:
    """node id -> label text, from lines like r3["VNet<br/>mlops-dev-vnet"] or r9[("...")]."""
    return {m.group(1): m.group(2) for m in re.finditer(r'^\s+(r\d+)\[\(?"(.*?)"\)?\]$', text, re.M)}


def _node_of(text: str, kind: str, name: str) -> str:
    found = [n for n, label in _nodes(text).items() if label.split("<br/>")[:2] == [kind, name]]
    assert len(found) == 1, f"{kind} {name}: {found}"
    return found[0]


@pytest.mark.parametrize("stack", STACKS)
def test_every_key_resource_is_a_node_inside_its_component(stack: str) -> None:
    plan = plan_of(stack)
    text = render(plan.as_json())
    assert text.startswith("flowchart LR\n")
    key = [r for r in plan.resources if r.custom and r.type in KEY_TYPES]
    assert len(_nodes(text)) == len(key)
    assert sorted(label.split("<br/>")[0] for label in _nodes(text).values()) == sorted(KEY_TYPES[r.type] for r in key)
    # Components are subgraphs; protected resources say so.
    assert 'subgraph c0["Platform mlops-' + stack + '"]' in text
    protected = sum(1 for r in key if r.protect)
    assert text.count("🔒 protected") == protected
    assert render(plan.as_json()) == text  # deterministic


@pytest.mark.parametrize("stack", STACKS)
def test_private_endpoints_point_at_their_targets(stack: str) -> None:
    plan = plan_of(stack)
    text = render(plan.as_json())
    by_id = {r.id: r for r in plan.resources}
    endpoints = plan.by_type(PE)
    assert endpoints, f"{stack} has private endpoints"
    for pe in endpoints:
        pe_node = _node_of(text, "Private endpoint", pe.inputs["privateEndpointName"])
        for conn in pe.inputs["privateLinkServiceConnections"]:
            target = by_id.get(conn["privateLinkServiceId"])
            if target is None:  # the DBFS root account: Databricks creates it in the managed resource group
                assert "/storageAccounts/mlops" in conn["privateLinkServiceId"] and "dbfs" in pe.name
                continue
            target_name = next(v for k, v in target.inputs.items()
                               if k in ("workspaceName", "accountName", "vaultName"))
            target_node = _node_of(text, KEY_TYPES[target.type], target_name)
            assert f'  {pe_node} -.->|"{", ".join(conn["groupIds"])}"| {target_node}' in text.splitlines()


@pytest.mark.parametrize("stack", STACKS)
def test_catalogs_are_drawn_bound_to_workspaces(stack: str) -> None:
    plan = plan_of(stack)
    text = render(plan.as_json())
    workspace = plan.one("azure-native:databricks:Workspace")
    ws_node = _node_of(text, "Databricks workspace", workspace.inputs["workspaceName"])
    bindings = [b for b in plan.by_type("databricks:index/workspaceBinding:WorkspaceBinding")
                if b.inputs.get("securableType", "catalog") == "catalog"]
    assert bindings
    for binding in bindings:
        catalog_node = _node_of(text, "Catalog", binding.inputs["securableName"])
        kind = binding.inputs.get("bindingType", "BINDING_TYPE_READ_WRITE").removeprefix("BINDING_TYPE_").lower()
        if workspace.urn in binding.dependencies:
            assert f'  {catalog_node} ==>|"bound: {kind}"| {ws_node}' in text.splitlines()
        else:  # another environment's workspace, by its numeric id
            ext = f"ws{binding.inputs['workspaceId']}"
            assert f'  {catalog_node} ==>|"bound: {kind}"| {ext}' in text.splitlines()
    assignment = plan.one("databricks:index/metastoreAssignment:MetastoreAssignment")
    assert workspace.urn in assignment.dependencies
    assert f'  {_node_of(text, "Metastore assignment", assignment.name)} -->|"assigned to"| {ws_node}' in text
    # The workspace is VNet-injected: an edge to the stack's VNet.
    vnet_node = _node_of(text, "VNet", plan.one("azure-native:network:VirtualNetwork").inputs["virtualNetworkName"])
    assert f'  {ws_node} -->|"customVirtualNetworkId"| {vnet_node}' in text.splitlines()


def test_labels_are_escaped() -> None:
    doc = {"resources": [{"urn": "u1", "type": "azure-native:keyvault:Vault", "name": "v", "id": "/v", "parent": None,
                          "custom": True, "protect": False, "inputs": {"vaultName": 'a"b<c>'}}]}
    assert render(doc) == 'flowchart LR\n  r0["Key Vault<br/>a#quot;b#lt;c#gt;"]\n'


def test_readme_embeds_the_generated_diagram_of_every_stack() -> None:
    """The README's diagrams are generated (`mlopsctl diagram --update-readme`): they cannot drift."""
    embedded = readme_diagrams((PROJECT_DIR / "README.md").read_text())
    assert sorted(embedded) == sorted(STACKS)
    for stack in STACKS:
        assert embedded[stack] == readme_block(stack, plan_of(stack).as_json()), (
            f"README.md's {stack} diagram is stale: run `.venv/bin/mlopsctl diagram --update-readme`")


def test_cli_from_a_plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cli import main

    plan_file = tmp_path / "dev.json"
    plan_file.write_text(json.dumps(plan_of("dev").as_json()))
    assert main(["diagram", "--plan", str(plan_file), "--fence"]) == 0
    out = capsys.readouterr().out
    assert out == "```mermaid\n" + render(plan_of("dev").as_json()) + "```\n"


def test_update_readme_rewrites_only_the_marked_blocks(tmp_path: Path) -> None:
    plans = {stack: plan_of(stack).as_json() for stack in STACKS}
    readme = tmp_path / "README.md"
    current = (PROJECT_DIR / "README.md").read_text()
    readme.write_text(current.replace("flowchart LR", "flowchart TB", 1))
    assert update_readme(readme, plans) == ["dev"]
    assert readme.read_text() == current
    assert update_readme(readme, plans) == []
    readme.write_text("# no markers\n")
    with pytest.raises(LookupError, match="no diagram markers for stack 'dev'"):
        update_readme(readme, plans)


def test_cli_bad_plan_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infra.cli import main

    bad = tmp_path / "x.json"
    bad.write_text("{")
    assert main(["diagram", "--plan", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"mlopsctl diagram: {bad}: not JSON (line 1")
