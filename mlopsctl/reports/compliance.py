"""The compliance report: every control of a stack with its status and evidence, from a plan and its policy results.

Four kinds of control, each with one row per control:

- policy rule: a rule of the pack (infra/policy/rules) other than the deploy-readiness ones;
- Azure built-in policy: a built-in Azure Policy definition a rule encodes (the rule's source names it, `AzP ...`);
  its status is that of the rules that encode it;
- grant matrix row: a (securable, principal) -> privileges row of the Grants the plan declares; its status is
  that of the rules' verdicts on the resource that declares it;
- deploy-readiness rule: a rule of infra/policy/rules/deploy (what Azure and Databricks check only at `up`).

Statuses: fail (a mandatory violation), warn (an advisory one: relaxed on purpose, or unknown at preview), pass,
n/a (a resource rule with nothing of its types in the plan), disabled (switched off in the stack's enforcement).
Rendered as Markdown and as one self-contained HTML page (inline CSS, no script, nothing fetched).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from infra.config import PROJECT_DIR
from infra.policy.offline import Report, Verdict
from infra.policy.rules import Rule
from infra.policy.rules.types import GRANT, GRANTS

Status = Literal["fail", "warn", "pass", "n/a", "disabled"]
STATUSES: tuple[Status, ...] = ("fail", "warn", "pass", "n/a", "disabled")  # worst first
KINDS = ("policy rule", "Azure built-in policy", "grant matrix row", "deploy-readiness rule")
HEADINGS = {"policy rule": "Policy rules", "Azure built-in policy": "Azure built-in policies",
            "grant matrix row": "Grant matrix rows", "deploy-readiness rule": "Deploy-readiness rules"}
DEPLOY_RULES_PACKAGE = "infra.policy.rules.deploy"
_AZP = re.compile(r"^AzP\s+(.+)$")
# Grants inputs: which key names the securable (pulumi_databricks.GrantsArgs), in the report's words.
SECURABLE_KEYS = {"catalog": "catalog", "schema": "schema", "externalLocation": "external location",
                  "storageCredential": "storage credential", "volume": "volume", "table": "table",
                  "model": "model", "function": "function", "metastore": "metastore"}


@dataclass(frozen=True)
class Control:
    kind: str
    id: str
    title: str
    status: Status
    evidence: tuple[str, ...]
    source: str = ""

    @property
    def anchor(self) -> str:
        """A stable HTML id: stack-independent, unique within its kind."""
        return "ctl-" + re.sub(r"[^a-z0-9]+", "-", f"{self.kind} {self.id}".lower()).strip("-")


@dataclass
class ComplianceReport:
    stack: str
    first_deploy: bool
    resources: int
    enforcement: str  # the enforcement file the statuses come from
    controls: list[Control] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Control]:
        return [c for c in self.controls if c.kind == kind]

    def count(self, status: Status, kind: str | None = None) -> int:
        return sum(1 for c in self.controls if c.status == status and (kind is None or c.kind == kind))

    @property
    def verdict(self) -> str:
        return "FAIL" if self.count("fail") else "PASS"

    @property
    def exit_code(self) -> int:
        return 1 if self.count("fail") else 0


def worst(statuses: Iterable[Status]) -> Status:
    return min(statuses, key=STATUSES.index, default="n/a")


def is_deploy_rule(rule: Rule) -> bool:
    return getattr(rule.check, "__module__", "").startswith(DEPLOY_RULES_PACKAGE + ".")


def builtin_policies(rule: Rule) -> list[str]:
    """The Azure built-in policies a rule's source names ('AzP <name>; CKV_...' -> ['<name>'])."""
    return [m.group(1).strip() for part in rule.source.split(";") if (m := _AZP.match(part.strip()))]


def _status(verdicts: Sequence[Verdict]) -> Status:
    if any(v.enforcement == "mandatory" for v in verdicts):
        return "fail"
    return "warn" if verdicts else "pass"


