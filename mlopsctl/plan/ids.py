"""Deterministic ids for the mock engine: the same seed (stack, type, logical name) gives the same id in
every run, so plans are byte-identical and other stacks can compute what a stack exports."""

from __future__ import annotations

import hashlib
import uuid


def stable_digits(seed: str, n: int) -> str:
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return str(digest)[:n].rjust(n, "1")


def stable_hex(seed: str, n: int = 16) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def stable_uuid(seed: str) -> str:
    return str(uuid.UUID(hashlib.md5(seed.encode()).hexdigest()))
