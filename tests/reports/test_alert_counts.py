"""Calls judged as counts (`reports.alerts.counts`, `reports.alerts.count_tails`): the
tails against the summed probability mass, runs of quiet hours that fire once from their
first hour where no hour alone would, a recovered hour that ends a run, a baseline that a
holiday or a past outage does not bend, and the state machine that turns judgements into
firings, and a shallow fall held to a stricter level than an outage."""
from __future__ import annotations

import dataclasses
import math
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reports.alerts.count_tails import at_least, at_most, fewer_mid, incomplete_beta, interval
from reports.alerts.counts import (
    Episodes,
    Hour,
    HourCounts,
    dispersion,
    judge_hours,
    judge_latest,
    shares,
    smallest_tail,
    usual,
)

T0 = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)


def _pmf(k: int, mean: float, variance: float) -> float:
    size = mean * mean / (variance - mean)
    p = size / (size + mean)
    return math.exp(math.lgamma(k + size) - math.lgamma(size) - math.lgamma(k + 1)
                    + size * math.log(p) + k * math.log1p(-p))


@pytest.mark.parametrize(("mean", "variance"), [(0.3, 0.35), (1.1, 1.3), (15.6, 18.2),
                                                (47.0, 60.0), (450.0, 525.0), (200.0, 1600.0)])
def test_tails_are_the_summed_probability_mass(mean, variance):
    for k in sorted({0, 1, 2, int(mean / 10), int(mean / 2), int(mean), int(mean * 1.5)}):
        below = sum(_pmf(j, mean, variance) for j in range(k + 1))
        above = sum(_pmf(j, mean, variance) for j in range(k, int(mean * 10 + 200)))
        assert at_most(k, mean, variance) == pytest.approx(below, rel=1e-9, abs=1e-300)
        assert at_least(k, mean, variance) == pytest.approx(above, rel=1e-9, abs=1e-300)


def test_near_poisson_the_tail_is_poisson_s():
    # A huge size: P(X <= 2 | 15.6) = e^-15.6 (1 + 15.6 + 15.6²/2).
    poisson = math.exp(-15.6) * (1 + 15.6 + 15.6 ** 2 / 2)
    assert at_most(2, 15.6, 15.6 * (1 + 1e-6)) == pytest.approx(poisson, rel=1e-5)
    assert incomplete_beta(2.0, 3.0, 0.5) == pytest.approx(11 / 16)  # 1 - (1/16 + 4/16)


def test_the_band_is_the_test():
    for mean, variance, level in ((15.6, 18.2, 1.7e-4), (1.2, 1.4, 1e-3), (900.0, 1100.0, 1e-5)):
        low, high = interval(mean, variance, level)
        assert fewer_mid(low, mean, variance) >= level > fewer_mid(low - 1, mean, variance)
        assert low < mean < high


def _hours(counts: list[int], usual_counts: list[float], weeks: int = 6) -> list[HourCounts]:
    """Hours from T0 with these counts; each past week exactly at its usual level."""
    return [HourCounts(T0 + timedelta(hours=i), T0 + timedelta(hours=i + 1), n,
                       tuple(round(u) for _ in range(weeks)))
            for i, (n, u) in enumerate(zip(counts, usual_counts, strict=True))]


def _latest(hours: list[HourCounts], min_expected: float = 5):
    return judge_latest(hours, phi=0.0, below=True, alpha=1e-3, min_expected=min_expected)


def test_a_run_of_quiet_hours_fires_once_from_its_first_hour_where_no_hour_alone_would():
    usual_level = [6, 6, 6, 6, 6]
    # A weekday night at 400 calls a day: 6 calls an hour, then 1, 0, 1.
    first = _latest(_hours([6, 6, 1], usual_level[:3]))
    assert first.judged and not first.firing and first.hours == 1  # 1 of 6 alone: maybe
    third = _latest(_hours([6, 6, 1, 0, 1], usual_level))
    assert third.firing and third.hours == 3 and third.count == 2 and third.expected == 18
    assert (third.start, third.end) == (T0 + timedelta(hours=2), T0 + timedelta(hours=5))
    assert third.low > third.count  # the band drawn is the run's, and the run is below it
    # The normal hour after it ends the run (and a normal hour before never starts it).
    after = _latest(_hours([6, 6, 1, 0, 1, 6], [*usual_level, 6]))
    assert not after.firing


