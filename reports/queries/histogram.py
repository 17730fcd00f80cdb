"""Percentiles read from the rollups' histograms (exact to within one bucket): call durations
(`sync.write.rollups.bucket_bounds`) and Origins latencies (`latency_bounds`)."""
from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from itertools import accumulate

from sync.models.quality import LATENCY_BUCKETS
from sync.write.rollups import bucket_bounds


def latency_bounds(index: int) -> tuple[int, int | None]:
    """(lower, upper) milliseconds of a latency bucket; the last one is open (None)."""
    lower = LATENCY_BUCKETS[index - 1] if index > 0 else 0
    return lower, LATENCY_BUCKETS[index] if index < len(LATENCY_BUCKETS) else None


def percentile(hist: Sequence[int], fraction: float, max_value: int,
               bounds: Callable[[int], tuple[int, int | None]] = bucket_bounds) -> int | None:
    """The nearest-rank percentile of the histogram, interpolated inside its bucket.

    The rank is ceil(fraction × n) (so the median of 1..4 is 2, like the raw figure
    `sorted(d)[ceil(0.5*n) - 1]`). The answer always falls inside the bucket holding the exact
    value; the open-ended last bucket is capped by the largest duration seen. The bucket is
    found by bisecting the running counts (a summary takes some 200 percentiles).
    """
    cumulative = list(accumulate(hist))
    n = cumulative[-1] if cumulative else 0
    if n == 0:
        return None
    rank = max(1, math.ceil(fraction * n))
    # The first bucket whose running count reaches the rank (it holds at least one value).
    index = bisect_left(cumulative, rank)
    if index == len(hist):
        return max_value
    count = hist[index]
    lower, upper = bounds(index)
    upper = max_value if upper is None else min(upper, max(max_value, lower + 1))
    within = rank - (cumulative[index] - count)
    return lower + max(1, round((upper - lower) * within / count))
