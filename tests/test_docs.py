"""The documentation: a short README that lists every page, links and anchors that resolve, numbers that are true,
and code that points at sections which exist."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from infra.config import PROJECT_DIR
from infra.policy.rules import RULES
from mlopsctl.reports.tree import counts_line
from tests.support import STACKS, Mlopsctl, plan_of

README = PROJECT_DIR / "README.md"
DOCS = PROJECT_DIR / "docs"
PAGES = sorted(DOCS.glob("*.md"))
DOCUMENTS = [README, *PAGES]
README_LIMIT = 25_000  # bytes: the README is the newcomer's page, everything else lives in docs/

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: the rendered text lower-cased, punctuation dropped, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def headings(path: Path) -> list[str]:
    return [m.group(2) for line in _prose_lines(path.read_text()) if (m := HEADING.match(line))]


def anchors(path: Path) -> set[str]:
    """Every anchor of a page; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in headings(path):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links(path: Path) -> list[str]:
    return [target for line in _prose_lines(path.read_text())
            for target in LINK.findall(INLINE_CODE.sub("", line))]


def test_slug_follows_githubs_rules() -> None:
    assert slug("Tearing down dev/test (`pulumi destroy`, then `up` again)") == \
        "tearing-down-devtest-pulumi-destroy-then-up-again"
    assert slug('The two-phase rollout: "model/table does not exist yet"') == \
        "the-two-phase-rollout-modeltable-does-not-exist-yet"
    assert slug("Promote a version: Challenger → Champion → Production") == \
        "promote-a-version-challenger--champion--production"
    assert slug("#### `unityCatalog`".lstrip("# ")) == "unitycatalog"
    assert slug("6. Bootstrap the state backend") == "6-bootstrap-the-state-backend"


def test_the_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes; move detail into a page in docs/"


def test_the_readme_lists_every_docs_page() -> None:
    listed = {target.split("#", 1)[0] for target in links(README)}
    missing = [f"docs/{page.name}" for page in PAGES if f"docs/{page.name}" not in listed]
    assert not missing, f"README.md's 'Where to go next' does not link {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(PROJECT_DIR).as_posix())
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    broken = []
    for target in links(document):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
            continue
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading with that anchor in {linked.relative_to(PROJECT_DIR)}")
    assert not broken, broken


def test_the_readme_states_the_real_plan_summary(mlopsctl: Mlopsctl) -> None:
    """The README shows what `mlopsctl plan --stack all --quiet` prints, one line per stack, verbatim."""
    readme = README.read_text()
    for stack in STACKS:
        result = mlopsctl("plan", "--stack", stack, "--quiet")
        assert result.returncode == 0, result.stderr
        line = result.stdout.strip()
        assert f"\n{line}\n" in readme, f"README.md should show {line!r}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(PROJECT_DIR).as_posix())
def test_resource_counts_in_the_docs_are_the_plans(document: Path) -> None:
    """Any 'dev: 112 resources (22 components)' a page states is what the offline plan counts today."""
    for stack, resources, components in re.findall(r"\b(dev|test|prod): (\d+) resources \((\d+) components\)",
                                                   document.read_text()):
        assert f"{stack}: {resources} resources ({components} components)" == counts_line(plan_of(stack)), document


def test_the_readme_and_the_policy_page_state_the_real_rule_count() -> None:
    for document in (README, DOCS / "policy-pack.md"):
        counts = re.findall(r"\b(\d+) rules\b", document.read_text())
        assert counts and {int(c) for c in counts} == {len(RULES)}, document


def test_timings_in_the_readme_come_from_make_bench() -> None:
    """A duration in the README is only ever quoted from `make bench`, in the same paragraph."""
    duration = re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:ms|s|sec|seconds?|min|minutes?|h|hours?)\b")
    for paragraph in re.split(r"\n\s*\n", "\n".join(_prose_lines(README.read_text()))):
        if duration.search(INLINE_CODE.sub("", paragraph)):
            assert "make bench" in paragraph, paragraph


CODE_FILES = sorted(
    [*PROJECT_DIR.glob("infra/**/*.py"), *PROJECT_DIR.glob("mlopsctl/**/*.py"), *PROJECT_DIR.glob("tests/*.py"),
     *PROJECT_DIR.glob("scripts/*.sh"), *PROJECT_DIR.glob(".github/workflows/*.yml"), *PROJECT_DIR.glob("Pulumi*.yaml"),
     PROJECT_DIR / "azure-pipelines.yml", PROJECT_DIR / "Makefile"])
# `docs/<page>.md "Heading"` or `README 'Heading'` (also across a comment's line break): the quoted words start a
# heading of that document
SECTION_REF = re.compile(r"""\b(README(?:\.md)?|docs/[\w-]+\.md)(?: |\n\s*# )(?:"([^"\n]+)"|'([^'\n]+)')""")


def test_code_points_at_pages_and_sections_that_exist() -> None:
    wrong = []
    for path in CODE_FILES:
        if path.name == "test_docs.py":
            continue
        text = path.read_text()
        where = path.relative_to(PROJECT_DIR)
        for page in re.findall(r"\bdocs/[\w-]+\.md\b", text):
            if not (PROJECT_DIR / page).is_file():
                wrong.append(f"{where}: {page} does not exist")
        for document, double, single in SECTION_REF.findall(text):
            target = README if document.startswith("README") else PROJECT_DIR / document
            section = slug(double or single)
            if target.is_file() and not any(slug(h).startswith(section) for h in headings(target)):
                wrong.append(f"{where}: {document} has no section {double or single!r}")
    assert not wrong, wrong


def test_every_file_path_the_docs_name_exists() -> None:
    """A path in the docs that a restructuring moved leaves the reader looking for nothing."""
    pattern = re.compile(r"\b((?:infra|mlopsctl|scripts|tests)/[A-Za-z0-9_/.-]+\.(?:py|sh|json|yaml))")
    allowed = {"infra/policy/config/staging.json"}  # the "add an environment" example creates it
    pages = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
    missing = {(page.name, path) for page in pages for path in pattern.findall(page.read_text())
               if path not in allowed and not (PROJECT_DIR / path).exists()}
    assert missing == set()