def test_a_quiet_hour_that_keeps_its_few_calls_does_not_break_an_outage_s_run():
    # The bench's missed night (400 calls a day, 21:00 on, thinned to a tenth over 6 hours):
    # 1, 2, 1, 1, 0, 0 calls where 8, 5, 3, 1.5, 1, 1 are usual. The fourth hour's 1 of 1.5
    # is nearer its usual than the run's level (5 of 19.5), yet likely at either: it stays.
    night = _hours([1, 2, 1, 1, 0, 0], [8, 5, 3, 1.5, 1, 1])
    night[3] = dataclasses.replace(night[3], past=(1, 2, 1, 2, 1, 2))
    assert usual(night[3].past).expected == 1.5
    fired = _latest(night)
    assert fired.firing and fired.hours == 6 and fired.start == T0
    # A busy hour back at its usual ends the run: 8 of 8 is unlikely at a quarter of it.
    recovered = _latest(_hours([1, 2, 1, 8], [8, 5, 3, 8]))
    assert not recovered.firing


def test_hours_usually_below_the_minimum_are_judged_within_their_run():
    night = [2, 2, 2, 2, 2, 2]  # 2 calls an hour: no hour alone reaches the minimum of 5
    alone = _latest(_hours([2], night[:1]))
    assert not alone.judged and alone.expected == 2
    normal = _latest(_hours([2, 1, 3], night[:3]))
    assert normal.judged and not normal.firing and normal.hours == 3  # 6 usual: judged
    dead = _latest(_hours([0, 0, 0, 0, 0, 0], night))
    assert dead.firing and dead.hours == 6 and dead.start == T0
    # Under the minimum even over six hours: never judged, whatever it holds.
    assert not _latest(_hours([0] * 6, [0.5] * 6)).judged


