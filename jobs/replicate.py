"""The standby's copy job: fill the standby's catalogs from the primary's Delta Sharing share.

Tables: every table of each shared schema is copied into the standby's schema of the same name with
`CREATE OR REPLACE TABLE <schema>.<table> AS SELECT * FROM <shared catalog>.<schema>.<table>` - a full copy onto
the standby's own lake each run (a share is read-only and served from the primary's storage, so only a copy
survives the primary's region; Databricks docs, "Read data shared using Databricks-to-Databricks Delta
Sharing"). Models: each model version of the shared model that the standby's registry lacks is copied
(`MlflowClient.copy_model_version`), then the standby's aliases are set to the primary's.

Pure decisions (`plan_tables`, `plan_models`) are tested against fakes; `main(argv)` wires Spark and MLflow.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TableCopy:
    source: str  # <shared catalog>.<schema>.<table>
    target: str  # <catalog>.<schema>.<table> in the standby


@dataclass(frozen=True)
class ModelPlan:
    model: str
    copy_versions: list[int]
    set_aliases: dict[str, int]
    drop_aliases: list[str]


def shared_schema(source_catalog: str, schema: str) -> str:
    """The primary's `catalog.schema` as the catalog mounting the share shows it: the share names a shared schema
    by its schema name, so it is `<shared catalog>.<schema>`."""
    return f"{source_catalog}.{schema.split('.', 1)[1]}"


def plan_tables(source_catalog: str, schemas: Sequence[str],
                tables_of: Mapping[str, Sequence[str]]) -> list[TableCopy]:
    """What to copy: every table the share shows in each schema (`tables_of[shared schema]`)."""
    copies = []
    for schema in schemas:
        source = shared_schema(source_catalog, schema)
        for table in sorted(tables_of.get(source, ())):
            copies.append(TableCopy(f"{source}.{table}", f"{schema}.{table}"))
    return copies


def plan_models(model: str, source_versions: Sequence[int], source_aliases: Mapping[str, int],
                target_aliases: Mapping[str, int], copied: Mapping[int, int]) -> ModelPlan:
    """Versions the standby lacks (oldest first), and aliases to set or drop so the standby's match the primary's.

    `copied`: primary version -> standby version of copies made earlier (their number in the standby's
    registry may differ); an alias points at the standby's copy of the primary's version.
    """
    missing = sorted(v for v in source_versions if v not in copied)
    # aliases of versions not copied yet are set by the second plan, after this run copies them
    wanted = {alias: copied[v] for alias, v in source_aliases.items() if v in copied}
    set_aliases = {a: v for a, v in sorted(wanted.items()) if target_aliases.get(a) != v}
    drop = sorted(a for a in target_aliases if a not in source_aliases)
    return ModelPlan(model, missing, set_aliases, drop)


def _split(value: str) -> list[str]:
    return [v for v in (s.strip() for s in value.split(",")) if v]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="replicate")
    parser.add_argument("--source_catalog", required=True)
    parser.add_argument("--schemas", default="")
    parser.add_argument("--models", default="")
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:  # pragma: no cover - wiring (needs a Databricks runtime)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import mlflow  # type: ignore[import-not-found]
    from pyspark.sql import SparkSession  # type: ignore[import-not-found]

    spark = SparkSession.builder.getOrCreate()
    schemas = _split(args.schemas)
    tables_of = {}
    for schema in schemas:
        source = shared_schema(args.source_catalog, schema)
        tables_of[source] = [row["tableName"] for row in spark.sql(f"SHOW TABLES IN {source}").collect()]
    failures = []
    for copy in plan_tables(args.source_catalog, schemas, tables_of):
        try:
            spark.sql(f"CREATE OR REPLACE TABLE {copy.target} AS SELECT * FROM {copy.source}")
        except Exception as exc:
            failures.append(f"{copy.source}: {exc}")

    mlflow.set_registry_uri("databricks-uc")
    client = mlflow.MlflowClient()
    for model in _split(args.models):
        source = f"{args.source_catalog}.{model.split('.', 1)[1]}"
        try:
            src = client.search_model_versions(f"name='{source}'")
            dst = client.search_model_versions(f"name='{model}'")
            # Unity Catalog's search results carry no tags (mlflow ModelVersionSearch): read each version's own.
            copied = {int(client.get_model_version(model, v.version).tags.get("copied_from_version", -1)):
                      int(v.version) for v in dst}
            src_aliases = {a: int(v) for a, v in (client.get_registered_model(source).aliases or {}).items()}
            dst_aliases = {a: int(v) for a, v in (client.get_registered_model(model).aliases or {}).items()} \
                if dst else {}
            plan = plan_models(model, [int(v.version) for v in src], src_aliases, dst_aliases, copied)
            for version in plan.copy_versions:
                new = client.copy_model_version(f"models:/{source}/{version}", model)
                client.set_model_version_tag(model, new.version, "copied_from_version", str(version))
                copied[version] = int(new.version)
            final = plan_models(model, [int(v.version) for v in src], src_aliases, dst_aliases, copied)
            for alias, version in final.set_aliases.items():
                client.set_registered_model_alias(model, alias, str(version))
            for alias in final.drop_aliases:
                client.delete_registered_model_alias(model, alias)
        except Exception as exc:
            failures.append(f"{model}: {exc}")
    if failures:
        raise SystemExit("standby copy failed: " + "; ".join(failures))
    return 0


if __name__ == "__main__":  # pragma: no cover
    main()
