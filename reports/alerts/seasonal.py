"""The statistics of the `anomaly` condition for rates: a band from past weeks, and a
binomial test (counts have their own model, `counts`).

Pure functions over numbers, no database: `anomaly` feeds them the same hour of the week
over recent weeks.

- Rates: the median of the weekly rates ± k robust deviations (1.4826 × MAD, at least the
  binomial standard error of this hour's calls), and the departure must also be unlikely by
  chance given the counts: a one-sided exact binomial test of this hour's counts against the
  past weeks' (see `is_rate_anomaly`), so 3 answered of 5 (usually 80 %) is never an alarm,
  while 30 of 100 is.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

# Sensitivity → (k: a rate band's half-width in robust deviations, alpha: the one-sided
# significance of the binomial test, and of a count's window shared among the run lengths
# `counts` tries). Evaluated every hour for every environment, a false alarm rate of 1e-3
# per rule and hour is already one alarm every six weeks per rule.
SENSITIVITY: dict[str, tuple[float, float]] = {
    "low": (5.0, 1e-4), "medium": (4.0, 1e-3), "high": (3.0, 1e-2),
}
MAD_SCALE = 1.4826
# Past weeks read for a baseline, and the fewest that make one (fewer: a cold start).
BASELINE_WEEKS = 6
MIN_WEEKS = 3
# Above this many calls in an hour the binomial tail is taken from the normal approximation
# (exact sums grow with n; at this size the two agree to well under alpha's precision).
EXACT_UP_TO = 3000


@dataclasses.dataclass(frozen=True)
class Band:
    expected: float
    low: float
    high: float


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    middle = n // 2
    return float(ordered[middle]) if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def mad(values: Sequence[float], centre: float) -> float:
    return median([abs(v - centre) for v in values])


def rate_band(history: Sequence[float], calls: int, k: float) -> Band:
    """`history`: past weekly rates in [0, 1]; `calls`: this hour's denominator."""
    centre = median(history)
    noise = math.sqrt(centre * (1 - centre) / calls) if calls else 0.0
    spread = max(MAD_SCALE * mad(history, centre), noise)
    return Band(centre, max(0.0, centre - k * spread), min(1.0, centre + k * spread))


def _log_pmf(k: int, n: int, p: float) -> float:
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + k * math.log(p) + (n - k) * math.log1p(-p))


def binomial_tail(successes: int, n: int, p: float, *, lower: bool) -> float:
    """P(X ≤ successes) when `lower`, else P(X ≥ successes), X ~ Binomial(n, p)."""
    if n <= 0:
        return 1.0
    p = min(max(p, 1e-9), 1 - 1e-9)
    if n > EXACT_UP_TO:
        sd = math.sqrt(n * p * (1 - p))
        z = (successes + (0.5 if lower else -0.5) - n * p) / sd
        below = 0.5 * math.erfc(-z / math.sqrt(2))
        return below if lower else 1.0 - below
    ks = range(0, successes + 1) if lower else range(successes, n + 1)
    logs = [_log_pmf(k, n, p) for k in ks]
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(v - top) for v in logs))


def is_rate_anomaly(successes: int, calls: int, past_successes: int, past_calls: int,
                    band: Band, *, below: bool, alpha: float) -> bool:
    """Outside the band, and unlikely by chance given the counts (one-sided).

    The test is conditional (the exact two-sample binomial test): were this hour's rate the
    past weeks' rate, its share of all the successes would follow Binomial(successes +
    past_successes, calls / (calls + past_calls)). It weighs the past's own sampling noise
    too: 0 failures in 60 past calls then 3 in 18 is not an alarm.
    """
    rate = successes / calls
    outside = rate < band.low if below else rate > band.high
    if not outside:
        return False
    total = successes + past_successes
    share = calls / (calls + past_calls)
    return binomial_tail(successes, total, share, lower=below) < alpha
