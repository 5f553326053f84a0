"""A job of one serverless Python-file task running a module of the `jobs/` package."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_databricks as dbx

# A spark_python_task on serverless jobs compute names an `environments` entry by environment_key
# (terraform-provider-databricks docs/resources/job.md: environment_key "Required for some tasks
# (spark_python_task, python_wheel_task, ...) running on serverless compute").
ENVIRONMENT_KEY = "default"
# Serverless environment version 2 ships mlflow-skinny and databricks-sdk (Databricks docs, "Serverless
# environment versions"); the job modules import only those and the standard library.
ENVIRONMENT_VERSION = "2"


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


def task_opts(parent: pulumi.Resource, provider: dbx.Provider,
         depends_on: Sequence[pulumi.Input[pulumi.Resource]]) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on))
