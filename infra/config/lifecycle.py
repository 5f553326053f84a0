"""The model lifecycle keys: the gate a retrained challenger passes before it gets the champion alias.

`serving.retraining.promotion` (used by the drift -> retrain job's validate and promote tasks, whose code is
jobs/promotion.py) and `serving.endpoints[].entities[].entityAlias` (an endpoint that serves whatever version an
alias names, resolved when the stack deploys) read these.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from infra.config.base import StrictModel, field_problems

# An MLflow alias: letters, digits and underscores; `latest` and `v<digits>` are reserved, as they already mean a
# version (mlflow/utils/validation.py, _validate_model_alias_name).
ALIAS_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


def model_alias(value: str) -> str:
    if not ALIAS_PATTERN.fullmatch(value):
        raise ValueError("is not a model alias; allowed: 1-255 letters, digits and underscores, not starting with "
                         "a digit, e.g. 'Champion'")
    if value.lower() == "latest" or re.fullmatch(r"[vV]\d+", value):
        raise ValueError("is reserved by MLflow (it already names a version); allowed: another name, e.g. "
                         "'Champion'")
    return value


class ValidationGate(StrictModel):
    """What a retrained challenger must reach (on the metrics its training run logs) to become the champion."""

    min_accuracy: float = Field(default=0.8, ge=0, le=1)
    """Lowest `accuracy` (0 to 1) the challenger's training run may log."""
    max_accuracy_drop: float = Field(default=0.0, ge=0, le=1)
    """How far (0 to 1) the challenger's `accuracy` may fall below the champion's; 0: it must be at least as good
    (seed's alert on an accuracy drop: 0.05)."""
    max_latency_p95_ms: float = Field(default=200.0, gt=0, le=60000)
    """Highest `latency_p95_ms` (milliseconds, above 0, at most 60000) the challenger's run may log."""
    max_error_rate: float = Field(default=0.01, ge=0, le=1)
    """Highest `error_rate` (0 to 1, the share of failed predictions) the challenger's run may log."""


class Promotion(StrictModel):
    """Retrain -> validate -> promote: which aliases the job reads and moves, and the gate in between."""

    challenger_alias: str = "Challenger"
    """Alias the training notebook sets on the version it registers; the job validates that version."""
    champion_alias: str = "Champion"
    """Alias a passing challenger gets; endpoints that serve `entityAlias` of it follow on the next deploy."""
    gate: ValidationGate = ValidationGate()
    """The limits the challenger must meet, and how it compares with the champion."""

    @field_validator("challenger_alias", "champion_alias")
    @classmethod
    def _alias(cls, v: str) -> str:
        return model_alias(v)

    @model_validator(mode="after")
    def _distinct(self) -> Promotion:
        if self.challenger_alias.lower() == self.champion_alias.lower():
            raise field_problems([("championAlias", self.champion_alias,
                                   "is the challenger alias too; allowed: a different alias (aliases are "
                                   "case-insensitive)")])
        return self

    def task_parameters(self, model: str, command: str = "validate") -> list[str]:
        """The validate or promote task's command line (jobs/promotion.py): both apply the gate."""
        g = self.gate
        return [command, "--model", model, "--challenger-alias", self.challenger_alias,
                "--champion-alias", self.champion_alias, "--min-accuracy", f"{g.min_accuracy:g}",
                "--max-accuracy-drop", f"{g.max_accuracy_drop:g}", "--max-latency-p95-ms", f"{g.max_latency_p95_ms:g}",
                "--max-error-rate", f"{g.max_error_rate:g}"]


# --- serving patterns ---------------------------------------------------------------------------------------

# What Model Serving can do with several served entities: split traffic by percentage, each request going to
# one entity (Databricks docs, "Serve multiple models to a model serving endpoint": traffic_config routes).
PATTERNS = ("single", "abTest", "blueGreen", "shadow")
AbMetric = Literal["latency_p95", "error_rate", "business_kpi"]
AB_METRICS: tuple[AbMetric, ...] = ("latency_p95", "error_rate", "business_kpi")  # the seed's A/B metrics