def _verdict_lines(verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    return tuple(f"{v.enforcement}: {v.resource}: {v.message}" for v in verdicts)


def _rule_control(rule: Rule, kind: str, report: Report, types: Sequence[str]) -> Control:
    level = report.config.level(rule.name)
    title = f"{rule.description} ({rule.severity})"
    if level == "disabled":
        return Control(kind, rule.name, title, "disabled",
                       (f"disabled in {report.config.source}",), rule.source)
    verdicts = [v for v in report.verdicts if v.rule == rule.name]
    if rule.kind == "resource":
        checked = [t for t in types if rule.applies_to(t)]
        if not checked and not verdicts:
            return Control(kind, rule.name, title, "n/a",
                           ("no resource of the types it checks in this plan",), rule.source)
        scope = f"checked {len(checked)} resource(s) ({', '.join(sorted({_short(t) for t in checked}))})"
    else:
        scope = f"checked the whole stack ({report.resources} resources)"
    status = _status(verdicts)
    evidence = (f"{scope}; enforcement {level}",
                *(_verdict_lines(verdicts) or ("no violation",)))
    return Control(kind, rule.name, title, status, evidence, rule.source)


def _relative(path: object) -> str:
    """The enforcement file as the repository names it (an absolute path elsewhere)."""
    text = str(path)
    root = str(PROJECT_DIR.resolve()) + "/"
    return text[len(root):] if text.startswith(root) else text


def _short(typ: str) -> str:
    """'databricks:index/grants:Grants' -> 'databricks Grants'."""
    return f"{typ.split(':', 1)[0]} {typ.rsplit(':', 1)[-1]}"


def _grant_controls(resources: Sequence[Mapping[str, Any]], report: Report) -> list[Control]:
    by_urn: dict[str, list[Verdict]] = {}
    for v in report.verdicts:
        if v.urn:
            by_urn.setdefault(v.urn, []).append(v)
    out: list[Control] = []
    for res in resources:
        if res.get("type") not in (GRANTS, GRANT):
            continue
        inputs = res.get("inputs") or {}
        kind, securable = next(((word, str(inputs[key])) for key, word in SECURABLE_KEYS.items() if key in inputs),
                               ("securable", "?"))
        rows = inputs.get("grants") if res["type"] == GRANTS else [inputs]
        verdicts = by_urn.get(res["urn"], [])
        for row in rows or []:
            principal = str(row.get("principal", "?"))
            privileges = ", ".join(sorted(str(p) for p in row.get("privileges") or ()))
            evidence = (f"declared by {res['name']} ({_short(res['type'])})",
                        *(_verdict_lines(verdicts) or ("no rule reports a violation on it",)))
            out.append(Control("grant matrix row", f"{kind} {securable} / {principal}",
                               f"{principal} on {kind} {securable}: {privileges}", _status(verdicts), evidence))
    return sorted(out, key=lambda c: c.id)


def build(doc: Mapping[str, Any], report: Report) -> ComplianceReport:
    """Every control of the plan `doc`, with `report` (check_plan over the same plan) as the policy results."""
    resources: list[Mapping[str, Any]] = list(doc.get("resources") or [])
    types = [str(r["type"]) for r in resources if r.get("custom", True)]
    out = ComplianceReport(stack=report.stack, first_deploy=doc.get("firstDeploy") is True,
                           resources=report.resources, enforcement=_relative(report.config.source))
    builtins: dict[str, list[Control]] = {}
    for rule in report.rules:
        kind = "deploy-readiness rule" if is_deploy_rule(rule) else "policy rule"
        control = _rule_control(rule, kind, report, types)
        out.controls.append(control)
        for name in builtin_policies(rule):
            builtins.setdefault(name, []).append(control)
    for name, encoded_by in sorted(builtins.items()):
        out.controls.append(Control(
            "Azure built-in policy", name, f"Azure Policy built-in definition '{name}'",
            worst(c.status for c in encoded_by),
            tuple(f"encoded by rule {c.id}: {c.status}" for c in encoded_by),
            "Azure Policy built-in definitions (Azure/azure-policy built-in-policies)"))
    out.controls.extend(_grant_controls(resources, report))
    return out


# --- Markdown ---

def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: ComplianceReport) -> str:
    phase = ", first deploy" if report.first_deploy else ""
    lines = [f"# Compliance report: stack `{report.stack}`{phase}", "",
             f"**{report.verdict}**: {len(report.controls)} controls over {report.resources} resources; "
             + ", ".join(f"{report.count(s)} {s}" for s in STATUSES)
             + f" (enforcement: `{report.enforcement}`).", ""]
    for kind in KINDS:
        controls = report.of_kind(kind)
        lines += [f"## {HEADINGS[kind]} ({len(controls)})", ""]
        if not controls:
            lines += ["None in this plan.", ""]
            continue
        lines += ["| control | status | evidence |", "|---|---|---|"]
        for c in controls:
            lines.append(f"| `{_md_cell(c.id)}`<br>{_md_cell(c.title)} | **{c.status}** | "
                         + "<br>".join(_md_cell(e) for e in c.evidence) + " |")
        lines.append("")
    return "\n".join(lines)


