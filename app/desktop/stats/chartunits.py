"""Units for the stats charts and tables (no pyqtgraph here: it loads late)."""

from __future__ import annotations

import math

from engine import format_bytes

__all__ = ["bytes_text", "rate_text"]


def bytes_text(value: float) -> str:
    """Binary units, as limits are set (``-m 64m`` is 64.0 MiB)."""
    return format_bytes(int(value)) if value >= 0 and not math.isnan(value) else "—"


def rate_text(value: float) -> str:
    return f"{bytes_text(value)}/s"
