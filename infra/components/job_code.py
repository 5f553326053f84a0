"""The platform's job code (the `jobs/` package) uploaded to the workspace as workspace files.

One `databricks.WorkspaceFile` per module, under one folder per environment. The provider creates missing
parent folders on create (terraform-provider-databricks, workspace/resource_workspace_file.go: on a
"parent does not exist" error it calls Workspace.MkdirsByPath and uploads again). `md5` is the file's hash,
so a change to the code shows in the plan and redeploys the file; a job refers to `paths[module]`, the
`/Workspace/...` path a `spark_python_task.python_file` takes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_databricks as dbx

JOBS_DIR = Path(__file__).resolve().parents[2] / "jobs"
# Pulumi.yaml's `main`: the engine starts the program and its providers there (pulumi/pulumi
# pkg/engine/project.go getPwdMain; plugin.go sets the plugin's cmd.Dir to it), so a provider reads a relative
# `source` from this directory.
PROGRAM_DIR = Path(__file__).resolve().parents[1]
# Workspace folder of the platform's job code, at the workspace root: only workspace admins can create objects there,
# while every user can manage what is under /Shared, and a subfolder cannot take an inherited permission away
# (Databricks docs, "Access control lists"). The jobs run this code as the CI/CD principal.
WORKSPACE_DIR = "/mlops-platform/jobs"


def source_of(module: str) -> Path:
    path = JOBS_DIR / f"{module}.py"
    if not path.is_file():
        raise ValueError(f"jobs/{module}.py does not exist: job code is a module of the jobs/ package")
    return path


def relative_source(module: str) -> str:
    """The module's file relative to the program's directory: no path of the planning machine in the plan."""
    return os.path.relpath(source_of(module), PROGRAM_DIR)


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def workspace_path(module: str) -> str:
    """The path a job task names (workspace files are addressed under /Workspace)."""
    return f"/Workspace{WORKSPACE_DIR}/{module}.py"


@dataclass(frozen=True)
class JobCodeArgs:
    modules: Sequence[str]  # module names under jobs/, e.g. "retention"
    provider: dbx.Provider
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


@dataclass(frozen=True)
class JobCodeFolderArgs:
    provider: dbx.Provider
    admins_group: str            # CAN_MANAGE
    cicd_application_id: str     # CAN_READ: the jobs run the code as this principal
    # the group and the principal must be workspace principals before a permission names them
    depends_on: Sequence[pulumi.Input[pulumi.Resource]] = ()


class JobCodeFolder(pulumi.ComponentResource):
    """mlops:platform:JobCodeFolder: the workspace folder of the job code, writable by the admins only.

    Declared once per workspace; each JobCode uploads into it (the provider creates a missing parent folder, and
    creating this one when it exists is a mkdirs that succeeds)."""

    def __init__(self, name: str, args: JobCodeFolderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:JobCodeFolder", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on))
        self.directory = dbx.Directory("job-code-folder", path=WORKSPACE_DIR, opts=child)
        self.permissions = dbx.Permissions(
            "job-code-folder-permissions", directory_path=self.directory.path,
            access_controls=[
                dbx.PermissionsAccessControlArgs(group_name=args.admins_group, permission_level="CAN_MANAGE"),
                dbx.PermissionsAccessControlArgs(service_principal_name=args.cicd_application_id,
                                                 permission_level="CAN_READ"),
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider))
        self.register_outputs({"path": WORKSPACE_DIR})


class JobCode(pulumi.ComponentResource):
    """mlops:platform:JobCode: the job modules a workspace runs, uploaded from the repo as they are."""

    files: dict[str, dbx.WorkspaceFile]
    paths: dict[str, str]

    def __init__(self, name: str, args: JobCodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("mlops:platform:JobCode", name, None, opts)
        self.files, self.paths = {}, {}
        for module in dict.fromkeys(args.modules):
            source = source_of(module)
            self.files[module] = dbx.WorkspaceFile(
                f"job-code-{module}",
                path=f"{WORKSPACE_DIR}/{module}.py",
                source=relative_source(module),
                md5=md5_of(source),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on)))
            self.paths[module] = workspace_path(module)
        self.register_outputs({"paths": self.paths})
