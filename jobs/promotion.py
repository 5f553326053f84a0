"""Validate the retrained challenger against the champion; promote it by alias only when it passes.

Two entry points, one per task of the drift -> retrain job (infra/components/serving/retraining.py):

    validate --model c.s.m --min-accuracy 0.8 --max-accuracy-drop 0 --max-latency-p95-ms 200 --max-error-rate 0.01
        reads the versions the challenger and champion aliases name and the metrics their training runs
        logged (`accuracy`, `latency_p95_ms`, `error_rate`); a failing challenger fails the task, so the job's
        failure notifications tell the environment's destinations; a passing one is handed to the next task
        as the task value `challenger_version`.
    promote --model c.s.m --version N
        moves the champion alias to N, only if the challenger alias still names N (a newer retrain in between
        must be validated first).

The decisions (`validate`, `evaluate`, `promote`) are pure over a small `Registry` protocol; `MlflowRegistry`
is the real one (MLflow's Unity Catalog registry). Aliases, new versions and alias moves need ownership of the
registered model, which the platform gives the job's run-as principal (databricks-sdk, catalog.py,
RegisteredModelsAPI: "To update ... aliases, create a new model version ... users must be owners").
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

ACCURACY, LATENCY_P95, ERROR_RATE = "accuracy", "latency_p95_ms", "error_rate"
METRICS = (ACCURACY, LATENCY_P95, ERROR_RATE)
CHALLENGER_ALIAS, CHAMPION_ALIAS = "Challenger", "Champion"  # the seed's alias names


@dataclass(frozen=True)
class Gate:
    """What a challenger must reach: absolute limits, and no more accuracy lost against the champion."""

    min_accuracy: float
    max_accuracy_drop: float
    max_latency_p95_ms: float
    max_error_rate: float


@dataclass(frozen=True)
class Candidate:
    version: int
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class Decision:
    model: str
    passed: bool
    challenger: int | None
    champion: int | None
    reasons: tuple[str, ...]  # every failed check; empty when it passed

    def summary(self) -> str:
        against = f"champion version {self.champion}" if self.champion is not None else "no champion yet"
        if self.challenger is None:
            return f"{self.model}: nothing to validate: {'; '.join(self.reasons)}"
        if self.passed:
            return f"{self.model}: challenger version {self.challenger} passed against {against}"
        return (f"{self.model}: challenger version {self.challenger} rejected against {against}: "
                + "; ".join(self.reasons))


class Registry(Protocol):
    def version_by_alias(self, model: str, alias: str) -> int | None: ...
    def metrics_of(self, model: str, version: int) -> Mapping[str, float]: ...
    def set_alias(self, model: str, alias: str, version: int) -> None: ...


class PromotionRefused(Exception):
    """The alias was not moved; the message says why."""


def _metric(candidate: Candidate, key: str, who: str, reasons: list[str]) -> float | None:
    value = candidate.metrics.get(key)
    if value is None or not math.isfinite(value):
        reasons.append(f"{who} version {candidate.version} logged no {key}")
        return None
    return float(value)


def validate(model: str, challenger: Candidate, champion: Candidate | None, gate: Gate) -> Decision:
    """Every check the challenger fails, as reasons; it passes when there are none."""
    reasons: list[str] = []
    accuracy = _metric(challenger, ACCURACY, "challenger", reasons)
    latency = _metric(challenger, LATENCY_P95, "challenger", reasons)
    errors = _metric(challenger, ERROR_RATE, "challenger", reasons)
    if accuracy is not None and accuracy < gate.min_accuracy:
        reasons.append(f"accuracy {accuracy:g} is below the minimum {gate.min_accuracy:g}")
    if latency is not None and latency > gate.max_latency_p95_ms:
        reasons.append(f"latency p95 {latency:g} ms is above the maximum {gate.max_latency_p95_ms:g} ms")
    if errors is not None and errors > gate.max_error_rate:
        reasons.append(f"error rate {errors:g} is above the maximum {gate.max_error_rate:g}")
    if champion is not None and accuracy is not None:
        # A champion without the metric cannot be compared: the challenger then only has to meet the limits.
        best = champion.metrics.get(ACCURACY)
        if best is not None and math.isfinite(best) and accuracy < best - gate.max_accuracy_drop - 1e-12:
            reasons.append(f"accuracy {accuracy:g} is more than {gate.max_accuracy_drop:g} below the champion's "
                           f"{best:g}")
    return Decision(model, not reasons, challenger.version, champion.version if champion else None, tuple(reasons))


def evaluate(registry: Registry, model: str, gate: Gate, challenger_alias: str = CHALLENGER_ALIAS,
             champion_alias: str = CHAMPION_ALIAS) -> Decision:
    """Validate what the challenger alias names against what the champion alias names (if anything)."""
    challenger = registry.version_by_alias(model, challenger_alias)
    if challenger is None:
        return Decision(model, False, None, None,
                        (f"no version carries the alias {challenger_alias!r} (training sets it on the version "
                         "it registers)",))
    champion = registry.version_by_alias(model, champion_alias)
    if champion == challenger:
        return Decision(model, False, challenger, champion,
                        (f"version {challenger} already carries {champion_alias!r}; nothing new to promote",))
    challenger_c = Candidate(challenger, registry.metrics_of(model, challenger))
    champion_c = Candidate(champion, registry.metrics_of(model, champion)) if champion is not None else None
    return validate(model, challenger_c, champion_c, gate)


def promote(registry: Registry, model: str, version: int, challenger_alias: str = CHALLENGER_ALIAS,
            champion_alias: str = CHAMPION_ALIAS) -> str:
    """Move the champion alias to `version`, only while the challenger alias still names it."""
    current = registry.version_by_alias(model, challenger_alias)
    if current != version:
        raise PromotionRefused(f"{model}: {challenger_alias!r} now names version {current}, not the validated "
                               f"version {version}; the newer challenger must be validated first")
    previous = registry.version_by_alias(model, champion_alias)
    registry.set_alias(model, champion_alias, version)
    was = f"version {previous}" if previous is not None else "no version"
    return f"{model}: {champion_alias!r} moved from {was} to version {version}"


class MlflowRegistry:
    """The Unity Catalog model registry through MLflow (imported only when a job runs)."""

    def __init__(self) -> None:
        from mlflow import MlflowClient  # type: ignore[import-not-found]  # the job environment has it

        self.client = MlflowClient(registry_uri="databricks-uc")

    def version_by_alias(self, model: str, alias: str) -> int | None:
        # The registered model's aliases as a dict (alias -> version; mlflow RegisteredModel.aliases): a missing
        # alias is a missing key, not an error code to recognise.
        version = self.client.get_registered_model(model).aliases.get(alias)
        return int(version) if version is not None else None

    def metrics_of(self, model: str, version: int) -> Mapping[str, float]:
        run_id = self.client.get_model_version(model, str(version)).run_id
        return dict(self.client.get_run(run_id).data.metrics) if run_id else {}

    def set_alias(self, model: str, alias: str, version: int) -> None:
        self.client.set_registered_model_alias(model, alias, str(version))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="promotion", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("validate", "promote"):
        s = sub.add_parser(name)
        s.add_argument("--model", required=True, help="catalog.schema.model")
        s.add_argument("--challenger-alias", default=CHALLENGER_ALIAS)
        s.add_argument("--champion-alias", default=CHAMPION_ALIAS)
        s.add_argument("--min-accuracy", type=float, required=True)
        s.add_argument("--max-accuracy-drop", type=float, required=True)
        s.add_argument("--max-latency-p95-ms", type=float, required=True)
        s.add_argument("--max-error-rate", type=float, required=True)
    return p


def run(argv: Sequence[str], registry: Registry) -> tuple[int, str]:
    """(exit code, report) of one task; 0 passed/promoted, 1 rejected/refused.

    `promote` validates again whatever the challenger alias names when it runs and moves the champion only on a
    pass: no version is handed from task to task (task values can be set only from notebooks, and an unset
    reference reaches the task as literal text: Databricks docs, "Use task values to pass information between
    tasks"), and a retrain that moved the challenger in between is judged on its own metrics."""
    args = parser().parse_args(list(argv))
    gate = Gate(args.min_accuracy, args.max_accuracy_drop, args.max_latency_p95_ms, args.max_error_rate)
    decision = evaluate(registry, args.model, gate, args.challenger_alias, args.champion_alias)
    if args.command == "validate" or not decision.passed or decision.challenger is None:
        return (0 if decision.passed else 1), decision.summary()
    try:
        return 0, promote(registry, args.model, decision.challenger, args.challenger_alias, args.champion_alias)
    except PromotionRefused as exc:
        return 1, str(exc)


def main(argv: Sequence[str] | None = None) -> int:
    code, report = run(sys.argv[1:] if argv is None else argv, MlflowRegistry())
    print(report)
    if code:  # a failed task is what the job's failure notifications report
        raise SystemExit(report)
    return 0


if __name__ == "__main__":
    main()
