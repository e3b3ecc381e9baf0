"""Small statistics and formatting helpers shared by the benchmarks (no measurements here)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float:
    """The median, or NaN for an empty sample."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100), or NaN for an empty sample."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank)."""
    return percentile(values, 95)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is zero."""
    if not denominator or math.isnan(numerator) or math.isnan(denominator):
        return math.nan
    return numerator / denominator


def ms(seconds: float) -> str:
    """Seconds as milliseconds with a precision that suits the magnitude."""
    if math.isnan(seconds):
        return "n/a"
    value = seconds * 1000
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.2f}"
    return f"{value:.0f}"


def times(value: float) -> str:
    """A ratio as ``12.3x``."""
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f}x" if value < 1 else f"{value:.1f}x"


def summary(values: Sequence[float]) -> str:
    """``median / p95 ms (n=...)`` for a sample in seconds."""
    return f"median {ms(median(values))} ms, p95 {ms(p95(values))} ms (n={len(values)})"