SHADOW_REFUSAL = ("is not something Model Serving does: traffic_config routes send each request to exactly one "
                  "served entity (the percentages add up to 100) and nothing is mirrored; allowed: 'single', "
                  "'abTest' or 'blueGreen'; for shadow evaluation, score the endpoint's inference table (every "
                  "request and prediction is logged there) with the candidate version in a batch job and compare "
                  "offline")


class AbTest(StrictModel):
    """An A/B test between two served entities (seed: control 90, treatment 10)."""

    control: str
    """Served entity of the control group (the current champion)."""
    treatment: str
    """Served entity of the treatment group (the challenger)."""
    compare_metrics: list[AbMetric] = Field(
        default=list(AB_METRICS), min_length=1)
    """What the two are compared on (the monitor slices its metrics by model version)."""


def pattern_problems(pattern: str | None, ab_test: AbTest | None, traffic: dict[str, int],
                     ) -> list[tuple[str, object, str]]:
    """What the endpoint's declared serving pattern needs of its entities and routes (key paths under it)."""
    problems: list[tuple[str, object, str]] = []
    names = list(traffic)
    if pattern == "shadow":
        problems.append(("pattern", pattern, SHADOW_REFUSAL))
    elif pattern == "single" and len(names) != 1:
        problems.append(("pattern", pattern, f"serves {len(names)} entities; allowed: exactly one (or pattern "
                                             "'abTest' / 'blueGreen')"))
    elif pattern == "blueGreen":
        if len(names) != 2:
            problems.append(("pattern", pattern, f"serves {len(names)} entities; allowed: exactly two (blue and "
                                                 "green)"))
        elif sorted(traffic.values()) != [0, 100]:
            problems.append(("routes", traffic, "split traffic on a blue/green endpoint; allowed: 100 to one "
                                                "colour and 0 to the other (smoke-test the idle colour, then shift "
                                                "all traffic in one PR)"))
    elif pattern == "abTest":
        if ab_test is None:
            problems.append(("abTest", None, "is required with pattern 'abTest'; allowed: control and treatment "
                                             "(served entity names)"))
        else:
            for key, name in (("abTest.control", ab_test.control), ("abTest.treatment", ab_test.treatment)):
                if name not in traffic:
                    problems.append((key, name, f"names no served entity; allowed: {', '.join(map(repr, names))}"))
                elif traffic[name] <= 0:
                    problems.append((key, name, "gets no traffic; allowed: an entity with a route above 0"))
            if ab_test.control == ab_test.treatment:
                problems.append(("abTest.treatment", ab_test.treatment, "is the control too; allowed: another "
                                                                        "served entity"))
    if ab_test is not None and pattern != "abTest":
        problems.append(("abTest", "(set)", "is only read with pattern 'abTest'; remove it or set the pattern"))
    return problems


def live_alias_problems(is_prod: bool, endpoints: Sequence[Any]) -> list[tuple[str, object, str]]:
    """In prod, traffic goes only to pinned versions: an alias-resolved entity may hold the idle (0%) slot.

    A retrain moves an alias without review; pinning what takes traffic keeps prod's live version a reviewed,
    approved stack-file change (the alias still tells which version to pin).
    """
    if not is_prod:
        return []
    problems: list[tuple[str, object, str]] = []
    for i, ep in enumerate(endpoints):
        traffic = ep.traffic
        for j, entity in enumerate(ep.entities):
            if entity.entity_alias is not None and traffic.get(entity.name, 0) > 0:
                problems.append((f"serving.endpoints[{i}].entities[{j}].entityAlias", entity.entity_alias,
                                 f"takes {traffic[entity.name]}% of prod traffic; allowed: an alias only on a 0% "
                                 "entity in prod (pin entityVersion for live traffic, so a shift is a reviewed PR)"))
    return problems
