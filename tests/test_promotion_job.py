"""jobs/promotion.py: a retrained challenger gets the champion alias only when it passes the gate.

Protects: pass, fail and no-champion-yet decisions on a fake registry; both edges of every limit; the
alias is never moved by a rejected challenger or by a promote whose challenger moved on in between.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from jobs import promotion
from jobs.promotion import ACCURACY, ERROR_RATE, LATENCY_P95, Candidate, Gate

MODEL = "ml_dev_catalog.models.mlops_churn"
GATE = Gate(min_accuracy=0.8, max_accuracy_drop=0.02, max_latency_p95_ms=200.0, max_error_rate=0.01)
GOOD = {ACCURACY: 0.85, LATENCY_P95: 120.0, ERROR_RATE: 0.001}


class FakeRegistry:
    """Aliases and per-version metrics in memory; records every alias it is asked to move."""

    def __init__(self, aliases: dict[str, int], metrics: dict[int, Mapping[str, float]]) -> None:
        self.aliases, self.metrics = dict(aliases), metrics
        self.moves: list[tuple[str, str, int]] = []

    def version_by_alias(self, model: str, alias: str) -> int | None:
        assert model == MODEL
        return self.aliases.get(alias)

    def metrics_of(self, model: str, version: int) -> Mapping[str, float]:
        return self.metrics.get(version, {})

    def set_alias(self, model: str, alias: str, version: int) -> None:
        self.moves.append((model, alias, version))
        self.aliases[alias] = version


def test_a_better_challenger_passes_against_the_champion() -> None:
    reg = FakeRegistry({"Challenger": 4, "Champion": 3}, {3: {**GOOD, ACCURACY: 0.84}, 4: GOOD})
    decision = promotion.evaluate(reg, MODEL, GATE)
    assert decision.passed and decision.reasons == ()
    assert (decision.challenger, decision.champion) == (4, 3)
    assert decision.summary() == f"{MODEL}: challenger version 4 passed against champion version 3"


def test_no_champion_yet_the_challenger_only_has_to_meet_the_limits() -> None:
    reg = FakeRegistry({"Challenger": 1}, {1: GOOD})
    decision = promotion.evaluate(reg, MODEL, GATE)
    assert decision.passed and decision.champion is None
    assert decision.summary().endswith("passed against no champion yet")


def test_a_worse_challenger_is_rejected_with_every_reason() -> None:
    reg = FakeRegistry({"Challenger": 4, "Champion": 3},
                       {3: {**GOOD, ACCURACY: 0.9}, 4: {ACCURACY: 0.79, LATENCY_P95: 250.0, ERROR_RATE: 0.02}})
    decision = promotion.evaluate(reg, MODEL, GATE)
    assert not decision.passed
    assert decision.reasons == (
        "accuracy 0.79 is below the minimum 0.8",
        "latency p95 250 ms is above the maximum 200 ms",
        "error rate 0.02 is above the maximum 0.01",
        "accuracy 0.79 is more than 0.02 below the champion's 0.9",
    )
    assert decision.summary().startswith(f"{MODEL}: challenger version 4 rejected against champion version 3: ")


# (metric, value, passes): both edges of every limit in GATE (champion accuracy 0.85, drop allowed 0.02).
EDGES = [
    (ACCURACY, 0.83, True), (ACCURACY, 0.8299, False),        # champion 0.85 - 0.02
    (LATENCY_P95, 200.0, True), (LATENCY_P95, 200.01, False),
    (ERROR_RATE, 0.01, True), (ERROR_RATE, 0.0101, False),
]


@pytest.mark.parametrize(("metric", "value", "passes"), EDGES)
def test_limits_hold_at_their_edges(metric: str, value: float, passes: bool) -> None:
    champion = Candidate(3, {**GOOD, ACCURACY: 0.85})
    decision = promotion.validate(MODEL, Candidate(4, {**GOOD, metric: value}), champion, GATE)
    assert decision.passed is passes, decision.reasons


@pytest.mark.parametrize(("value", "passes"), [(0.8, True), (0.7999, False)])
def test_minimum_accuracy_edges_without_a_champion(value: float, passes: bool) -> None:
    assert promotion.validate(MODEL, Candidate(1, {**GOOD, ACCURACY: value}), None, GATE).passed is passes


@pytest.mark.parametrize("missing", [ACCURACY, LATENCY_P95, ERROR_RATE])
def test_a_metric_the_training_run_did_not_log_fails_the_challenger(missing: str) -> None:
    metrics = {k: v for k, v in GOOD.items() if k != missing}
    decision = promotion.validate(MODEL, Candidate(4, metrics), None, GATE)
    assert decision.reasons == (f"challenger version 4 logged no {missing}",)


def test_a_nan_metric_counts_as_missing() -> None:
    decision = promotion.validate(MODEL, Candidate(4, {**GOOD, ERROR_RATE: float("nan")}), None, GATE)
    assert decision.reasons == ("challenger version 4 logged no error_rate",)


def test_a_champion_without_accuracy_cannot_be_compared_so_only_the_limits_apply() -> None:
    champion = Candidate(3, {LATENCY_P95: 100.0})
    assert promotion.validate(MODEL, Candidate(4, GOOD), champion, GATE).passed


def test_no_challenger_alias_means_nothing_to_validate() -> None:
    decision = promotion.evaluate(FakeRegistry({"Champion": 3}, {3: GOOD}), MODEL, GATE)
    assert not decision.passed and decision.challenger is None
    assert decision.summary() == (f"{MODEL}: nothing to validate: no version carries the alias 'Challenger' "
                                  "(training sets it on the version it registers)")


def test_a_challenger_that_already_is_the_champion_is_not_promoted_again() -> None:
    decision = promotion.evaluate(FakeRegistry({"Challenger": 3, "Champion": 3}, {3: GOOD}), MODEL, GATE)
    assert not decision.passed
    assert decision.reasons == ("version 3 already carries 'Champion'; nothing new to promote",)


def test_promote_moves_the_champion_alias_and_says_from_where() -> None:
    reg = FakeRegistry({"Challenger": 4, "Champion": 3}, {})
    assert promotion.promote(reg, MODEL, 4) == f"{MODEL}: 'Champion' moved from version 3 to version 4"
    assert reg.moves == [(MODEL, "Champion", 4)]


def test_promote_with_no_champion_yet() -> None:
    reg = FakeRegistry({"Challenger": 1}, {})
    assert promotion.promote(reg, MODEL, 1) == f"{MODEL}: 'Champion' moved from no version to version 1"


def test_promote_refuses_when_the_challenger_moved_on_since_validation() -> None:
    reg = FakeRegistry({"Challenger": 5, "Champion": 3}, {})
    with pytest.raises(promotion.PromotionRefused, match="'Challenger' now names version 5, not the validated "
                                                         "version 4"):
        promotion.promote(reg, MODEL, 4)
    assert reg.moves == []


VALIDATE = ["validate", "--model", MODEL, "--min-accuracy", "0.8", "--max-accuracy-drop", "0.02",
            "--max-latency-p95-ms", "200", "--max-error-rate", "0.01"]


def test_the_validate_task_passes_a_good_challenger_and_moves_nothing() -> None:
    reg = FakeRegistry({"Challenger": 4, "Champion": 3}, {3: GOOD, 4: GOOD})
    code, report = promotion.run(VALIDATE, reg)
    assert code == 0 and "passed" in report and reg.moves == []  # validation never moves an alias


def test_the_validate_task_fails_a_rejected_challenger() -> None:
    reg = FakeRegistry({"Challenger": 4, "Champion": 3}, {3: GOOD, 4: {**GOOD, ERROR_RATE: 0.5}})
    code, report = promotion.run(VALIDATE, reg)
    assert (code, reg.moves) == (1, [])
    assert report.endswith("error rate 0.5 is above the maximum 0.01")


PROMOTE = ["promote", *VALIDATE[1:]]


def test_the_promote_task_needs_no_version_handed_on() -> None:
    """Finding: promote took `--version {{tasks.validate_challenger.values.challenger_version}}`, a task value the
    validate task could not set (task values are set from notebooks only; an unset reference reaches the task as
    literal text), so argparse refused it and no challenger was ever promoted. Promote now reads the challenger
    alias itself and applies the same gate."""
    reg = FakeRegistry({"Challenger": 4, "Champion": 3}, {3: GOOD, 4: GOOD})
    code, report = promotion.run(PROMOTE, reg)
    assert (code, reg.moves) == (0, [(MODEL, "Champion", 4)])
    assert report == f"{MODEL}: 'Champion' moved from version 3 to version 4"
    with pytest.raises(SystemExit):  # the old command line is refused: nothing may depend on a task value
        promotion.run(["promote", "--model", MODEL, "--version", "4"], reg)


def test_the_promote_task_judges_a_challenger_that_moved_on_by_its_own_metrics() -> None:
    """A retrain between validate and promote: the newer challenger is promoted only if it passes itself."""
    reg = FakeRegistry({"Challenger": 5, "Champion": 3}, {3: GOOD, 5: {**GOOD, ERROR_RATE: 0.5}})
    code, report = promotion.run(PROMOTE, reg)
    assert (code, reg.moves) == (1, [])
    assert "challenger version 5 rejected" in report


def test_the_promote_task_uses_the_configured_aliases() -> None:
    reg = FakeRegistry({"Candidate": 7, "Prod": 6}, {6: GOOD, 7: GOOD})
    argv = [*PROMOTE, "--challenger-alias", "Candidate", "--champion-alias", "Prod"]
    code, _ = promotion.run(argv, reg)
    assert code == 0 and reg.moves == [(MODEL, "Prod", 7)]


def test_main_fails_the_task_with_the_report(monkeypatch: pytest.MonkeyPatch) -> None:
    reg = FakeRegistry({"Challenger": 5, "Champion": 3}, {3: GOOD, 5: {**GOOD, ERROR_RATE: 0.5}})
    monkeypatch.setattr(promotion, "MlflowRegistry", lambda: reg)
    with pytest.raises(SystemExit, match=r"error rate 0\.5 is above the maximum 0\.01"):
        promotion.main(PROMOTE)