def test_a_holiday_or_a_past_outage_does_not_bend_the_usual_level():
    assert usual((20, 18, 22, 2, 19, 21)).expected == 20  # the outage week left out
    assert usual((20, 18, 22, 2, 19, 21)).weeks == 5
    rng = random.Random(3)
    poisson_weeks = [tuple(sum(rng.random() < m / 200 for _ in range(200)) for _ in range(6))
                     for m in [5, 20, 40, 60, 40, 20] * 4]
    assert dispersion(poisson_weeks) < 0.01  # Poisson weeks: (nearly) Poisson
    outage = [(*w[:3], w[3] // 10, *w[4:]) for w in poisson_weeks]
    assert dispersion(outage) < 0.01  # a past outage is left out, not turned into spread
    busy = [tuple(round(m * f) for f in (0.7, 1.3, 1.0, 0.8, 1.2, 1.0)) for m in [40, 60] * 6]
    assert dispersion(busy) > 0.03  # weeks that really vary: a negative binomial


def test_a_holiday_day_in_the_baseline_is_left_out_whole():
    tz = ZoneInfo("America/Sao_Paulo")
    monday = date(2026, 11, 23)
    holiday = monday - timedelta(weeks=2)

    def count_of(day: date, hour: int) -> int:
        busy = 30 if 9 <= hour < 18 else 3
        return busy // 3 if day == holiday else busy

    (judged,) = judge_hours([Hour.at(monday, 10, tz)], count_of, tz, weeks=6, below=True,
                            alpha=1e-3, min_expected=5)
    assert judged.expected == 30 and judged.weeks == 5 and not judged.firing
    assert judged.history[1] is None  # the holiday's week, left out


def test_episodes_follow_the_live_state():
    found = Episodes()
    hour = timedelta(hours=1)
    assert not found.add(True, False, T0, T0 + hour)
    assert found.add(True, True, T0 - hour, T0 + 2 * hour)  # a run from the hour before
    assert found.add(False, False, T0 + 2 * hour, T0 + 3 * hour)  # not judged: the state stays
    assert found.add(True, True, T0 + 3 * hour, T0 + 4 * hour)
    assert not found.add(True, False, T0 + 4 * hour, T0 + 5 * hour)
    assert found.add(True, True, T0 + 2 * hour, T0 + 6 * hour)  # never before the last end
    assert [(e.start, e.end) for e in found.found] == [
        (T0 - hour, T0 + 4 * hour), (T0 + 4 * hour, T0 + 6 * hour)]


def _after_usual(count: int, usual_count: int) -> list[HourCounts]:
    """Five hours at their usual level, then one with `count`: all six windows could fire."""
    return _hours([usual_count] * 5 + [count], [usual_count] * 6)


def test_a_shallow_fall_needs_ten_times_stronger_evidence_than_an_outage():
    level = 1e-3 / 6  # medium, shared among the six window lengths (each could fire)
    # A busy hour down a fifth: rarer than the level, not rarer than a tenth of it.
    shallow = _latest(_after_usual(320, 400))
    assert level / 10 < shallow.tail < level and not shallow.firing
    assert shallow.low == 314  # the band is the counts that do not fire
    assert _latest(_after_usual(313, 400)).firing
    # A quiet hour down three quarters, as rare: an outage's shape, it fires.
    deep = _latest(_after_usual(5, 20))
    assert level / 10 < deep.tail < level and deep.firing
    assert deep.low == 6 and not _latest(_after_usual(6, 20)).firing


def test_the_level_is_shared_among_the_windows_that_could_fire():
    def shared(hours: list[HourCounts]) -> int:
        return shares([smallest_tail(hours[-n:], phi=0.0, below=True, min_expected=5)
                       for n in range(1, len(hours) + 1)], 1e-3)

    assert shared(_hours([400] * 6, [400] * 6)) == 6  # busy: every window could fire
    # A night of 3 calls an hour: an hour alone is not judged (under 5 calls usually), and no
    # call in 2 hours is not rare enough to fire (1.9e-3 against 2.5e-4): the four longer
    # runs share the level.
    assert shared(_hours([3] * 6, [3] * 6)) == 4
    # 7 calls an hour down to 2, 2 and 2: 6 of 21 is rarer than the level shared by the five
    # windows that could fire (1.8e-4 < 2e-4), not than a sixth of it.
    dip = _latest(_hours([7, 7, 7, 2, 2, 2], [7] * 6))
    assert dip.firing and dip.hours == 3 and 1e-3 / 6 < dip.tail < 1e-3 / 5


def _weekdays_and_sundays(holiday_like: frozenset[date]):
    """Calls per local hour: a weekday's business hours 30, its other hours 3; a Sunday's
    (and a day of `holiday_like`'s) a third of them."""
    def count_of(day: date, hour: int) -> int:
        busy = 30 if 9 <= hour < 18 else 3
        return busy // 3 if day.weekday() == 6 or day in holiday_like else busy
    return count_of


def test_a_holiday_in_the_calendar_is_judged_as_a_sunday_and_stays_quiet():
    tz = ZoneInfo("America/Sao_Paulo")
    holiday = date(2026, 11, 23)  # a Monday with a Sunday's calls
    count_of = _weekdays_and_sundays(frozenset({holiday}))
    hours = [Hour.at(holiday, h, tz) for h in range(24)]

    def fired(calendar: frozenset[date]) -> list:
        found = Episodes()
        judged = judge_hours(hours, count_of, tz, weeks=6, below=True, alpha=1e-3,
                             min_expected=5, holidays=calendar)
        for j in judged:
            found.add(j.judged, j.firing, j.start, j.end)
        return found.found

    assert fired(frozenset())  # judged against past Mondays: a volume dip
    assert not fired(frozenset({holiday}))  # against past Sundays: a usual holiday
    (ten,) = judge_hours([Hour.at(holiday, 10, tz)], count_of, tz, weeks=6, below=True,
                         alpha=1e-3, min_expected=5, holidays=frozenset({holiday}))
    assert ten.expected == 10 and ten.weeks == 6 and not ten.firing  # a Sunday's 10 calls


def test_a_past_holiday_in_the_calendar_is_left_out_of_its_weekday_s_baseline():
    tz = ZoneInfo("America/Sao_Paulo")
    monday = date(2026, 11, 23)
    past = monday - timedelta(weeks=3)

    def count_of(day: date, hour: int) -> int:
        busy = 30 if 9 <= hour < 18 else 3
        return 27 if day == past and busy == 30 else busy  # a quieter day, not far off

    def judged(calendar: frozenset[date]):
        (found,) = judge_hours([Hour.at(monday, 10, tz)], count_of, tz, weeks=6, below=True,
                               alpha=1e-3, min_expected=5, holidays=calendar)
        return found

    assert judged(frozenset()).history[2] == 27  # not far from its weekday's: kept
    assert judged(frozenset()).expected == 29.5
    listed = judged(frozenset({past}))
    assert listed.history[2] is None and listed.weeks == 5 and listed.expected == 30
