"""Deploy-readiness rules (reachability)."""

from __future__ import annotations
