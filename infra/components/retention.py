"""The registry retention job: `jobs/retention.py` on a schedule, on serverless jobs compute.

The job reads each registry schema's `retention_days` property (set by the Unity Catalog component from
`retentionDays`) and removes model versions past it that no alias points to and no endpoint serves
(see jobs/retention.py). It runs as the CI/CD principal, whose grants on those schemas come from the same
config (governance.retention_grants via StackConfig.run_as_grants). Outside prod it only reports (dry run)
unless `governance.retention.apply` says otherwise.

A serverless `spark_python_task` needs a job `environments` entry and the task's `environment_key`
(Databricks docs, "Configure the serverless environment"; the provider's JobEnvironment / JobTask
environment_key).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from infra.components.job_code import JobCode, JobCodeArgs
from infra.config.serving import Schedule

MODULE = "retention"
TASK = "enforce_retention"
ENVIRONMENT = "retention"
# Serverless environment version 5 brings the job's two libraries, databricks-sdk and MLflow (3.8.1, for the
# archive copy) (Databricks docs, "Serverless environment version 5"); nothing is installed on top, so no pip
# resolution can clash with the preinstalled MLflow.
ENVIRONMENT_VERSION = "5"


@dataclass(frozen=True)
class RetentionArgs:
    stack: str
    schemas: Sequence[str]                       # catalog.schema names with retention_days, enforced
    apply: bool                                  # False: dry run (report only)
    schedule: Schedule
    run_as_application_id: str                   # the CI/CD principal
    provider: dbx.Provider
    archive_schema: str | None = None
    protected_versions: Sequence[str] = ()       # catalog.schema.model:version the stack's endpoints pin
    failure_recipients: Sequence[str] = ()
    ml_engineers_group: str | None = None        # CAN_MANAGE_RUN (a run by hand)
    tags: Mapping[str, str] = field(default_factory=dict)
    # The schemas (their retention property), the grants the principal needs, the serverless network.
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


def job_parameters(args: RetentionArgs) -> list[str]:
    params = ["--schemas", ",".join(args.schemas), "--apply", "true" if args.apply else "false"]
    if args.archive_schema:
        params += ["--archive-schema", args.archive_schema]
    if args.protected_versions:
        params += ["--protect", ",".join(args.protected_versions)]
    return params


class Retention(pulumi.ComponentResource):
    """mlops:platform:Retention: the job code and the scheduled job that enforce registry retention."""

    code: JobCode
    job: dbx.Job
    permissions: dbx.Permissions | None

    def __init__(self, name: str, args: RetentionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:Retention", name, None, opts)
        self.code = JobCode("job-code", JobCodeArgs(modules=[MODULE], provider=args.provider),
                            opts=pulumi.ResourceOptions(parent=self))
        mode = "deletes or archives" if args.apply else "reports (dry run)"
        self.job = dbx.Job(
            f"{args.stack}-registry-retention",
            name=f"mlops-{args.stack}-registry-retention",
            description=f"Registry retention: {mode} model versions past their schema's retention_days in "
                        f"{', '.join(args.schemas)}; never a version behind an alias or a serving endpoint.",
            tasks=[dbx.JobTaskArgs(
                task_key=TASK,
                environment_key=ENVIRONMENT,
                spark_python_task=dbx.JobTaskSparkPythonTaskArgs(
                    python_file=self.code.paths[MODULE], source="WORKSPACE", parameters=job_parameters(args)))],
            environments=[dbx.JobEnvironmentArgs(
                environment_key=ENVIRONMENT,
                spec=dbx.JobEnvironmentSpecArgs(environment_version=ENVIRONMENT_VERSION))],
            schedule=dbx.JobScheduleArgs(quartz_cron_expression=args.schedule.quartz,
                                         timezone_id=args.schedule.timezone, pause_status="UNPAUSED"),
            max_concurrent_runs=1,
            run_as=dbx.JobRunAsArgs(service_principal_name=args.run_as_application_id),
            email_notifications=dbx.JobEmailNotificationsArgs(on_failures=list(args.failure_recipients))
            if args.failure_recipients else None,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                        depends_on=[*self.code.files.values(), *args.depends_on]))
        self.permissions = None
        if args.ml_engineers_group:
            self.permissions = dbx.Permissions(
                f"{args.stack}-registry-retention-permissions",
                job_id=self.job.id,
                access_controls=[dbx.PermissionsAccessControlArgs(group_name=args.ml_engineers_group,
                                                                  permission_level="CAN_MANAGE_RUN")],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"job": self.job.name})
