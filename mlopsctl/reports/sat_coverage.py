"""SAT coverage of a plan: for each of the Security Analysis Tool's Azure checks, is it met by this stack's plan?

met          every rule the check names (infra/sat.py) passes over the plan, and what it needs is declared
relaxed      the stack relaxes it on purpose: the reason from securityPosture.relaxed, or the advisory level of its
             rule in infra/policy/config/<stack>.json (with the finding)
elsewhere    metastore- or account-wide: declared by another stack (the protected one), not in this plan
not met      a mandatory rule fails, or nothing in this project can meet it (the check's gap says why)
runtime      not deploy-time: SAT reads data or usage made after the deploy
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.policy.enforcement import PolicyConfig
from infra.policy.offline import run_rules, view_from_plan
from infra.policy.rules import RULES_BY_NAME
from infra.sat import CHECKS, SatCheck

MET, RELAXED, ELSEWHERE, NOT_MET, RUNTIME = "met", "relaxed", "elsewhere", "not met", "runtime"
STATUSES = (MET, RELAXED, ELSEWHERE, NOT_MET, RUNTIME)


@dataclass(frozen=True)
class Coverage:
    check: SatCheck
    status: str
    why: str


def coverage(doc: Mapping[str, Any], config: PolicyConfig, relaxed: Mapping[str, str] | None = None,
             checks: Sequence[SatCheck] = CHECKS) -> list[Coverage]:
    """Each check's status for the plan JSON `doc` under the stack's enforcement `config`."""
    relaxed = relaxed or {}
    views = [view_from_plan(r) for r in doc.get("resources") or []]
    types = {v.type for v in views}
    first = doc.get("firstDeploy") is True
    out = []
    for check in checks:
        out.append(_one(check, views, types, config, relaxed, first))
    return out


def _one(check: SatCheck, views: Sequence[Any], types: set[str], config: PolicyConfig,
         relaxed: Mapping[str, str], first: bool) -> Coverage:
    if check.kind == "runtime":
        return Coverage(check, RUNTIME, check.setting)
    if check.id in relaxed:
        return Coverage(check, RELAXED, relaxed[check.id])
    if not check.rules:
        return Coverage(check, NOT_MET, check.gap)
    if check.needs and not types.intersection(check.needs):
        return Coverage(check, ELSEWHERE if check.scope != "workspace" else NOT_MET, check.gap)
    verdicts = run_rules(views, config, [RULES_BY_NAME[r] for r in check.rules], first_deploy=first)
    mandatory = [v for v in verdicts if v.enforcement == "mandatory"]
    if mandatory:
        return Coverage(check, NOT_MET, f"{mandatory[0].rule}: {mandatory[0].message}")
    if verdicts:
        v = verdicts[0]
        where = Path(config.source).name if config.source.endswith(".json") else config.source
        return Coverage(check, RELAXED, f"{v.rule} is advisory in {where}: {v.message}")
    return Coverage(check, MET, check.setting)


def counts(rows: Sequence[Coverage]) -> dict[str, int]:
    return {s: sum(1 for r in rows if r.status == s) for s in STATUSES}


def summary(stack: str, rows: Sequence[Coverage]) -> str:
    c = counts(rows)
    deploy = sum(c[s] for s in (MET, RELAXED, ELSEWHERE, NOT_MET))
    return (f"SAT coverage, stack {stack}: {c[MET]} of {deploy} deploy-time checks met ({c[RELAXED]} relaxed, "
            f"{c[ELSEWHERE]} elsewhere, {c[NOT_MET]} not met); {c[RUNTIME]} runtime checks")


def render(stack: str, rows: Sequence[Coverage]) -> str:
    """One line per check (id, status, why), deploy-time first, then the summary."""
    width = max(len(r.check.id) for r in rows)
    order = {s: i for i, s in enumerate(STATUSES)}
    lines = [f"{r.check.id:<{width}}  {r.status:<9}  {r.check.title}: {r.why}"
             for r in sorted(rows, key=lambda r: (order[r.status], r.check.id))]
    return "\n".join([*lines, summary(stack, rows)])
