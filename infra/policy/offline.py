"""The offline check: every resource and stack rule over a plan JSON (README 'The plan JSON'), no engine needed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from infra.policy.enforcement import Level, PolicyConfig, load_config
from infra.policy.rules import RULES, Finding, ResourceView, Rule
from infra.policy.rules.base import SEVERITIES, Severity, with_deploy_phase


def provider_urn(reference: str | None) -> str | None:
    """'urn:...::name::<id>' (a provider reference) -> 'urn:...::name'."""
    if not reference:
        return None
    head, sep, tail = reference.rpartition("::")
    return head if sep and tail and "pulumi:providers:" in head else reference


def view_from_plan(res: Mapping[str, Any]) -> ResourceView:
    return ResourceView(
        type=res["type"], name=res["name"], urn=res["urn"], props=res.get("inputs") or {},
        protect=bool(res.get("protect")), provider=provider_urn(res.get("provider")), parent=res.get("parent"),
        dependencies=tuple(res.get("dependencies") or ()), id=res.get("id") or None,
        retain_on_delete=bool(res.get("retainOnDelete")))


@dataclass(frozen=True)
class Verdict:
    rule: str
    severity: Severity
    enforcement: Level  # effective: a value unknown at preview is only ever advisory
    urn: str | None
    message: str
    unknown: bool = False

    @property
    def resource(self) -> str:
        if not self.urn:
            return "(stack)"
        typ, _, name = self.urn.rpartition("::")
        return f"{typ.rsplit('::', 1)[-1].rsplit('$', 1)[-1].rsplit(':', 1)[-1]} {name}"


@dataclass
class Report:
    stack: str
    config: PolicyConfig
    resources: int
    rules: Sequence[Rule]
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def mandatory(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.enforcement == "mandatory"]

    @property
    def advisory(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.enforcement == "advisory"]

    @property
    def exit_code(self) -> int:
        return 1 if self.mandatory else 0


def _verdicts(rule: Rule, level: Level, findings: Iterable[Finding]) -> list[Verdict]:
    return [Verdict(rule.name, rule.severity, "advisory" if f.unknown else level, f.urn, f.message, f.unknown)
            for f in findings]


def run_rules(views: Sequence[ResourceView], config: PolicyConfig, rules: Sequence[Rule] = RULES,
              first_deploy: bool = False) -> list[Verdict]:
    out: list[Verdict] = []
    for rule in rules:
        level = config.level(rule.name)
        if level == "disabled":
            continue
        settings = with_deploy_phase(config.settings(rule.name), first_deploy)
        if rule.kind == "resource":
            for view in views:
                out.extend(_verdicts(rule, level, rule.run_resource(view, settings)))
        else:
            out.extend(_verdicts(rule, level, rule.run_stack(views, settings)))
    out.sort(key=lambda v: (SEVERITIES.index(v.severity), v.enforcement != "mandatory", v.rule, v.urn or ""))
    return out


def check_plan(doc: Mapping[str, Any], stack: str | None = None, config: PolicyConfig | None = None) -> Report:
    """Run every rule over a plan JSON. `stack` defaults to the plan's; `config` to config/<stack>.json."""
    stack = stack or str(doc.get("stack") or "")
    config = config or load_config(stack)
    resources = doc.get("resources") or []
    views = [view_from_plan(r) for r in resources]
    custom = sum(1 for r in resources if r.get("custom", True))  # components are not counted, as in `plan`
    return Report(stack, config, custom, RULES,
                  run_rules(views, config, first_deploy=doc.get("firstDeploy") is True))
