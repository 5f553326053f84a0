"""The offline engine: runs the real program (infra/__main__.py) under Pulumi mocks and records a plan.

Each run gets a fresh contextvars context, event loop, mocks and monitor, so runs never leak into each
other (tests run many stacks in one process).
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib.metadata
import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import Stack, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

import infra
from infra.config import PROJECT, PROJECT_DIR, PROJECT_DIR_VAR, ConfigError, read_stack_file
from mlopsctl.plan.ids import stable_uuid
from mlopsctl.plan.mocks import PlatformMocks
from mlopsctl.plan.model import Plan, Resource

PROGRAM = Path(infra.__file__).resolve().parent / "__main__.py"  # the Pulumi program `pulumi up` runs

# The wire format's markers, from the SDK itself (secrets, resource references, unknowns).
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_SPECIAL_SIG_KEY = rpc._special_sig_key
_UNKNOWN = rpc.UNKNOWN
# Pulumi's default provider versions, as the real engine names them (pulumi:providers:<pkg>::default_x_y_z).
_SDK_DISTRIBUTIONS = {"azure-native": "pulumi-azure-native", "databricks": "pulumi-databricks"}


def _default_provider_version(package: str) -> str:
    """The installed SDK's version, as the real engine names default providers (default_3_29_0)."""
    try:
        return importlib.metadata.version(_SDK_DISTRIBUTIONS[package]).replace(".", "_")
    except (KeyError, importlib.metadata.PackageNotFoundError):
        return "0_0_0"


def _plain(value: Any) -> Any:
    """Protobuf Struct JSON -> plan JSON: secrets masked, resource refs as ids, integral floats as ints."""
    if isinstance(value, dict):
        sig = value.get(_SPECIAL_SIG_KEY)
        if sig == _SECRET_SIG:
            return "[secret]"
        if sig == _RESOURCE_SIG:
            return value.get("id") or value.get("urn")
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == _UNKNOWN:
        return None
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor plus a record of what each registration asked for (parent, deps, options)."""

    def __init__(self, mocks: pulumi.runtime.Mocks, plan: Plan) -> None:
        super().__init__(mocks)
        self.plan = plan
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The real engine does not prefix the root stack's type into its children's URNs.
        return super().make_urn("" if parent == self.stack_urn else parent, type_, name)

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        inputs = _plain(json_format.MessageToDict(request.object))
        provider = request.provider or None
        package = request.type.split(":")[0]
        if provider is None and request.custom and package != "pulumi":
            version = _default_provider_version(package)
            urn = f"urn:pulumi:{self.plan.stack}::{self.plan.project}::pulumi:providers:{package}::default_{version}"
            provider = f"{urn}::{stable_uuid(urn)}"
        parent = request.parent or None
        if parent == self.stack_urn:
            parent = None
        self.plan.resources.append(Resource(
            urn=response.urn, type=request.type, name=request.name, id=response.id or "",
            parent=parent, provider=provider, custom=bool(request.custom), protect=bool(request.protect),
            retainOnDelete=bool(request.retainOnDelete),
            dependencies=sorted(set(request.dependencies)), inputs=inputs))
        return response

    def ReadResource(self, request: Any) -> Any:
        """Reads (StackReference, `.get()`) are in the real engine's state too: record them as custom."""
        response = super().ReadResource(request)
        parent = request.parent or None
        self.plan.resources.append(Resource(
            urn=response.urn, type=request.type, name=request.name, id=request.id,
            parent=None if parent == self.stack_urn else parent, provider=request.provider or None,
            custom=True, protect=False, retainOnDelete=False,
            dependencies=sorted(set(request.dependencies)),
            inputs=_plain(json_format.MessageToDict(request.properties))))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn == self.stack_urn:
            self.plan.outputs = _plain(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


def _stringify(raw: dict[str, Any]) -> dict[str, str]:
    """Stack-file values as the real engine hands them to a program: strings, objects as JSON."""
    out = {}
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            out[key] = "[secret]"
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = json.dumps(value)
    return out


def _run_main() -> None:
    runpy.run_path(str(PROGRAM), run_name="__main__")
    # set_mocks registered the stack's outputs before the program ran; register the exports now,
    # as the real engine's run_in_stack does after the program.
    root = get_root_resource()
    if isinstance(root, Stack):
        root._outputs_registered = False
        root._finish()


def run_program(stack: str, raw_config: dict[str, Any], project: str = PROJECT,
                project_dir: Path = PROJECT_DIR, program: Callable[[], None] = _run_main) -> Plan:
    """Run infra/__main__.py against mocks with this config; return the recorded plan.

    Raises ConfigError (with every problem) when the config is invalid; nothing is declared then.
    `program` replaces the Pulumi program (the benchmark's floor registers generic resources instead).
    """
    plan = Plan(project=project, stack=stack)

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        PROJECT_DIR_VAR.set(project_dir)
        try:
            mocks = PlatformMocks()
            pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False,
                                     monitor=RecordingMonitor(mocks, plan))
            set_all_config(_stringify(raw_config))
            _sync_await(run_pulumi_func(program))
        finally:
            loop.close()
            asyncio.set_event_loop(None)

    try:
        contextvars.Context().run(run)
    except pulumi.RunError as exc:
        lines = str(exc).splitlines()
        error = ConfigError([line for line in lines[1:] if line] or lines)
        error.declared = len(plan.resources)  # tests assert that a bad config declares nothing
        raise error from None
    plan.sort()
    return plan


def first_deploy_config(raw: dict[str, Any]) -> dict[str, Any]:
    """The stack config with deploy.firstDeploy on, as `pulumi config set --path deploy.firstDeploy true`."""
    key = f"{PROJECT}:deploy"
    deploy = raw.get(key)
    return {**raw, key: {**(deploy if isinstance(deploy, dict) else {}), "firstDeploy": True}}


def plan_stack(stack: str, project_dir: Path = PROJECT_DIR, first_deploy: bool = False) -> Plan:
    """The offline plan of Pulumi.<stack>.yaml; with `first_deploy`, of its first `up` from nothing."""
    raw = read_stack_file(stack, project_dir)
    if first_deploy:
        raw = first_deploy_config(raw)
    deploy = raw.get(f"{PROJECT}:deploy")
    plan = run_program(stack, raw, project_dir=project_dir)
    plan.first_deploy = isinstance(deploy, dict) and deploy.get("firstDeploy") is True
    return plan
