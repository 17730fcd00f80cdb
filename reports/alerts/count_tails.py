"""Tails and quantiles of the negative binomial distribution, from the standard library.

The `anomaly` condition's count model (`reports.alerts.counts`) asks how likely so few (or
so many) calls are when an hour usually has `mean` calls with variance `variance`. Counts
that vary as Poisson counts do, measured against a usual level known from a few weeks, follow
a negative binomial (the Poisson–gamma mixture); weeks that vary more give it a smaller size.
The project carries no scipy, and two functions do not warrant it: the cumulative
distribution is the regularized incomplete beta function I_p(r, k + 1), computed with the
continued fraction of Numerical Recipes (§6.4, modified Lentz), accurate to ~1e-13 relative
in the tails the alerts read (tested against the summed probability mass).
"""
from __future__ import annotations

import math
from functools import lru_cache

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITERATIONS = 100_000


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, _MAX_ITERATIONS):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"incomplete beta did not converge (a={a}, b={b}, x={x})")


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # The fraction converges fast on the side of the mean; the other side is 1 minus it.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def size_and_probability(mean: float, variance: float) -> tuple[float, float]:
    """The negative binomial (r, p) of this mean and variance (variance > mean > 0)."""
    size = mean * mean / (variance - mean)
    return size, size / (size + mean)


# A judgement asks the same tails many times over (a band's search, then each run of hours
# over the same usual levels): a preview of 28 days asked 115,008 incomplete betas for 13,684
# different ones. Memoised per process, bounded (a few MB at most).
@lru_cache(maxsize=1 << 13)
def at_most(k: int, mean: float, variance: float) -> float:
    """P(X <= k)."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    size, p = size_and_probability(mean, variance)
    return incomplete_beta(size, k + 1.0, p)


@lru_cache(maxsize=1 << 13)
def at_least(k: int, mean: float, variance: float) -> float:
    """P(X >= k), computed on its own side (never 1 minus a number close to 1)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    size, p = size_and_probability(mean, variance)
    return incomplete_beta(float(k), size, 1.0 - p)


def fewer_mid(k: int, mean: float, variance: float) -> float:
    """The mid-p probability of so few: P(X < k) + P(X = k) / 2. For counts it errs as often
    as its level says on average, where P(X <= k) errs less often than it says (and misses
    more): the mid-p test of Lancaster, usual for Poisson counts."""
    return (at_most(k - 1, mean, variance) + at_most(k, mean, variance)) / 2


def more_mid(k: int, mean: float, variance: float) -> float:
    """The mid-p probability of so many: P(X > k) + P(X = k) / 2."""
    return (at_least(k + 1, mean, variance) + at_least(k, mean, variance)) / 2


def _search(accept, start: int) -> int:
    """The smallest k >= 0 with accept(k) (accept is monotone: False…False True…True)."""
    high = max(start, 1)
    while not accept(high):
        high *= 2
    low = -1  # accept(low) is False or below the range
    while high - low > 1:
        middle = (low + high) // 2
        if middle >= 0 and accept(middle):
            high = middle
        else:
            low = middle
    return high


def interval(mean: float, variance: float, level: float) -> tuple[int, int]:
    """(low, high): the counts that are not unusual at `level`. A count below `low` has
    `fewer_mid` < level; a count above `high` has `more_mid` < level."""
    if mean <= 0:
        return 0, 0
    guess = int(mean)
    low = _search(lambda k: fewer_mid(k, mean, variance) >= level, guess)
    high = _search(lambda k: more_mid(k + 1, mean, variance) < level, guess)
    return low, high
