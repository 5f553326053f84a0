"""The restore drill: restores a sample of feature tables from history into a scratch schema, compares counts
and checks that the registry's aliases resolve; a failed run e-mails the admins' recipients.

The job runs `jobs/drill.py` (uploaded by JobCode) on serverless jobs compute as the CI/CD principal, which holds
exactly what it needs through the grant table (`StackConfig.run_as_grants`): SELECT on the tables' schemas,
CREATE TABLE and MODIFY in the scratch schema, EXECUTE on the models' schemas. It declares its reads as the
`uc_reads` job parameter, which the deploy-readiness rule `run-as-identity-privileges` checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_databricks as dbx

from infra.components.job_code import JobCode, JobCodeArgs
from infra.components.resilience.serverless import environments, job_params, python_task, scheduled, task_opts
from infra.config.resilience import DrillConfig

MODULE = "drill"
TASK = "restore_drill"
READS_PARAM = "uc_reads"  # the deploy-readiness rule reads it (infra/policy/rules/deploy/unity_catalog.py)


@dataclass(frozen=True)
class RestoreDrillArgs:
    config: DrillConfig
    stack: str
    paused: bool
    provider: dbx.Provider
    run_as_application_id: str
    admins_group: str                   # CAN_MANAGE_RUN: run it on demand
    tags: Mapping[str, str] = field(default_factory=dict)
    # the scratch schema, the grants and serverless network access to the lake
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


class RestoreDrill(pulumi.ComponentResource):
    """mlops:platform:RestoreDrill: the scheduled restore drill job and who may run it."""

    job: dbx.Job

    def __init__(self, name: str, args: RestoreDrillArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:RestoreDrill", name, None, opts)
        cfg = args.config
        code = JobCode(f"{name}-code", JobCodeArgs(modules=[MODULE], provider=args.provider,
                                                   depends_on=list(args.depends_on)),
                       opts=pulumi.ResourceOptions(parent=self))
        params = {
            "tables": ",".join(cfg.tables), "sample": str(cfg.sample), "versions_back": str(cfg.versions_back),
            "scratch_schema": cfg.scratch_schema, "models": ",".join(cfg.models),
            READS_PARAM: ",".join(cfg.tables),
        }
        self.job = dbx.Job(
            f"{name}-job", name=f"{args.stack}-restore-drill",
            description="Restores a sample of feature tables from an earlier version into "
                        f"{cfg.scratch_schema}, compares row counts and checks that the registry's aliases resolve.",
            tasks=[python_task(TASK, code.paths[MODULE],
                               [f"--{k}={{{{job.parameters.{k}}}}}" for k in params if k != READS_PARAM])],
            environments=environments(),
            parameters=job_params(params),
            **scheduled(cfg.schedule, args.paused, args.run_as_application_id, cfg.failure_recipients),
            tags=dict(args.tags),
            opts=task_opts(self, args.provider, [code, *args.depends_on]))
        self.permissions = dbx.Permissions(
            f"{name}-permissions", job_id=self.job.id,
            access_controls=[dbx.PermissionsAccessControlArgs(group_name=args.admins_group,
                                                              permission_level="CAN_MANAGE_RUN")],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"job": self.job.name})
