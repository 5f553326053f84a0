"""`mlopsctl diff BASE HEAD`: what a change does to a stack, from two plan JSON files.

Resources are matched by URN (a logical rename without an alias is a delete plus a create, as in Pulumi).
Changed resources list every input that differs (dotted paths, old -> new) and flag the ones that force a
replacement, from REPLACE_ON_CHANGE below. Secret values never appear: the plan already masks secret
Outputs as "[secret]", and inputs whose names look like credentials are masked here as well.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.offline.mocks import ARM_PATHS
from infra.offline.planfile import PlanFileError, load_plan
from infra.offline.tree import settings_summary

SECRET = "[secret]"
_SECRET_NAME = re.compile(r"(password|secret|token|credential|connectionstring|privatekey|accesskey)$", re.I)
MISSING = object()

# type token -> (input path, why a change replaces the resource). A path matches itself and anything below it.
# azure-native: every ARM path parameter (the resource's own name, its resource group) and `location` are
# immutable in ARM; they are added for every type in ARM_PATHS by replace_paths() below.
REPLACE_ON_CHANGE: dict[str, list[tuple[str, str]]] = {
    "azure-native:databricks:Workspace": [
        ("managedResourceGroupId", "Azure Databricks: the managed resource group is fixed at creation"),
        ("parameters.customVirtualNetworkId", "Azure Databricks VNet injection: the VNet is fixed at creation"),
        ("parameters.customPublicSubnetName", "Azure Databricks VNet injection: host subnet fixed at creation"),
        ("parameters.customPrivateSubnetName", "Azure Databricks VNet injection: container subnet fixed at creation"),
        ("parameters.requireInfrastructureEncryption",
         "Azure Databricks: infrastructure (double) encryption can only be chosen at creation"),
    ],
    "azure-native:storage:StorageAccount": [
        ("isHnsEnabled", "Azure Storage: the hierarchical namespace is set at creation (ARM cannot toggle it)"),
        ("kind", "Azure Storage: the account kind cannot be changed in place by ARM"),
    ],
    "azure-native:network:PrivateEndpoint": [
        ("subnet.id", "Azure Private Link: a private endpoint cannot move to another subnet"),
        ("privateLinkServiceConnections", "Azure Private Link: the target and group ids are fixed at creation"),
    ],
    "azure-native:network:Subnet": [
        ("virtualNetworkName", "ARM path parameter: the parent VNet"),
    ],
    "azure-native:databricks:AccessConnector": [],
    "databricks:index/catalog:Catalog": [
        ("storageRoot", "pulumi-databricks Catalog.storage_root: change forces creation of a new resource"),
        ("connectionName", "pulumi-databricks Catalog.connection_name: change forces creation of a new resource"),
        ("providerName", "pulumi-databricks Catalog.provider_name: change forces creation of a new resource"),
        ("shareName", "pulumi-databricks Catalog.share_name: change forces creation of a new resource"),
    ],
    "databricks:index/schema:Schema": [
        ("catalogName", "pulumi-databricks Schema.catalog_name: change forces creation of a new resource"),
        ("name", "pulumi-databricks Schema.name: change forces creation of a new resource"),
        ("storageRoot", "pulumi-databricks Schema.storage_root: change forces creation of a new resource"),
    ],
    "databricks:index/metastore:Metastore": [
        ("storageRoot", "pulumi-databricks Metastore.storage_root: change forces creation of a new resource"),
    ],
    "databricks:index/externalLocation:ExternalLocation": [
        ("name", "pulumi-databricks ExternalLocation.name: change forces creation of a new resource"),
    ],
    "databricks:index/storageCredential:StorageCredential": [
        ("name", "pulumi-databricks StorageCredential.name: change forces creation of a new resource"),
    ],
    "databricks:index/volume:Volume": [
        ("catalogName", "pulumi-databricks Volume.catalog_name: change forces creation of a new resource"),
        ("schemaName", "pulumi-databricks Volume.schema_name: change forces creation of a new resource"),
        ("volumeType", "pulumi-databricks Volume.volume_type: change forces creation of a new resource"),
        ("storageLocation", "pulumi-databricks Volume.storage_location: change forces creation of a new resource"),
    ],
    "databricks:index/registeredModel:RegisteredModel": [
        ("catalogName", "pulumi-databricks RegisteredModel.catalog_name: forces recreation"),
        ("schemaName", "pulumi-databricks RegisteredModel.schema_name: forces recreation"),
        ("name", "pulumi-databricks RegisteredModel.name: forces recreation"),
        ("storageLocation", "pulumi-databricks RegisteredModel.storage_location: forces recreation"),
    ],
    "databricks:index/modelServing:ModelServing": [
        ("name", "pulumi-databricks ModelServing.name: a new name deletes the endpoint and creates a new one"),
    ],
    "databricks:index/qualityMonitor:QualityMonitor": [
        ("tableName", "a quality monitor belongs to one table: another table is another monitor"),
    ],
}


def replace_paths(typ: str) -> list[tuple[str, str]]:
    """Replace-on-change paths of a type: the explicit table plus azure-native's ARM path parameters."""
    paths = list(REPLACE_ON_CHANGE.get(typ, []))
    if typ.startswith("azure-native:"):
        paths.append(("location", "ARM: a resource's location is immutable"))
        for param in re.findall(r"\{(\w+)\}", ARM_PATHS.get(typ, "")):
            if param not in ("sub", "rg", "scope", "resourceUri"):
                paths.append((param, "ARM path parameter: the resource's name is part of its id"))
        paths.append(("resourceGroupName", "ARM path parameter: the resource group is part of the id"))
    unique: dict[str, str] = {}
    for path, why in paths:
        unique.setdefault(path, why)
    return list(unique.items())


