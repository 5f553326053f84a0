"""Generated doc blocks (mlopsctl/reports/blocks.py): the one implementation behind the cost table, the
configuration reference and the diagrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.reports import blocks

BEGIN, END = "<!-- x:begin -->", "<!-- x:end -->"


@pytest.mark.parametrize(("text", "found"), [
    (f"a\n{BEGIN}\nold\n{END}\nb", f"{BEGIN}\nold\n{END}"),
    (f"a\n{BEGIN}\nold\n", None),                    # no end marker
    (f"a\n{END}\n{BEGIN}\nold\n", None),              # the end marker comes before the begin marker
    ("a\nb", None),
])
def test_find(text: str, found: str | None) -> None:
    assert blocks.find(text, BEGIN, END) == found


def test_rewrite_touches_only_the_block_and_says_whether_it_changed(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"before\n{BEGIN}\nold\n{END}\nafter {BEGIN[:6]}\n")
    new = f"{BEGIN}\nnew\n{END}"
    assert blocks.rewrite(page, BEGIN, END, new) is True
    assert page.read_text() == f"before\n{new}\nafter {BEGIN[:6]}\n"
    assert blocks.rewrite(page, BEGIN, END, new) is False


def test_a_page_without_the_block_is_named_with_both_markers_and_left_alone(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("no block\n")
    with pytest.raises(LookupError, match=r"page\.md: no generated block here; add the lines "
                                          r"'<!-- x:begin -->' and '<!-- x:end -->'"):
        blocks.rewrite(page, BEGIN, END, f"{BEGIN}\n{END}")
    assert page.read_text() == "no block\n"