# --- HTML (self-contained: inline style, no script, no external reference) ---

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:2px solid #d0d7de}
h3{font-size:1.05rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font-size:.85em}
.status{font-weight:bold;text-transform:uppercase;white-space:nowrap}
.fail{color:#fff;background:#cf222e}.warn{background:#fff8c5}.pass{color:#1a7f37}
.n-a,.disabled{color:#6e7781}
.summary span{display:inline-block;margin-right:1rem}
ul{margin:0;padding-left:1.1rem}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _css_class(status: Status) -> str:
    return status.replace("/", "-")


def _stack_section(report: ComplianceReport) -> str:
    phase = " (first deploy)" if report.first_deploy else ""
    parts = [f'<section class="stack" id="stack-{_e(report.stack)}" data-stack="{_e(report.stack)}">',
             f"<h2>Stack {_e(report.stack)}{phase}: "
             f'<span class="status {_css_class("fail" if report.exit_code else "pass")}">{report.verdict}</span></h2>',
             '<p class="summary">' + "".join(f"<span>{report.count(s)} {s}</span>" for s in STATUSES)
             + f"<span>{len(report.controls)} controls, {report.resources} resources; enforcement "
             f"<code>{_e(report.enforcement)}</code></span></p>"]
    for kind in KINDS:
        controls = report.of_kind(kind)
        parts.append(f'<h3 id="{_e(report.stack)}-{kind.lower().replace(" ", "-")}">{_e(HEADINGS[kind])} '
                     f"({len(controls)})</h3>")
        if not controls:
            parts.append("<p>None in this plan.</p>")
            continue
        parts.append("<table><thead><tr><th>control</th><th>status</th><th>evidence</th></tr></thead><tbody>")
        for c in controls:
            evidence = "".join(f"<li>{_e(x)}</li>" for x in c.evidence)
            source = f"<br><small>source: {_e(c.source)}</small>" if c.source else ""
            parts.append(
                f'<tr id="{_e(report.stack)}-{c.anchor}" class="control" data-stack="{_e(report.stack)}" '
                f'data-kind="{_e(c.kind)}" data-control="{_e(c.id)}" data-status="{c.status}">'
                f"<td><code>{_e(c.id)}</code><br>{_e(c.title)}{source}</td>"
                f'<td class="status {_css_class(c.status)}">{c.status}</td><td><ul>{evidence}</ul></td></tr>')
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(reports: Sequence[ComplianceReport]) -> str:
    """One page; one section per stack (the command writes one stack's, a test may render several)."""
    stacks = ", ".join(r.stack for r in reports)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Compliance report: {_e(stacks)}</title>", f"<style>{_CSS}</style></head><body>",
        f"<h1>Compliance report: {_e(stacks)}</h1>",
        "<p>Each control with its status and evidence, from the offline plan and the policy pack's results "
        "with the stack's enforcement. fail = mandatory violation; warn = advisory (relaxed on purpose or "
        "unknown at preview); n/a = nothing of its types in the plan.</p>",
        *(_stack_section(r) for r in reports), "</body></html>", ""])