def _covers(prefix: str, path: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


# Fields that identify an item in a list of objects (a grant's principal, a served entity's or a route's name,
# a tag's key): items are matched by them, so giving one more group access is one added row, not every
# later index shifting. The first field that is present and unique on both sides wins.
LIST_KEYS = ("principal", "name", "servedModelName", "servedEntityName", "key", "label", "categoryGroup",
             "category", "privateDnsZoneId", "id")


def _list_key(old: list[Any], new: list[Any]) -> str | None:
    def unique(items: list[Any], field_name: str) -> bool:
        keys = [i.get(field_name) for i in items if isinstance(i, dict)]
        return len(keys) == len(items) and all(isinstance(k, (str, int)) for k in keys) and len(set(keys)) == len(keys)
    return next((f for f in LIST_KEYS if unique(old, f) and unique(new, f)), None) if old or new else None


def _scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def changed_paths(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """(path, old, new) for every difference. Lists of objects are matched by LIST_KEYS (`grants[principal=x]`),
    lists of scalars as sets (`privileges[SELECT]`); an item present on one side only is one row."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return [row for k in sorted(old.keys() | new.keys())
                for row in changed_paths(old.get(k, MISSING), new.get(k, MISSING), f"{path}.{k}" if path else k)]
    if isinstance(old, list) and isinstance(new, list):
        key = _list_key(old, new)
        if key is not None:
            before = {i[key]: i for i in old}
            after = {i[key]: i for i in new}
            order = list(before) + [k for k in after if k not in before]
            return [row for k in order
                    for row in changed_paths(before.get(k, MISSING), after.get(k, MISSING), f"{path}[{key}={k}]")]
        if all(map(_scalar, old + new)):
            removed = [v for v in old if v not in new]
            added = [v for v in new if v not in old]
            if not removed and not added:  # same items, another order
                return [(path, old, new)]
            return ([(f"{path}[{_fmt(v)}]", v, MISSING) for v in removed]
                    + [(f"{path}[{_fmt(v)}]", MISSING, v) for v in added])
        return [row for i in range(max(len(old), len(new)))
                for row in changed_paths(old[i] if i < len(old) else MISSING,
                                         new[i] if i < len(new) else MISSING, f"{path}[{i}]")]
    return [(path, old, new)]


def _masked(path: str, value: Any) -> Any:
    if value is MISSING:
        return value
    leaf = re.sub(r"\[[^\]]*\]", "", path.rsplit(".", 1)[-1])
    if _SECRET_NAME.search(leaf) and value not in (None, "", SECRET):
        return SECRET
    return value


@dataclass
class PropertyChange:
    path: str
    old: Any
    new: Any
    replace_reason: str | None = None

    @property
    def replaces(self) -> bool:
        return self.replace_reason is not None


@dataclass
class ResourceChange:
    urn: str
    type: str
    name: str
    kind: str  # "add" | "remove" | "update" | "replace"
    properties: list[PropertyChange] = field(default_factory=list)
    options: list[PropertyChange] = field(default_factory=list)  # protect, retainOnDelete, provider, parent
    protect: bool = False
    summary: str = ""  # created or deleted: the settings that say what it is

    def as_json(self) -> dict[str, Any]:
        def prop(p: PropertyChange) -> dict[str, Any]:
            return {"path": p.path, "old": _json(p.old), "new": _json(p.new), "replaces": p.replaces,
                    "reason": p.replace_reason}
        return {"urn": self.urn, "type": self.type, "name": self.name, "kind": self.kind, "protect": self.protect,
                "summary": self.summary,
                "properties": [prop(p) for p in self.properties], "options": [prop(p) for p in self.options]}


def _json(value: Any) -> Any:
    return "<absent>" if value is MISSING else value


@dataclass
class PlanDiff:
    stack: str
    changes: list[ResourceChange]
    unchanged: int

    def of_kind(self, kind: str) -> list[ResourceChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def counts(self) -> dict[str, int]:
        return {k: len(self.of_kind(k)) for k in ("add", "update", "replace", "remove")} | {"same": self.unchanged}

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "counts": self.counts, "changes": [c.as_json() for c in self.changes]}


def _by_urn(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["urn"]: r for r in plan["resources"] if r.get("custom", True)}


def diff_plans(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Compare custom resources (components have no cloud state) of two plans of the same stack."""
    old, new = _by_urn(base), _by_urn(head)
    changes: list[ResourceChange] = []
    unchanged = 0
    for urn in sorted(old.keys() | new.keys()):
        before, after = old.get(urn), new.get(urn)
        if before is None:
            assert after is not None
            changes.append(ResourceChange(urn, after["type"], after["name"], "add",
                                          protect=bool(after.get("protect")), summary=_summary(after)))
            continue
        if after is None:
            changes.append(ResourceChange(urn, before["type"], before["name"], "remove",
                                          protect=before.get("protect", False), summary=_summary(before)))
            continue
        change = _update(before, after)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    return PlanDiff(stack=str(head.get("stack") or base.get("stack") or "?"), changes=changes, unchanged=unchanged)


def _summary(resource: dict[str, Any]) -> str:
    inputs = {k: _masked(k, v) for k, v in (resource.get("inputs") or {}).items()}
    return settings_summary(resource["type"], inputs)


def _update(before: dict[str, Any], after: dict[str, Any]) -> ResourceChange | None:
    rules = replace_paths(after["type"])
    props = []
    for path, a, b in changed_paths(before.get("inputs") or {}, after.get("inputs") or {}):
        reason = next((why for prefix, why in rules if _covers(prefix, path)), None)
        # Compared in clear (a changed credential is a change), shown masked.
        props.append(PropertyChange(path, _masked(path, a), _masked(path, b), reason))
    options = [PropertyChange(key, before.get(key), after.get(key))
               for key in ("protect", "retainOnDelete", "provider", "parent") if before.get(key) != after.get(key)]
    if not props and not options:
        return None
    kind = "replace" if any(p.replaces for p in props) else "update"
    return ResourceChange(after["urn"], after["type"], after["name"], kind, props, options,
                          protect=bool(before.get("protect")))


# --- rendering ---------------------------------------------------------------------------------------------

_SYMBOL = {"add": "+", "remove": "-", "update": "~", "replace": "+-"}
_WORD = {"add": "create", "remove": "delete", "update": "update", "replace": "replace"}


def _fmt(value: Any, limit: int = 80) -> str:
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_line(diff: PlanDiff) -> str:
    c = diff.counts
    return (f"{c['add']} to create, {c['update']} to update, {c['replace']} to replace, "
            f"{c['remove']} to delete, {c['same']} unchanged")


def to_markdown(diff: PlanDiff, title: str | None = None) -> str:
    lines = [f"### {title or f'Stack `{diff.stack}`'}", "", f"**{summary_line(diff)}**", ""]
    if not diff.has_changes:
        lines.append("No resource changes.")
        return "\n".join(lines) + "\n"
    risky = [c for c in diff.changes if c.kind in ("replace", "remove")]
    if risky:
        lines.append("> [!WARNING]")
        for c in risky:
            extra = " (protected: Pulumi will refuse until `protect` is lifted)" if c.protect else ""
            lines.append(f"> - `{c.name}` ({c.type}) will be **{_WORD[c.kind]}d**{extra}")
        lines.append("")
    lines += ["| op | resource | type | property | old | new |", "|---|---|---|---|---|---|"]
    for c in diff.changes:
        head = f"| {_SYMBOL[c.kind]} {_WORD[c.kind]} | `{_md_cell(c.name)}` | `{c.type}` |"
        rows = c.properties + c.options
        if not rows:
            lines.append(f"{head} {_md_cell(c.summary)} | | |")
            continue
        for i, p in enumerate(rows):
            flag = " **forces replacement**" if p.replaces else ""
            prefix = head if i == 0 else "| | | |"
            lines.append(f"{prefix} `{_md_cell(p.path)}`{flag} | `{_md_cell(_fmt(p.old))}` | "
                         f"`{_md_cell(_fmt(p.new))}` |")
    reasons = sorted({(p.path, p.replace_reason) for c in diff.changes for p in c.properties if p.replace_reason})
    if reasons:
        lines += ["", "<details><summary>Why these properties force a replacement</summary>", ""]
        lines += [f"- `{path}`: {why}" for path, why in reasons]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def print_text(diff: PlanDiff, console: Console) -> None:
    console.print(f"[bold]stack {diff.stack}[/]: {summary_line(diff)}")
    if not diff.has_changes:
        console.print("no resource changes")
        return
    table = Table(show_lines=False)
    for col in ("op", "resource", "property", "old", "new"):
        table.add_column(col, overflow="fold")
    colour = {"add": "green", "remove": "red", "update": "yellow", "replace": "magenta"}
    for c in diff.changes:
        label = f"[{colour[c.kind]}]{_SYMBOL[c.kind]} {_WORD[c.kind]}[/]"
        who = f"{escape(c.name)}\n[dim]{c.type}[/]"  # names such as '[dev] alert' are text, not markup
        rows: list[PropertyChange | None] = [*c.properties, *c.options] or [None]
        for i, p in enumerate(rows):
            cells = [escape(c.summary), "", ""] if p is None else [
                escape(p.path) + (" [bold red](forces replacement)[/]" if p.replaces else ""),
                escape(_fmt(p.old)), escape(_fmt(p.new))]
            table.add_row(label if i == 0 else "", who if i == 0 else "", *cells)
    console.print(table)


# --- CLI -----------------------------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", type=Path, help="plan JSON of the base (e.g. main)")
    parser.add_argument("head", type=Path, help="plan JSON of the change (e.g. the PR)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                        help="text (terminal, default), markdown (PR comments) or json")
    parser.add_argument("--title", help="heading of the Markdown section (default: the stack)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when there are changes")


def run(args: argparse.Namespace) -> int:
    from infra.cli import UsageError

    try:
        base, head = load_plan(args.base), load_plan(args.head)
    except PlanFileError as exc:
        raise UsageError(str(exc)) from None
    if base.get("stack") and head.get("stack") and base["stack"] != head["stack"]:
        raise UsageError(f"plans of different stacks: {args.base} is {base['stack']!r}, "
                         f"{args.head} is {head['stack']!r}")
    result = diff_plans(base, head)
    if args.format == "text" and args.output is None:
        print_text(result, Console())
    else:
        text = (to_markdown(result, args.title) if args.format in ("markdown", "text")
                else json.dumps(result.as_json(), indent=2) + "\n")
        if args.output:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(text)
        else:
            print(text, end="")
    return 1 if args.exit_code and result.has_changes else 0
