"""Lakehouse Monitoring: an InferenceLog quality monitor on each served endpoint's inference table.

Only endpoints whose table exists are passed in (`monitor.tableExists`, the rollout's phase 2); a monitor on
a missing table fails at create time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from infra.config.serving import Endpoint


@dataclass(frozen=True)
class MonitoringArgs:
    endpoints: Sequence[Endpoint]                   # deployable endpoints with an existing monitored table
    endpoint_resources: Mapping[str, pulumi.Resource]  # endpoint name -> its ModelServing
    provider: dbx.Provider
    warehouse_id: pulumi.Input[str]                 # for the monitor's dashboard
    schemas: Mapping[str, pulumi.Resource] = field(default_factory=dict)  # "catalog.schema" -> UC schema
    # Refreshes run on serverless compute: the NCC binding and approved private endpoints to the lake.
    network_ready: Sequence[pulumi.Input[pulumi.Resource]] = ()


class Monitoring(pulumi.ComponentResource):
    """mlops:platform:Monitoring: one quality monitor per monitored endpoint (keyed by endpoint name)."""

    monitors: dict[str, dbx.QualityMonitor]

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Monitoring", name, None, opts)
        self.monitors = {}
        for ep in args.endpoints:
            mon = ep.monitor
            assert mon is not None  # callers pass monitored endpoints only
            table_schema = mon.table_name.rsplit(".", 1)[0]
            # The endpoint fills the table; the output schema receives the metric tables.
            depends: list[pulumi.Input[pulumi.Resource]] = [args.endpoint_resources[ep.name]]
            depends += [args.schemas[s] for s in (table_schema, mon.output_schema_full) if s in args.schemas]
            depends += list(args.network_ready)
            self.monitors[ep.name] = dbx.QualityMonitor(
                f"{ep.name}-monitor",
                table_name=mon.table_name,
                output_schema_name=mon.output_schema_full,
                assets_dir=mon.assets_path,
                baseline_table_name=mon.baseline_table,
                slicing_exprs=mon.slicing_exprs or None,
                inference_log=dbx.QualityMonitorInferenceLogArgs(
                    problem_type=mon.api_problem_type, prediction_col=mon.prediction_col, label_col=mon.label_col,
                    timestamp_col=mon.timestamp_col, model_id_col=mon.model_id_col,
                    prediction_proba_col=mon.prediction_proba_col, granularities=list(mon.granularities)),
                custom_metrics=[dbx.QualityMonitorCustomMetricArgs(
                    name=m.name, type=m.api_type, input_columns=m.input_columns, definition=m.definition,
                    output_data_type=m.struct_field_json) for m in mon.custom_metrics] or None,
                schedule=dbx.QualityMonitorScheduleArgs(
                    quartz_cron_expression=mon.schedule.quartz, timezone_id=mon.schedule.timezone),
                notifications=dbx.QualityMonitorNotificationsArgs(
                    on_failure=dbx.QualityMonitorNotificationsOnFailureArgs(email_addresses=mon.failure_recipients)),
                warehouse_id=args.warehouse_id,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=depends))
        self.register_outputs({"monitors": {k: m.table_name for k, m in self.monitors.items()}})
