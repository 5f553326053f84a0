"""Deploy-readiness rules (unity_catalog)."""

from __future__ import annotations
