"""The CrossGuard pack: it builds without the engine, lists the same rules as the offline check, and its
policies call the shared rules (through pulumi_policy's own analyzer servicer, without starting gRPC)."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import PolicyCustomTimeouts, _PolicyAnalyzerServicer

from infra.policy.enforcement import PolicyConfig, load_config
from infra.policy.offline import check_plan, provider_urn
from infra.policy.pack import PACK_NAME, build_policies, pack_arguments
from infra.policy.rules import RULES
from mlopsctl.reports.policy_report import list_rules
from tests.support import plan_of

PACK_DIR = Path(__file__).resolve().parent.parent / "infra" / "policy"
SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_pack_entry_point_builds_the_policy_pack_without_starting_the_analyzer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    captured: dict[str, Any] = {}

    class Recorder:  # stands in for PolicyPack, whose constructor starts the gRPC server
        def __init__(self, **kwargs: Any) -> None:
            captured.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", Recorder)
    runpy.run_path(str(PACK_DIR / "__main__.py"), run_name="__main__")
    assert captured["name"] == PACK_NAME
    assert captured["enforcement_level"] == EnforcementLevel.MANDATORY
    assert [p.name for p in captured["policies"]] == [r.name for r in RULES]
    assert len(captured["policies"]) >= 40


def test_pulumipolicy_yaml_runs_python_from_the_project_virtualenv() -> None:
    import yaml

    doc = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert doc["runtime"]["name"] == "python"
    venv = (PACK_DIR / doc["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == PACK_DIR.parent.parent / ".venv"
    assert doc["version"]


def test_pack_and_offline_check_list_the_same_rules() -> None:
    pack = [(p.name, p.severity.value if p.severity else None, type(p).__name__) for p in build_policies()]
    listed = [line.split() for line in list_rules("prod", None).splitlines()]
    assert [(name, sev) for name, sev, _, _ in listed] == [(name, sev) for name, sev, _ in pack]
    kinds = {"ResourceValidationPolicy": "resource", "StackValidationPolicy": "stack"}
    assert [kind for *_, kind in listed] == [kinds[k] for *_, k in pack]


def _servicer() -> _PolicyAnalyzerServicer:
    args = pack_arguments()
    return _PolicyAnalyzerServicer(args["name"], "0.1.0", args["policies"], args["enforcement_level"], None,
                                   args["description"], None, None, args["provider"])


def _configure(servicer: _PolicyAnalyzerServicer, config: PolicyConfig) -> None:
    """As the CLI does with --policy-pack-config: one PolicyConfig per policy ('all' expanded)."""
    request = proto.ConfigureAnalyzerRequest()
    levels = {"mandatory": proto.MANDATORY, "advisory": proto.ADVISORY, "disabled": proto.DISABLED}
    for rule in RULES:
        entry = request.policyConfig[rule.name]
        entry.enforcementLevel = levels[config.level(rule.name)]
        if config.settings(rule.name):
            entry.properties.update(dict(config.settings(rule.name)))
    servicer.Configure(request, None)


def test_analyzer_info_carries_name_severity_type_and_config_schema() -> None:
    info = _servicer().GetAnalyzerInfo(None, None)
    assert info.name == PACK_NAME and info.supportsConfig
    by_name = {p.name: p for p in info.policies}
    assert list(by_name) == [r.name for r in RULES]
    for rule in RULES:
        policy = by_name[rule.name]
        assert policy.description == rule.description
        assert proto.PolicySeverity.Name(policy.severity) == f"POLICY_SEVERITY_{rule.severity.upper()}"
        expected = proto.PolicyType.POLICY_TYPE_RESOURCE if rule.kind == "resource" else \
            proto.PolicyType.POLICY_TYPE_STACK
        assert policy.policy_type == expected
        assert set(policy.configSchema.properties) == set(rule.config_schema)
    assert "adminGroups" in by_name["uc-no-broad-privileges-to-non-admins"].configSchema.properties


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(dict(value), struct_pb2.Struct())


def _analyze_request(res: Any, props: Mapping[str, Any] | None = None) -> Any:
    provider = provider_urn(res.provider)
    return proto.AnalyzeRequest(
        type=res.type, properties=_struct(res.inputs if props is None else props), urn=res.urn, name=res.name,
        options=proto.AnalyzerResourceOptions(protect=res.protect, parent=res.parent or ""),
        provider=proto.AnalyzerProviderResource(type=provider.split("::")[2], urn=provider,
                                                name=provider.rsplit("::", 1)[-1]) if provider else None)


def _diagnostics(response: Any) -> list[tuple[str, str, str]]:
    return [(d.policyName, proto.EnforcementLevel.Name(d.enforcementLevel), d.message) for d in response.diagnostics]


@pytest.mark.parametrize(("stack", "level"), [("dev", "ADVISORY"), ("test", "ADVISORY"), ("prod", "MANDATORY")])
def test_analyzer_enforces_each_stacks_config(stack: str, level: str) -> None:
    """The dev workspace (public front end) through CrossGuard's Analyze with each stack's config file."""
    servicer = _servicer()
    _configure(servicer, load_config(stack))
    ws = plan_of("dev").one("azure-native:databricks:Workspace")
    found = [d for d in _diagnostics(servicer.Analyze(_analyze_request(ws), None))
             if d[0] == "databricks-workspace-public-network-disabled"]
    assert found == [("databricks-workspace-public-network-disabled", level,
                      "Azure Databricks workspaces should disable public network access (front-end private link).\n"
                      "publicNetworkAccess is 'Enabled'; must be 'Disabled' (reachable only through private "
                      "endpoints)")]


def test_analyzer_reports_values_unknown_at_preview_as_advisory() -> None:
    servicer = _servicer()
    _configure(servicer, load_config("prod"))
    ws = plan_of("prod").one("azure-native:databricks:Workspace")
    props = {**ws.inputs, "publicNetworkAccess": SENTINEL}
    found = [d for d in _diagnostics(servicer.Analyze(_analyze_request(ws, props), None))
             if d[0] == "databricks-workspace-public-network-disabled"]
    assert found == [("databricks-workspace-public-network-disabled", "ADVISORY",
                      "can't run policy 'databricks-workspace-public-network-disabled' from policy pack "
                      f"'{PACK_NAME}@v0.1.0' during preview: publicNetworkAccess is unknown at preview; the rule is "
                      "checked again when the value is known")]


def _fake_resource_args(res: Any, config: PolicyConfig, policy: str) -> ResourceValidationArgs:
    opts = PolicyResourceOptions(res.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], res.parent)
    provider = provider_urn(res.provider)
    prov = PolicyProviderResource(provider.split("::")[2], {}, provider, provider.rsplit("::", 1)[-1]) \
        if provider else None
    return ResourceValidationArgs(res.type, res.inputs, res.urn, res.name, opts, prov, dict(config.settings(policy)))


def _fake_stack_args(plan: Any, config: PolicyConfig, policy: str) -> StackValidationArgs:
    """Stack resources as CrossGuard passes them: no ids, links through parents and dependencies."""
    by_urn: dict[str, PolicyResource] = {}
    for res in plan.resources:
        opts = PolicyResourceOptions(res.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], res.parent)
        by_urn[res.urn] = PolicyResource(res.type, res.inputs, res.urn, res.name, opts, None, None, [], {})
    for res in plan.resources:
        by_urn[res.urn].parent = by_urn.get(res.parent or "")
        by_urn[res.urn].dependencies = [by_urn[d] for d in res.dependencies if d in by_urn]
    return StackValidationArgs(list(by_urn.values()), dict(config.settings(policy)))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_crossguard_policies_and_offline_check_give_the_same_verdicts(stack: str) -> None:
    """Every CrossGuard policy's validate over the real offline plan == the offline check over its JSON."""
    plan, config = plan_of(stack), load_config(stack)
    offline = sorted((v.rule, v.urn or "", v.message) for v in check_plan(plan.as_json(), stack, config).verdicts
                     if not v.unknown)
    crossguard: list[tuple[str, str, str]] = []
    for policy in build_policies():
        if isinstance(policy, ResourceValidationPolicy):
            for res in plan.resources:
                policy.validate(_fake_resource_args(res, config, policy.name),
                                lambda msg, urn=None, p=policy.name, r=res.urn: crossguard.append((p, r, msg)))
        else:
            assert isinstance(policy, StackValidationPolicy)
            policy.validate(_fake_stack_args(plan, config, policy.name),
                            lambda msg, urn=None, p=policy.name: crossguard.append((p, urn or "", msg)))
    assert sorted(crossguard) == offline
