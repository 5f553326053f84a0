"""The registry retention job's decisions, on a fake registry: what goes, what stays, and that nothing behind an
alias or a serving endpoint is ever removed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from jobs import retention as job

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


class FakeRegistry:
    """Schemas with retention properties, models with versions; records deletes and copies."""

    def __init__(self, schemas: dict[str, str | None], versions: list[job.Version],
                 served: set[tuple[str, int]] | None = None, refuse: set[tuple[str, int]] | None = None,
                 not_owned: set[str] | None = None) -> None:
        self.props = schemas
        self.by_model: dict[str, list[job.Version]] = {}
        for v in versions:
            self.by_model.setdefault(v.model, []).append(v)
        self.served = served or set()
        self.refuse = refuse or set()
        self.not_owned = not_owned or set()
        self.deleted: list[tuple[str, int]] = []
        self.copied: list[tuple[str, int, str]] = []

    def retention_days(self, schema: str) -> int | None:
        return job.parse_retention(self.props.get(schema))

    def models(self, schema: str) -> list[str]:
        return sorted(m for m in self.by_model if m.rsplit(".", 1)[0] == schema)

    def versions(self, model: str) -> list[job.Version]:
        return list(self.by_model[model])

    def served_versions(self) -> set[tuple[str, int]]:
        return set(self.served)

    def owns(self, model: str) -> bool:
        return model not in self.not_owned

    def delete(self, model: str, version: int) -> None:
        if (model, version) in self.refuse:
            raise PermissionError("PERMISSION_DENIED: caller is not the owner of the registered model")
        self.deleted.append((model, version))

    def copy(self, model: str, version: int, target: str) -> None:
        self.copied.append((model, version, target))


DEV = "ml_models_catalog.dev_models"
ARCHIVE = "ml_models_catalog.archived_models"
CHURN = f"{DEV}.churn"


def kinds(actions: list[job.Action]) -> dict[int, str]:
    return {a.version: a.kind for a in actions}


@pytest.mark.parametrize(("age_days", "expected"), [
    (29.9, "keep"),   # within
    (30, "keep"),     # exactly the retention: still kept (the edge)
    (30.001, "delete"),  # just past it
    (400, "delete"),
])
def test_a_version_goes_only_once_it_is_older_than_the_retention(age_days: float, expected: str) -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(age_days))])
    assert kinds(job.plan(reg, [DEV], NOW)) == {1: expected}


@pytest.mark.parametrize("aliases", [("champion",), ("challenger", "champion")])
def test_a_version_behind_an_alias_is_never_removed(aliases: tuple[str, ...]) -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(900), aliases)])
    actions = job.plan(reg, [DEV], NOW)
    assert kinds(actions) == {1: "keep"}
    assert "alias" in actions[0].reason and "champion" in actions[0].reason
    job.apply(reg, actions, dry_run=False)
    assert reg.deleted == [] and reg.copied == []


def test_a_version_a_serving_endpoint_serves_is_never_removed() -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(900)), job.Version(CHURN, 2, ago(900))],
                       served={(CHURN, 2)})
    actions = job.plan(reg, [DEV], NOW)
    assert kinds(actions) == {1: "delete", 2: "keep"}
    job.apply(reg, actions, dry_run=False)
    assert reg.deleted == [(CHURN, 1)]


def test_a_version_the_config_pins_is_protected_even_before_an_endpoint_serves_it() -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 3, ago(900))])
    assert kinds(job.plan(reg, [DEV], NOW, protected=job.parse_protected(f"{CHURN.upper()}:3"))) == {3: "keep"}


def test_a_schema_without_a_usable_retention_is_left_alone() -> None:
    reg = FakeRegistry({DEV: None, "c.s": "0", "c.t": "ninety"},
                       [job.Version(CHURN, 1, ago(900)), job.Version("c.s.m", 1, ago(900)),
                        job.Version("c.t.m", 1, ago(900))])
    assert job.plan(reg, [DEV, "c.s", "c.t"], NOW) == []


def test_with_an_archive_schema_versions_are_copied_there_then_deleted() -> None:
    reg = FakeRegistry({DEV: "30", ARCHIVE: "730"},
                       [job.Version(CHURN, 1, ago(31)), job.Version(f"{ARCHIVE}.churn", 1, ago(731)),
                        job.Version(f"{ARCHIVE}.churn", 2, ago(729))])
    actions = job.plan(reg, [DEV, ARCHIVE], NOW, archive_schema=ARCHIVE)
    by = {(a.model, a.version): a for a in actions}
    assert by[(CHURN, 1)].kind == "archive" and by[(CHURN, 1)].target == f"{ARCHIVE}.churn"
    # in the archive itself: deleted after the archive's own retention, not archived again
    assert by[(f"{ARCHIVE}.churn", 1)].kind == "delete"
    assert by[(f"{ARCHIVE}.churn", 2)].kind == "keep"
    job.apply(reg, actions, dry_run=False)
    assert reg.copied == [(CHURN, 1, f"{ARCHIVE}.churn")]
    assert reg.deleted == [(CHURN, 1), (f"{ARCHIVE}.churn", 1)]


def test_a_model_the_job_does_not_own_is_neither_archived_nor_deleted() -> None:
    """Finding: the copy to the archive succeeded and the delete was refused (deleting a version needs ownership of
    its model), so the same versions were archived again on every run. Ownership is checked before the copy."""
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(31))], not_owned={CHURN})
    outcome = job.apply(reg, job.plan(reg, [DEV], NOW, archive_schema=ARCHIVE), dry_run=False)
    assert (reg.copied, reg.deleted, outcome.done) == ([], [], [])
    [(action, error)] = outcome.failed
    assert (action.model, action.version) == (CHURN, 1)
    assert error == (f"not the owner of {CHURN}: deleting its versions needs ownership (or metastore admin); "
                     "nothing archived or deleted")


def test_a_dry_run_changes_nothing_but_reports_what_it_would_do() -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(90))])
    actions = job.plan(reg, [DEV], NOW)
    outcome = job.apply(reg, actions, dry_run=True)
    assert reg.deleted == [] and [a.version for a in outcome.done] == [1]


def test_a_refused_delete_is_reported_the_others_still_go_and_the_run_fails(capsys: pytest.CaptureFixture[str],
                                                                            ) -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(90)), job.Version(CHURN, 2, ago(90))],
                       refuse={(CHURN, 1)})
    code = job.main(["--schemas", DEV, "--apply", "true"], registry=reg, now=NOW)
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert reg.deleted == [(CHURN, 2)]
    assert report["failed"][0]["version"] == 1 and "PERMISSION_DENIED" in report["failed"][0]["error"]


def test_main_is_a_dry_run_unless_told_to_apply(capsys: pytest.CaptureFixture[str]) -> None:
    reg = FakeRegistry({DEV: "30"}, [job.Version(CHURN, 1, ago(90)), job.Version(CHURN, 2, ago(90), ("champion",))])
    assert job.main(["--schemas", DEV], registry=reg, now=NOW) == 0
    report = json.loads(capsys.readouterr().out)
    assert reg.deleted == []
    assert report["dryRun"] is True and report["counts"] == {"delete": 1, "keep": 1}


@pytest.mark.parametrize("text", ["c.s.m", "c.s:1", "c.s.m:x", "c.s.m:"])
def test_a_malformed_protect_item_is_refused_by_its_message(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not catalog\.schema\.model:version"):
        job.parse_protected(text)
