"""Registry retention: delete (or archive) Unity Catalog model versions older than their schema's retention.

Each registry schema states its retention as the schema property `retention_days` (the platform sets it from
config). A version is past retention when it is older than that many days. Such a version is removed unless:
- an alias points to it (champion, challenger, ...): aliases are how deployments refer to versions;
- a serving endpoint serves it (its live or its pending config), or the platform's config pins it
  (`--protect catalog.schema.model:version,...`, the versions the stack's endpoints declare).

With an archive schema, a version past retention elsewhere is first copied into
`<archive schema>.<model>` (a new version there, keeping its source) and then deleted; versions in the
archive schema itself are deleted past the archive's own retention.

A dry run (the default unless `--apply`) only reports what it would do. Deleting a version needs ownership of
its model (Unity Catalog: "The caller must be a metastore admin or an owner of the parent registered model");
a version the run-as principal cannot delete is reported and left alone, and the run fails at the end so
someone looks.

Self-contained (see jobs/__init__.py): the decisions are pure functions over a small `Registry` protocol,
`main(argv)` wires the databricks-sdk and MLflow clients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

RETENTION_PROPERTY = "retention_days"


@dataclass(frozen=True)
class Version:
    model: str  # catalog.schema.model
    version: int
    created: dt.datetime  # timezone-aware (UTC)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Action:
    kind: str  # keep | delete | archive
    model: str
    version: int
    reason: str
    target: str | None = None  # archive: the model the version is copied to

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"action": self.kind, "model": self.model, "version": self.version,
                                  "reason": self.reason}
        if self.target:
            out["target"] = self.target
        return out


class Registry(Protocol):
    def retention_days(self, schema: str) -> int | None: ...
    def models(self, schema: str) -> list[str]: ...
    def versions(self, model: str) -> list[Version]: ...
    def served_versions(self) -> set[tuple[str, int]]: ...
    def owns(self, model: str) -> bool: ...
    def delete(self, model: str, version: int) -> None: ...
    def copy(self, model: str, version: int, target: str) -> None: ...


def parse_retention(value: str | None) -> int | None:
    """The schema property's value as days; None when unset or not a positive whole number."""
    if value is None or not str(value).strip().isdigit():
        return None
    days = int(str(value).strip())
    return days if days > 0 else None


def parse_protected(text: str) -> set[tuple[str, int]]:
    """`cat.schema.model:3,cat.schema.model:4` -> {(model, version)}; malformed items are refused."""
    out: set[tuple[str, int]] = set()
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        model, sep, version = item.rpartition(":")
        if not sep or model.count(".") != 2 or not version.isdigit():
            raise ValueError(f"--protect item {item!r} is not catalog.schema.model:version")
        out.add((model.lower(), int(version)))
    return out


def past_retention(created: dt.datetime, days: int, now: dt.datetime) -> bool:
    """Older than `days` whole days; a version exactly `days` old is still kept."""
    return now - created > dt.timedelta(days=days)


def decide(version: Version, days: int, now: dt.datetime, protected: set[tuple[str, int]],
           archive_schema: str | None) -> Action:
    """What happens to one version of a model in a schema with `days` retention."""
    model, number = version.model, version.version
    if not past_retention(version.created, days, now):
        return Action("keep", model, number, f"within {days} days")
    if version.aliases:
        return Action("keep", model, number, f"alias {', '.join(sorted(version.aliases))} points to it")
    if (model.lower(), number) in protected:
        return Action("keep", model, number, "served by an endpoint")
    schema = model.rsplit(".", 1)[0]
    if archive_schema and schema.lower() != archive_schema.lower():
        target = f"{archive_schema}.{model.rsplit('.', 1)[1]}"
        return Action("archive", model, number, f"older than {days} days", target)
    return Action("delete", model, number, f"older than {days} days")


def plan(registry: Registry, schemas: Sequence[str], now: dt.datetime, protected: Iterable[tuple[str, int]] = (),
         archive_schema: str | None = None) -> list[Action]:
    """Every version of every model in the schemas that carry a retention, with what to do to it."""
    keep = {(m.lower(), v) for m, v in protected} | {(m.lower(), v) for m, v in registry.served_versions()}
    actions: list[Action] = []
    for schema in schemas:
        days = registry.retention_days(schema)
        if days is None:
            continue
        for model in registry.models(schema):
            for version in sorted(registry.versions(model), key=lambda v: v.version):
                actions.append(decide(version, days, now, keep, archive_schema))
    return actions


@dataclass
class Outcome:
    done: list[Action] = field(default_factory=list)
    failed: list[tuple[Action, str]] = field(default_factory=list)


