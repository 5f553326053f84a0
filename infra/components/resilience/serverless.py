"""A job of one serverless Python-file task running a module of the `jobs/` package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_databricks as dbx

if TYPE_CHECKING:
    from infra.config.serving import Schedule

# A spark_python_task on serverless jobs compute names an `environments` entry by environment_key
# (terraform-provider-databricks docs/resources/job.md: environment_key "Required for some tasks
# (spark_python_task, python_wheel_task, ...) running on serverless compute").
ENVIRONMENT_KEY = "default"
# Serverless environment version 5 ships MLflow 3.8.1 and databricks-sdk (Databricks docs, "Serverless environment
# version 5"), as the retention and promotion jobs use; the job modules import only those and the standard library.
ENVIRONMENT_VERSION = "5"


def python_task(task_key: str, python_file: str, parameters: Sequence[str]) -> dbx.JobTaskArgs:
    return dbx.JobTaskArgs(
        task_key=task_key, environment_key=ENVIRONMENT_KEY, max_retries=0,
        spark_python_task=dbx.JobTaskSparkPythonTaskArgs(
            python_file=python_file, source="WORKSPACE", parameters=list(parameters)))


def environments() -> list[dbx.JobEnvironmentArgs]:
    return [dbx.JobEnvironmentArgs(environment_key=ENVIRONMENT_KEY,
                                   spec=dbx.JobEnvironmentSpecArgs(environment_version=ENVIRONMENT_VERSION))]


def job_params(values: Mapping[str, str]) -> list[dbx.JobParameterArgs]:
    return [dbx.JobParameterArgs(name=k, default=v) for k, v in values.items()]


def scheduled(schedule: Schedule, paused: bool, run_as_application_id: str,
              failure_recipients: Sequence[str]) -> dict[str, Any]:
    """The Job arguments every platform job shares: its schedule, one run at a time, its run-as principal and who
    hears of a failure."""
    return {
        "schedule": dbx.JobScheduleArgs(quartz_cron_expression=schedule.quartz, timezone_id=schedule.timezone,
                                        pause_status="PAUSED" if paused else "UNPAUSED"),
        "max_concurrent_runs": 1,
        "run_as": dbx.JobRunAsArgs(service_principal_name=run_as_application_id),
        "email_notifications": dbx.JobEmailNotificationsArgs(on_failures=list(failure_recipients))
        if failure_recipients else None,
    }


def task_opts(parent: pulumi.Resource, provider: dbx.Provider,
         depends_on: Sequence[pulumi.Input[pulumi.Resource]]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on))
