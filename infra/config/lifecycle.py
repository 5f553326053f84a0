"""The model lifecycle keys: the gate a retrained challenger passes before it gets the champion alias.

`serving.retraining.promotion` (used by the drift -> retrain job's validate and promote tasks, whose code is
jobs/promotion.py) and `serving.endpoints[].entities[].entityAlias` (an endpoint that serves whatever version an
alias names, resolved when the stack deploys) read these.
"""

from __future__ import annotations

import re

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

    def task_parameters(self, model: str) -> list[str]:
        """The validate task's command line (jobs/promotion.py)."""
        g = self.gate
        return ["validate", "--model", model, "--challenger-alias", self.challenger_alias,
                "--champion-alias", self.champion_alias, "--min-accuracy", f"{g.min_accuracy:g}",
                "--max-accuracy-drop", f"{g.max_accuracy_drop:g}", "--max-latency-p95-ms", f"{g.max_latency_p95_ms:g}",
                "--max-error-rate", f"{g.max_error_rate:g}"]
