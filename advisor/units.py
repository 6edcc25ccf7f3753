"""Human-readable durations and sizes, shared by the CLI tables and the report."""

from __future__ import annotations

from typing import Any


def seconds(s: Any) -> str:
    """850 ms, 12.3 s, 4.5 min; "—" for a missing value."""
    if not isinstance(s, (int, float)):
        return "—"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def duration(s: float) -> str:
    """A planning figure: 3 s, 40 s, 2.5 min, 1.5 h, 22 h, 1,300 h (never an exponent)."""
    if s < 60:
        return f"{max(s, 1):.0f} s"
    if s < 5400:
        return f"{s / 60:.2g} min"
    hours = s / 3600
    return f"{hours:.2g} h" if hours < 10 else f"{hours:,.0f} h"


def times(ratio: float) -> str:
    """A ratio as people write it: 0.12×, 1.5×, 12×, 170×, 1,700× (never an exponent)."""
    if ratio < 10:
        return f"{ratio:.2g}×"
    return f"{ratio:,.0f}×"


def nbytes(n: Any) -> str:
    """512 B, 36.6 KB, 13.2 MB, 1.1 GB; "—" for a missing value."""
    if not isinstance(n, (int, float)):
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return "—"
