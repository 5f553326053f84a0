"""The plan model: `Plan` and `Resource` (what the offline engine records), and reading a plan JSON file for
every tool that takes one (check, diff, diagram)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.errors import PlanFileError


def load_plan(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise PlanFileError(f"{path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("resources"), list):
        raise PlanFileError(f"{path}: not a plan JSON (expected an object with 'resources'; "
                            "write one with `mlopsctl plan --json FILE`)")
    return doc


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    id: str
    parent: str | None
    provider: str | None
    custom: bool
    protect: bool
    retainOnDelete: bool
    dependencies: list[str]
    inputs: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        """A copy: callers (tests, diff) may edit it without touching this plan."""
        return copy.deepcopy({
                "urn": self.urn, "type": self.type, "name": self.name, "id": self.id, "parent": self.parent,
                "provider": self.provider, "custom": self.custom, "protect": self.protect,
                "retainOnDelete": self.retainOnDelete, "dependencies": self.dependencies,
                "inputs": self.inputs})


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[Resource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    # The plan of a first `pulumi up` from nothing (deploy.firstDeploy); the rules check its order.
    first_deploy: bool = False

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"project": self.project, "stack": self.stack}
        if self.first_deploy:
            doc["firstDeploy"] = True
        doc["resources"] = [r.as_json() for r in self.resources]
        return doc

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, sort_keys=False) + "\n")

    def sort(self) -> None:
        """Deterministic order (registration order varies between runs): parents first, then by URN."""
        children: dict[str | None, list[Resource]] = {}
        urns = {r.urn for r in self.resources}
        for res in self.resources:
            children.setdefault(res.parent if res.parent in urns else None, []).append(res)
        ordered: list[Resource] = []

        def walk(parent: str | None) -> None:
            for res in sorted(children.get(parent, []), key=lambda r: r.urn):
                ordered.append(res)
                walk(res.urn)

        walk(None)
        self.resources = ordered

    def by_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> Resource:
        found = [r for r in self.by_type(typ) if name is None or r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ} {name or ''}, found {len(found)}")
        return found[0]
