"""The restore drill: prove, every month, that the lake's history and the registry can bring prod back.

For a rotating sample of feature tables it restores each from an earlier version into a scratch schema
(`CREATE OR REPLACE TABLE <scratch> DEEP CLONE <table> VERSION AS OF <v>`; Databricks docs, "Clone a table":
a clone at a specific version), compares the copy's row count with the table's count at that version (time
travel, `SELECT count(*) ... VERSION AS OF <v>`), drops the copy, and checks that every alias of the listed
registered models resolves to an existing version. Any failure fails the run, so the job's failure
notification reaches the admins.

Pure decisions (`pick_sample`, `restore_version`, `scratch_name`, `run_drill`) are tested against fakes;
`main(argv)` wires Spark and MLflow.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class Lake(Protocol):
    def current_version(self, table: str) -> int: ...
    def count_at(self, table: str, version: int) -> int: ...
    def restore_copy(self, table: str, version: int, target: str) -> int: ...  # the copy's row count
    def drop(self, target: str) -> None: ...


class Registry(Protocol):
    def aliases(self, model: str) -> dict[str, int]: ...
    def version_exists(self, model: str, version: int) -> bool: ...


@dataclass(frozen=True)
class TableResult:
    table: str
    version: int | None
    expected: int | None = None
    restored: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.expected == self.restored


@dataclass(frozen=True)
class AliasResult:
    model: str
    alias: str
    version: int | None
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class DrillReport:
    tables: list[TableResult] = field(default_factory=list)
    aliases: list[AliasResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and all(a.ok for a in self.aliases)

    def lines(self) -> list[str]:
        out = []
        for t in self.tables:
            state = "ok" if t.ok else "FAILED"
            detail = t.error or f"version {t.version}: {t.restored} rows restored, {t.expected} expected"
            out.append(f"{state} table {t.table}: {detail}")
        for a in self.aliases:
            state = "ok" if a.ok else "FAILED"
            detail = a.error or f"-> version {a.version}" + ("" if a.ok else " does not exist")
            out.append(f"{state} alias {a.model}@{a.alias} {detail}")
        return out


def pick_sample(tables: Sequence[str], sample: int, month: int) -> list[str]:
    """`sample` tables, rotating by month so every table is rehearsed within ceil(len/sample) months."""
    if not tables:
        return []
    size = min(sample, len(tables))
    start = (month * size) % len(tables)
    return [tables[(start + i) % len(tables)] for i in range(size)]


def restore_version(current: int, versions_back: int) -> int | None:
    """The version to restore from; None when the table has no history that far back."""
    target = current - versions_back
    return target if target >= 0 else None


def scratch_name(scratch_schema: str, table: str) -> str:
    """scratch schema + the table's three parts joined, so two sampled tables never share a copy."""
    return f"{scratch_schema}.drill_{table.replace('.', '__')}"


def run_drill(lake: Lake, registry: Registry, tables: Sequence[str], sample: int, versions_back: int,
              scratch_schema: str, models: Sequence[str], month: int) -> DrillReport:
    report = DrillReport()
    for table in pick_sample(tables, sample, month):
        try:
            version = restore_version(lake.current_version(table), versions_back)
            if version is None:
                report.tables.append(TableResult(table, None, error=f"has fewer than {versions_back} earlier "
                                                                     "versions to restore from"))
                continue
            target = scratch_name(scratch_schema, table)
            expected = lake.count_at(table, version)
            try:
                restored = lake.restore_copy(table, version, target)
            finally:
                lake.drop(target)
            report.tables.append(TableResult(table, version, expected, restored))
        except Exception as exc:
            report.tables.append(TableResult(table, None, error=f"{type(exc).__name__}: {exc}"))
    for model in models:
        try:
            aliases = registry.aliases(model)
        except Exception as exc:
            report.aliases.append(AliasResult(model, "*", None, False, f"{type(exc).__name__}: {exc}"))
            continue
        if not aliases:
            report.aliases.append(AliasResult(model, "*", None, False, "has no aliases"))
        for alias, version in sorted(aliases.items()):
            report.aliases.append(AliasResult(model, alias, version, registry.version_exists(model, version)))
    return report


def _split(value: str) -> list[str]:
    return [v for v in (s.strip() for s in value.split(",")) if v]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="drill")
    parser.add_argument("--tables", required=True)
    parser.add_argument("--sample", type=int, default=3)
    parser.add_argument("--versions_back", type=int, default=1)
    parser.add_argument("--scratch_schema", required=True)
    parser.add_argument("--models", default="")
    return parser.parse_args(list(argv))


class SparkLake:  # pragma: no cover - needs a Databricks runtime
    def __init__(self, spark: object) -> None:
        self.spark = spark

    def _sql(self, query: str) -> list[object]:
        return self.spark.sql(query).collect()  # type: ignore[attr-defined]

    def current_version(self, table: str) -> int:
        return int(self._sql(f"DESCRIBE HISTORY {table} LIMIT 1")[0]["version"])  # type: ignore[index]

    def count_at(self, table: str, version: int) -> int:
        return int(self._sql(f"SELECT count(*) AS n FROM {table} VERSION AS OF {version}")[0]["n"])  # type: ignore[index]

    def restore_copy(self, table: str, version: int, target: str) -> int:
        self._sql(f"CREATE OR REPLACE TABLE {target} DEEP CLONE {table} VERSION AS OF {version}")
        return int(self._sql(f"SELECT count(*) AS n FROM {target}")[0]["n"])  # type: ignore[index]

    def drop(self, target: str) -> None:
        self._sql(f"DROP TABLE IF EXISTS {target}")


class MlflowRegistry:  # pragma: no cover - needs a workspace
    def __init__(self, client: object) -> None:
        self.client = client

    def aliases(self, model: str) -> dict[str, int]:
        found = self.client.get_registered_model(model)  # type: ignore[attr-defined]
        return {alias: int(version) for alias, version in (found.aliases or {}).items()}

    def version_exists(self, model: str, version: int) -> bool:
        try:
            self.client.get_model_version(model, str(version))  # type: ignore[attr-defined]
        except Exception:
            return False
        return True


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - wiring
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import mlflow  # type: ignore[import-not-found]
    from pyspark.sql import SparkSession  # type: ignore[import-not-found]

    mlflow.set_registry_uri("databricks-uc")
    month = datetime.datetime.now(datetime.UTC).month
    report = run_drill(SparkLake(SparkSession.builder.getOrCreate()), MlflowRegistry(mlflow.MlflowClient()),
                       _split(args.tables), args.sample, args.versions_back, args.scratch_schema,
                       _split(args.models), month)
    print("\n".join(report.lines()))
    if not report.ok:
        raise SystemExit("restore drill failed: " + "; ".join(line for line in report.lines() if "FAILED" in line))
    return 0


if __name__ == "__main__":  # pragma: no cover
    main()
