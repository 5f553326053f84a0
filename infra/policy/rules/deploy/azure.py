"""Deploy-readiness rules (azure)."""

from __future__ import annotations
