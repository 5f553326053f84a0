"""The drift -> retrain job, one per monitored endpoint, as the seed's workflow describes:

    drift_detection (notebook; sets task value all_violations_count)
      -> check_violations (condition: all_violations_count > 0)
        -> model_training (notebook; runs only on outcome "true"; registers a version, sets the challenger alias)
          -> validate_challenger (jobs/promotion.py validate: the gate from config; a rejection fails the run)
            -> promote_champion (jobs/promotion.py promote: moves the champion alias to the validated version)

A failed run (a rejected challenger included) notifies the environment's destinations: the drift alerts'
e-mail addresses and webhook, besides the job's own failure recipients.

Notebook tasks without a cluster run on serverless jobs compute. The job runs as the CI/CD principal, so a
retrain registers the model under the same identity as the promotion pipeline.

The job declares what it touches in Unity Catalog as job parameters, so a policy rule can check that its
run-as principal holds the privileges (and notebooks can read them as `{{job.parameters.<name>}}`):
`uc_reads` (comma-separated tables it SELECTs) and `uc_registers_models` (three-part names of the models it
registers new versions of). The grants themselves come from the same config (ServingConfig.run_as_grants).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from infra.config.serving import Endpoint
from infra.config.serving import Retraining as RetrainingConfig

DRIFT_TASK = "drift_detection"
CHECK_TASK = "check_violations"
TRAIN_TASK = "model_training"
VALIDATE_TASK = "validate_challenger"
PROMOTE_TASK = "promote_champion"
# Serverless environment of the python-file tasks (Databricks docs, "Serverless environment version 5": MLflow
# 3.8.1 and databricks-sdk preinstalled), as the retention job uses: nothing to install on top.
PROMOTION_ENV = "promotion"
PROMOTION_ENV_VERSION = "5"
PROMOTION_DEPENDENCIES: tuple[str, ...] = ()
# Job parameters declaring the job's Unity Catalog reads and model registrations (checked by a policy rule).
READS_PARAM = "uc_reads"
REGISTERS_PARAM = "uc_registers_models"


@dataclass(frozen=True)
class RetrainingArgs:
    config: RetrainingConfig
    endpoints: Sequence[Endpoint]               # monitored endpoints
    monitors: Mapping[str, dbx.QualityMonitor]  # endpoint name -> its monitor
    provider: dbx.Provider
    run_as_application_id: str
    ml_engineers_group: str                     # CAN_MANAGE_RUN (start a retrain by hand)
    data_scientists_group: str                  # CAN_VIEW
    tags: Mapping[str, str] = field(default_factory=dict)
    promotion_file: str = ""                    # workspace path of jobs/promotion.py (JobCode.paths)
    notify_emails: Sequence[str] = ()           # the environment's alert e-mail addresses
    notify_destination_ids: Sequence[pulumi.Input[str]] = ()  # its webhook notification destinations
    # Serverless jobs compute: the NCC binding and approved private endpoints to the lake.
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


def declared_reads(tables: Sequence[str | None]) -> str:
    return ",".join(dict.fromkeys(t for t in tables if t))


def _with_metric_tables(tables: Sequence[str | None], metric_tables: Sequence[str]) -> str:
    return declared_reads([*tables, *metric_tables])


class Retraining(pulumi.ComponentResource):
    """mlops:platform:Retraining: the drift-triggered retraining workflow of each monitored endpoint."""

    jobs: dict[str, dbx.Job]
    permissions: dict[str, dbx.Permissions]

    def __init__(self, name: str, args: RetrainingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Retraining", name, None, opts)
        cfg = args.config
        self.jobs, self.permissions = {}, {}
        for ep in args.endpoints:
            mon = ep.monitor
            assert mon is not None
            monitor = args.monitors[ep.name]
            thresholds = {a.metric: str(a.threshold) for a in mon.drift_alerts}
            drift_params: dict[str, pulumi.Input[str]] = {
                "endpoint_name": ep.name,
                "monitored_table": mon.table_name,
                "drift_metrics_table": monitor.drift_metrics_table_name,
                "profile_metrics_table": monitor.profile_metrics_table_name,
                **{f"{metric}_threshold": value for metric, value in thresholds.items()},
            }
            own_reads = [mon.table_name, mon.baseline_table]
            reads = pulumi.Output.all(monitor.drift_metrics_table_name, monitor.profile_metrics_table_name).apply(
                functools.partial(_with_metric_tables, own_reads))
            models = ",".join(dict.fromkeys(e.entity_name for e in ep.entities))
            recipients = list(dict.fromkeys([*cfg.failure_recipients, *args.notify_emails]))
            job = dbx.Job(
                f"{ep.name}-drift-retrain",
                name=f"{ep.name}-drift-retrain",
                description=f"Drift detection on {mon.table_name}; retrains {ep.entities[0].entity_name} when "
                            "the monitor reports violations.",
                tasks=[
                    dbx.JobTaskArgs(
                        task_key=DRIFT_TASK,
                        notebook_task=dbx.JobTaskNotebookTaskArgs(
                            notebook_path=cfg.drift_notebook, base_parameters=drift_params)),
                    dbx.JobTaskArgs(
                        task_key=CHECK_TASK,
                        depends_ons=[dbx.JobTaskDependsOnArgs(task_key=DRIFT_TASK)],
                        condition_task=dbx.JobTaskConditionTaskArgs(
                            op="GREATER_THAN",
                            left=f"{{{{tasks.{DRIFT_TASK}.values.all_violations_count}}}}",
                            right="0")),
                    dbx.JobTaskArgs(
                        task_key=TRAIN_TASK,
                        depends_ons=[dbx.JobTaskDependsOnArgs(task_key=CHECK_TASK, outcome="true")],
                        notebook_task=dbx.JobTaskNotebookTaskArgs(
                            notebook_path=cfg.training_notebook,
                            base_parameters={"model_name": ep.entities[0].entity_name, "endpoint_name": ep.name,
                                             "challenger_alias": cfg.promotion.challenger_alias})),
                    dbx.JobTaskArgs(
                        task_key=VALIDATE_TASK,
                        depends_ons=[dbx.JobTaskDependsOnArgs(task_key=TRAIN_TASK)],
                        environment_key=PROMOTION_ENV,
                        spark_python_task=dbx.JobTaskSparkPythonTaskArgs(
                            python_file=args.promotion_file,
                            parameters=cfg.promotion.task_parameters(ep.entities[0].entity_name))),
                    dbx.JobTaskArgs(
                        task_key=PROMOTE_TASK,
                        depends_ons=[dbx.JobTaskDependsOnArgs(task_key=VALIDATE_TASK)],
                        environment_key=PROMOTION_ENV,
                        spark_python_task=dbx.JobTaskSparkPythonTaskArgs(
                            python_file=args.promotion_file,
                            parameters=cfg.promotion.task_parameters(ep.entities[0].entity_name, "promote"))),
                ],
                environments=[dbx.JobEnvironmentArgs(
                    environment_key=PROMOTION_ENV,
                    spec=dbx.JobEnvironmentSpecArgs(environment_version=PROMOTION_ENV_VERSION,
                                                    dependencies=list(PROMOTION_DEPENDENCIES)))],
                schedule=dbx.JobScheduleArgs(
                    quartz_cron_expression=cfg.schedule.quartz, timezone_id=cfg.schedule.timezone,
                    pause_status="PAUSED" if cfg.paused else "UNPAUSED"),
                parameters=[dbx.JobParameterArgs(name=READS_PARAM, default=reads),
                            dbx.JobParameterArgs(name=REGISTERS_PARAM, default=models)],
                max_concurrent_runs=1,
                run_as=dbx.JobRunAsArgs(service_principal_name=args.run_as_application_id),
                email_notifications=dbx.JobEmailNotificationsArgs(on_failures=recipients) if recipients else None,
                webhook_notifications=dbx.JobWebhookNotificationsArgs(on_failures=[
                    dbx.JobWebhookNotificationsOnFailureArgs(id=d) for d in args.notify_destination_ids])
                if args.notify_destination_ids else None,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                            depends_on=[monitor, *args.depends_on]))
            self.jobs[ep.name] = job
            self.permissions[ep.name] = dbx.Permissions(
                f"{ep.name}-drift-retrain-permissions",
                job_id=job.id,
                access_controls=[
                    dbx.PermissionsAccessControlArgs(group_name=args.ml_engineers_group,
                                                     permission_level="CAN_MANAGE_RUN"),
                    dbx.PermissionsAccessControlArgs(group_name=args.data_scientists_group,
                                                     permission_level="CAN_VIEW"),
                ],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"jobs": list(self.jobs)})
