"""The recovery posture of a stack, read from its plan JSON: what protects its data and how it comes back.

One row per aspect (lake redundancy, soft delete, lock, protection, key vault recovery, standby, share,
drill), each with what the plan declares and whether it meets prod's bar (`ok`); dev and test show their
cheaper choices as `relaxed`. Only the plan is read, so it works on any plan JSON (`mlopsctl plan --json`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.config.resilience import GEO_READ_SKUS, PROD_MIN_SOFT_DELETE_DAYS
from infra.policy.rules import types as T
from infra.policy.rules.conventions import STATEFUL

FAILOVER_GROUP = "databricks:index/disasterRecoveryFailoverGroup:DisasterRecoveryFailoverGroup"
SHARE = "databricks:index/share:Share"
RECIPIENT = "databricks:index/recipient:Recipient"
DRILL_COMPONENT = "mlops:platform:RestoreDrill"
STANDBY_COMPONENT = "mlops:platform:StandbyReplication"


@dataclass(frozen=True)
class Row:
    aspect: str
    state: str
    ok: bool

    @property
    def verdict(self) -> str:
        return "ok" if self.ok else "relaxed"


def _inputs(res: Mapping[str, Any]) -> Mapping[str, Any]:
    value = res.get("inputs") or {}
    return value if isinstance(value, Mapping) else {}


def _of(doc: Mapping[str, Any], typ: str) -> list[Mapping[str, Any]]:
    return [r for r in doc.get("resources", []) if r.get("type") == typ]


def _jobs_under(doc: Mapping[str, Any], component: str) -> list[Mapping[str, Any]]:
    parents = {r["urn"] for r in doc.get("resources", []) if r.get("type") == component}
    return [r for r in _of(doc, T.JOB) if r.get("parent") in parents]


def _schedule(job: Mapping[str, Any]) -> str:
    sched = _inputs(job).get("schedule") or {}
    return (f"{sched.get('quartzCronExpression', '?')} {sched.get('timezoneId', '')} "
            f"({str(sched.get('pauseStatus', 'UNPAUSED')).lower()})")


def posture(doc: Mapping[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for account in _of(doc, T.STORAGE_ACCOUNT):
        inp = _inputs(account)
        sku = str((inp.get("sku") or {}).get("name", "missing"))
        rows.append(Row(f"lake redundancy ({inp.get('accountName', account.get('name'))})", sku,
                        sku in GEO_READ_SKUS))
    for service in _of(doc, T.BLOB_SERVICE):
        inp = _inputs(service)
        blob = inp.get("deleteRetentionPolicy") or {}
        cont = inp.get("containerDeleteRetentionPolicy") or {}
        days = [p.get("days") if p.get("enabled") else 0 for p in (blob, cont)]
        rows.append(Row("soft delete (blobs, containers)", f"{days[0]} days, {days[1]} days",
                        all(isinstance(d, int) and d >= PROD_MIN_SOFT_DELETE_DAYS for d in days)))
    locks = [_inputs(r).get("level") for r in _of(doc, T.RG_LOCK)]
    rows.append(Row("resource group lock", ", ".join(map(str, locks)) or "none", "CanNotDelete" in locks))
    stateful = [r for r in doc.get("resources", []) if r.get("type") in STATEFUL]
    protected = sum(1 for r in stateful if r.get("protect"))
    # (the resource group is not retained on purpose: its CanNotDelete lock guards it)
    kept = [r for r in stateful if r.get("type") != T.RESOURCE_GROUP]
    retained = sum(1 for r in kept if r.get("retainOnDelete"))
    rows.append(Row("pulumi protect (stateful resources)", f"{protected} of {len(stateful)}",
                    bool(stateful) and protected == len(stateful)))
    rows.append(Row("retain on delete (data and keys)", f"{retained} of {len(kept)}",
                    bool(kept) and retained == len(kept)))
    for vault in _of(doc, T.VAULT):
        props = _inputs(vault).get("properties") or {}
        purge = bool(props.get("enablePurgeProtection"))
        days = props.get("softDeleteRetentionInDays", 90)
        rows.append(Row("key vault recovery", f"soft delete {days} days, purge protection "
                        f"{'on' if purge else 'off'}", purge))
    rows.append(_standby_row(doc))
    shares = _of(doc, SHARE)
    if shares:
        recipients = [str(_inputs(r).get("dataRecipientGlobalMetastoreId", "?")) for r in _of(doc, RECIPIENT)]
        schemas = sum(len(_inputs(s).get("objects") or []) for s in shares)
        rows.append(Row("share to the standby", f"{schemas} schema(s) to {', '.join(recipients) or 'no recipient'}",
                        bool(recipients)))
    drills = _jobs_under(doc, DRILL_COMPONENT)
    running = any((_inputs(j).get("schedule") or {}).get("pauseStatus") == "UNPAUSED" for j in drills)
    rows.append(Row("restore drill", "; ".join(f"{_inputs(j).get('name')}: {_schedule(j)}" for j in drills)
                    or "none", running))
    return rows


def _standby_row(doc: Mapping[str, Any]) -> Row:
    groups = _of(doc, FAILOVER_GROUP)
    if groups:
        inp = _inputs(groups[0])
        return Row("standby (this stack)", f"managed failover group {inp.get('failoverGroupId')} "
                   f"({' -> '.join(map(str, inp.get('regions') or []))})", True)
    jobs = _jobs_under(doc, STANDBY_COMPONENT)
    if jobs:
        return Row("standby (this stack)", f"copy job {_inputs(jobs[0]).get('name')}: {_schedule(jobs[0])}", True)
    return Row("standby (this stack)", "no (not a standby)", True)


def render(stack: str, rows: Sequence[Row]) -> str:
    width = max(len(r.aspect) for r in rows)
    lines = [f"recovery posture of stack {stack} (from its plan)"]
    lines += [f"  {r.aspect.ljust(width)}  {r.verdict.ljust(7)}  {r.state}" for r in rows]
    relaxed = sum(1 for r in rows if not r.ok)
    lines.append(f"{relaxed} aspect(s) below prod's bar" if relaxed else "every aspect meets prod's bar")
    return "\n".join(lines)
