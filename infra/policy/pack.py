"""The CrossGuard adapter: one pulumi_policy policy per shared rule, calling the same rule function.

CrossGuard hands resource properties through a proxy that raises UnknownValueError on values unknown at
preview; the adapter converts them to the rules' UNKNOWN so a rule decides what an unknown means. A finding
that depends on an unknown value is raised as UnknownValueError, which CrossGuard reports as an advisory
"can't be known during preview" diagnostic, never as a mandatory failure.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

from infra.policy.rules import RULES, Finding, ResourceView, Rule
from infra.policy.rules.base import UNKNOWN, is_unknown, with_deploy_phase

PACK_NAME = "mlops-platform-policies"
DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY


def plain(value: Any) -> Any:
    """CrossGuard's unknown-checking proxies -> plain dicts/lists, unknowns -> UNKNOWN."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return UNKNOWN if is_unknown(value) else value


def view_from_args(args: ResourceValidationArgs) -> ResourceView:
    return ResourceView(
        type=args.resource_type, name=args.name, urn=args.urn, props=plain(args.props),
        protect=bool(args.opts.protect) if args.opts else False,
        provider=args.provider.urn if args.provider else None,
        parent=args.opts.parent if args.opts else None,
        retain_on_delete=None)  # PolicyResourceOptions carries no retainOnDelete: unknown, not false


def view_from_policy_resource(res: PolicyResource) -> ResourceView:
    props = plain(res.props)
    ident = props.get("id")
    return ResourceView(
        type=res.resource_type, name=res.name, urn=res.urn, props=props,
        protect=bool(res.opts.protect) if res.opts else False,
        provider=res.provider.urn if res.provider else None,
        parent=res.parent.urn if res.parent else None,
        dependencies=tuple(d.urn for d in res.dependencies),
        id=ident if isinstance(ident, str) and not is_unknown(ident) else None,
        retain_on_delete=None)  # PolicyResourceOptions carries no retainOnDelete: unknown, not false


@functools.cache
def first_deploy(stack: str) -> bool:
    """deploy.firstDeploy of the stack being previewed, from its stack file (the pack runs in the checkout;
    `pulumi config set --path deploy.firstDeploy true` writes it there). Unreadable: steady state."""
    from infra.config import PROJECT, ConfigError, read_stack_file

    try:
        deploy = read_stack_file(stack).get(f"{PROJECT}:deploy")
    except ConfigError:
        return False
    return isinstance(deploy, Mapping) and deploy.get("firstDeploy") is True


def _settings(config: Mapping[str, Any] | None, urn: str) -> dict[str, Any]:
    return with_deploy_phase(config, first_deploy(ResourceView(type="", name="", urn=urn, props={}).stack))


def report(findings: Iterable[Finding], report_violation: ReportViolation, stack: bool) -> None:
    """Violations go to CrossGuard; a finding that hangs on an unknown value becomes its advisory diagnostic."""
    undecided = []
    for f in findings:
        if f.unknown:
            undecided.append(f)
        else:
            report_violation(f.message, f.urn if stack else None)
    if undecided:
        error = UnknownValueError(UNKNOWN_STRING_VALUE, [])
        error.message = "; ".join(f.message for f in undecided)
        raise error


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    if not rule.config_schema:
        return None
    return PolicyConfigSchema({k: dict(v) for k, v in rule.config_schema.items()})


def _resource_policy(rule: Rule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if rule.applies_to(args.resource_type):
            view = view_from_args(args)
            report(rule.run_resource(view, _settings(args.get_config(), view.urn)), report_violation, stack=False)

    return ResourceValidationPolicy(
        name=rule.name, description=rule.description, validate=validate, severity=Severity(rule.severity),
        config_schema=_schema(rule),
        tags=[rule.kind], url=None, remediation_steps=f"Source: {rule.source}" if rule.source else None)


def _stack_policy(rule: Rule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        views = [view_from_policy_resource(r) for r in args.resources]
        settings = _settings(args.get_config(), views[0].urn) if views else args.get_config()
        report(rule.run_stack(views, settings), report_violation, stack=True)

    return StackValidationPolicy(
        name=rule.name, description=rule.description, validate=validate, severity=Severity(rule.severity),
        config_schema=_schema(rule),
        tags=[rule.kind], remediation_steps=f"Source: {rule.source}" if rule.source else None)


def build_policies() -> list[Policy]:
    """One CrossGuard policy per shared rule (same name, description, severity)."""
    return [_resource_policy(r) if r.kind == "resource" else _stack_policy(r) for r in RULES]


def pack_arguments() -> dict[str, Any]:
    """PolicyPack's keyword arguments (__main__ passes them; tests build the analyzer from them)."""
    return {"name": PACK_NAME, "policies": build_policies(), "enforcement_level": DEFAULT_ENFORCEMENT,
            "description": "Azure Databricks MLOps platform: Azure built-in policy conditions, Unity Catalog "
                           "governance, serving/monitoring and platform conventions",
            "provider": "azure"}
