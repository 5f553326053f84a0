"""The job-code uploader: one workspace file per module, the hash of the file as its md5, a path jobs can run."""

from __future__ import annotations

import hashlib

import pytest

from infra.components import job_code


def test_workspace_path_is_under_workspace_and_the_platform_folder() -> None:
    assert job_code.workspace_path("retention") == "/Workspace/mlops-platform/jobs/retention.py"


def test_md5_is_the_hash_of_the_file_so_a_code_change_shows_in_the_plan(tmp_path) -> None:
    f = tmp_path / "x.py"
    f.write_text("print(1)\n")
    assert job_code.md5_of(f) == hashlib.md5(b"print(1)\n").hexdigest()
    f.write_text("print(2)\n")
    assert job_code.md5_of(f) == hashlib.md5(b"print(2)\n").hexdigest()


def test_a_module_that_is_not_in_the_jobs_package_is_refused() -> None:
    with pytest.raises(ValueError, match=r"jobs/nope\.py does not exist"):
        job_code.source_of("nope")


def test_the_package_itself_is_found() -> None:
    assert job_code.source_of("__init__").name == "__init__.py"


def _imported_roots(path) -> set[str]:
    import ast

    tree = ast.parse(path.read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                roots.add(".")
            elif node.module:
                roots.add(node.module.split(".")[0])
    return roots


ALLOWED_THIRD_PARTY = {"mlflow", "databricks", "pyspark"}


@pytest.mark.parametrize("path", sorted(job_code.JOBS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_each_job_module_is_self_contained(path) -> None:
    """The workspace holds one file per job: an import of a sibling module, infra or mlopsctl fails there."""
    import sys

    foreign = {r for r in _imported_roots(path)
               if r not in sys.stdlib_module_names and r not in ALLOWED_THIRD_PARTY and r != "__future__"}
    assert not foreign, f"{path.name} imports {sorted(foreign)}: job code may import only the standard library, " \
                        f"{sorted(ALLOWED_THIRD_PARTY)}"


def test_the_self_contained_check_catches_a_sibling_import(tmp_path) -> None:
    f = tmp_path / "x.py"
    f.write_text("from jobs import other\nimport infra.config\nfrom . import y\nimport json\n")
    assert _imported_roots(f) == {"jobs", "infra", ".", "json"}


def test_the_source_resolves_from_the_directory_the_engine_runs_the_providers_in() -> None:
    """Finding: `source` was relative to the project root, but the engine starts the program and its providers in
    Pulumi.yaml's `main` directory (pulumi/pulumi pkg/engine/project.go getPwdMain), so the Databricks provider
    looked for infra/jobs/<module>.py and the upload failed on the real path."""
    import yaml

    from infra.config import PROJECT_DIR

    main = PROJECT_DIR / yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["main"]
    for module in ("__init__",):
        relative = job_code.relative_source(module)
        assert not relative.startswith("/")
        assert (main / relative).resolve() == job_code.source_of(module)


CICD = {"dev": "5a1c2e3d-4b5f-4a6b-8c7d-9e0f1a2b3c4d", "test": "6b2d3f4e-5c6a-4b7c-9d8e-0f1a2b3c4d5e",
        "prod": "7c3e4a5f-6d7b-4c8d-ae9f-1a2b3c4d5e6f"}


@pytest.mark.parametrize("stack", sorted(CICD))
def test_the_job_code_folder_is_writable_by_the_admins_only(stack: str) -> None:
    """Finding: the code the jobs run as the CI/CD principal sat under /Shared, where every user has CAN MANAGE and
    a subfolder cannot take an inherited permission away, so any user could change what that principal runs. The
    folder is at the workspace root (only admins create there) with the admins and the CI/CD principal only."""
    from tests.support import plan_of

    plan = plan_of(stack)
    folder = plan.one("databricks:index/directory:Directory", "job-code-folder")
    assert folder.inputs["path"] == "/mlops-platform/jobs" and not folder.inputs["path"].startswith("/Shared")
    acl = plan.one("databricks:index/permissions:Permissions", "job-code-folder-permissions").inputs
    assert acl["directoryPath"] == "/mlops-platform/jobs"
    assert acl["accessControls"] == [
        {"groupName": "mlops-platform-admins", "permissionLevel": "CAN_MANAGE"},
        {"servicePrincipalName": CICD[stack], "permissionLevel": "CAN_READ"}]
    files = plan.by_type("databricks:index/workspaceFile:WorkspaceFile")
    assert files and all(f.inputs["path"].startswith("/mlops-platform/jobs/") for f in files)
