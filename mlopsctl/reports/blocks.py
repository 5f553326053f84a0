"""Generated blocks in the docs: the text between a begin and an end marker that a command writes and a test
keeps in step (the cost table, the configuration reference, each stack's diagram). One implementation for
all of them: find the block, rewrite it in place."""

from __future__ import annotations

from pathlib import Path


def find(text: str, begin: str, end: str) -> str | None:
    """The block in `text`, markers included, or None when either marker is missing."""
    start = text.find(begin)
    if start < 0:
        return None
    stop = text.find(end, start + len(begin))
    return None if stop < 0 else text[start:stop + len(end)]


def rewrite(path: Path, begin: str, end: str, block: str) -> bool:
    """Put `block` (markers included) where the current block of `path` is; True if the file changed.
    Raises LookupError naming both markers when the page has no such block (nothing is written then)."""
    text = path.read_text()
    current = find(text, begin, end)
    if current is None:
        raise LookupError(f"{path}: no generated block here; add the lines {begin!r} and {end!r} where it goes")
    if current == block:
        return False
    path.write_text(text.replace(current, block, 1))
    return True