def apply(registry: Registry, actions: Sequence[Action], dry_run: bool) -> Outcome:
    """Carry out the deletes and archives (nothing on a dry run); a failure is recorded, the rest go on."""
    outcome = Outcome()
    for action in actions:
        if action.kind == "keep":
            continue
        if dry_run:
            outcome.done.append(action)
            continue
        # Checked before the copy: an archive whose delete is refused would be copied again on every run.
        if not registry.owns(action.model):
            outcome.failed.append((action, f"not the owner of {action.model}: deleting its versions needs ownership "
                                           "(or metastore admin); nothing archived or deleted"))
            continue
        try:
            if action.kind == "archive":
                assert action.target is not None
                registry.copy(action.model, action.version, action.target)
            registry.delete(action.model, action.version)
        except Exception as exc:  # report every version, not only the first failure
            outcome.failed.append((action, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
            continue
        outcome.done.append(action)
    return outcome


def summary(actions: Sequence[Action], outcome: Outcome, dry_run: bool) -> dict[str, object]:
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.kind] = counts.get(a.kind, 0) + 1
    return {"dryRun": dry_run, "counts": counts,
            "done": [a.as_dict() for a in outcome.done],
            "failed": [{**a.as_dict(), "error": e} for a, e in outcome.failed],
            "kept": [a.as_dict() for a in actions if a.kind == "keep"]}


# --- real clients -------------------------------------------------------------------------------------

def _ms(value: int | None) -> dt.datetime:
    return dt.datetime.fromtimestamp((value or 0) / 1000, tz=dt.UTC)


class WorkspaceRegistry:  # pragma: no cover - needs a workspace; the logic above is tested on a fake
    def __init__(self, workspace: object, mlflow_client: object) -> None:
        self.w, self.mlflow = workspace, mlflow_client

    def retention_days(self, schema: str) -> int | None:
        props = self.w.schemas.get(schema).properties or {}  # type: ignore[attr-defined]
        return parse_retention(props.get(RETENTION_PROPERTY))

    def models(self, schema: str) -> list[str]:
        catalog, name = schema.split(".", 1)
        return [m.full_name for m in self.w.registered_models.list(  # type: ignore[attr-defined]
            catalog_name=catalog, schema_name=name)]

    def versions(self, model: str) -> list[Version]:
        info = self.w.registered_models.get(model, include_aliases=True)  # type: ignore[attr-defined]
        aliases: dict[int, list[str]] = {}
        for a in info.aliases or []:
            aliases.setdefault(int(a.version_num), []).append(a.alias_name)
        return [Version(model, int(v.version), _ms(v.created_at), tuple(aliases.get(int(v.version), ())))
                for v in self.w.model_versions.list(model)]  # type: ignore[attr-defined]

    def served_versions(self) -> set[tuple[str, int]]:
        out: set[tuple[str, int]] = set()
        for ep in self.w.serving_endpoints.list():  # type: ignore[attr-defined]
            detail = self.w.serving_endpoints.get(ep.name)  # type: ignore[attr-defined]
            for cfg in (detail.config, detail.pending_config):
                for entity in (getattr(cfg, "served_entities", None) or []):
                    if entity.entity_name and str(entity.entity_version or "").isdigit():
                        out.add((entity.entity_name.lower(), int(entity.entity_version)))
        return out

    def owns(self, model: str) -> bool:
        # A service principal's user name is its application id, as a model's owner names it.
        me = self.w.current_user.me().user_name  # type: ignore[attr-defined]
        return bool(self.w.registered_models.get(model).owner == me)  # type: ignore[attr-defined]

    def delete(self, model: str, version: int) -> None:
        self.w.model_versions.delete(model, version)  # type: ignore[attr-defined]

    def copy(self, model: str, version: int, target: str) -> None:
        self.mlflow.copy_model_version(f"models:/{model}/{version}", target)  # type: ignore[attr-defined]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="retention", description=__doc__.splitlines()[0])
    p.add_argument("--schemas", required=True, help="comma-separated catalog.schema names to enforce")
    p.add_argument("--archive-schema", default="", help="catalog.schema versions are copied to before deletion")
    p.add_argument("--protect", default="", help="catalog.schema.model:version,... never removed")
    p.add_argument("--apply", default="false", choices=["true", "false"],
                   help="true: delete/archive; false (default): report only")
    return p.parse_args(list(argv))


def main(argv: Sequence[str] | None = None, registry: Registry | None = None,
         now: dt.datetime | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    schemas = [s.strip() for s in args.schemas.split(",") if s.strip()]
    protected = parse_protected(args.protect)
    if registry is None:  # pragma: no cover - the job's real wiring
        import importlib

        from databricks.sdk import WorkspaceClient

        mlflow = importlib.import_module("mlflow")  # in the job's environment only
        registry = WorkspaceRegistry(WorkspaceClient(), mlflow.MlflowClient(registry_uri="databricks-uc"))
    dry_run = args.apply != "true"
    actions = plan(registry, schemas, now or dt.datetime.now(dt.UTC), protected, args.archive_schema or None)
    outcome = apply(registry, actions, dry_run)
    print(json.dumps(summary(actions, outcome, dry_run), indent=2))
    return 1 if outcome.failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
