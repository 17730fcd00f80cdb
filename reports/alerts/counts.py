"""Calls judged as counts: the `anomaly` condition's decision for the calls metric.

Pure functions over numbers and instants, no database (`anomaly` reads the figures, the
bench `bench/anomaly_detection.py` draws them): each hour comes with its count and the same
hour of the week in past weeks (`HourCounts`); `judge_latest` judges the last hour, alone and
as the end of runs of 2–6 hours; `Episodes` turns successive judgements into firings.

- The usual level of an hour is the mean of its past weeks, leaving out a week that is far
  from the others (a past outage, a holiday): further than 4 robust deviations from their
  median, where a deviation is 1.4826 × MAD but never less than the Poisson noise √median.
- The weeks' variation beyond Poisson is one dispersion φ (variance = μ + φμ²), estimated by
  moments over the kept weeks of many hours at once (`dispersion`: the judged day's 24
  hours), so a few quiet hours' noise never widens a band; φ = 0 is Poisson.
- A window of hours (one hour, or a run of 2–6) is judged on its sum against the sum of its
  usual levels M: the predictive distribution is a negative binomial of mean M and variance
  (M + φM²)(1 + 1/n), n the weeks the level was measured on (the level's own uncertainty:
  with φ = 0 this is the exact Poisson–gamma predictive). It fires when the probability of so
  few calls (or so many, for a rule on rises) is below the sensitivity's level shared among
  the window lengths that could fire at all (`shares`), and every hour of the run is nearer
  the run's level than its usual one (a recovered hour ends a run; a normal hour before an
  outage never starts it). A window
  that keeps more than half its usual calls (or, on rises, less than twice them) needs a
  tenth of that level: shallow falls are what normal weeks' chance lows look like, an outage
  takes most of the calls. The band drawn is the counts that do not fire.
- A window is judged when its usual sum reaches `min_expected` (the rule's `min_calls`): a
  quiet hour is judged within its run.
- The organisation's holidays (`holidays`, local days): an hour of a holiday is judged
  against the same hour of the Sundays before it (a holiday's usual level is a Sunday's),
  and a past holiday is never in a baseline (`compared_days`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from reports.alerts.count_tails import at_least, at_most, fewer_mid, interval, more_mid
from reports.alerts.seasonal import MAD_SCALE, median

HOUR = timedelta(hours=1)
LONGEST_RUN = 6
# Sensitivity → the level of a count's tail, shared among the window lengths tried. Judged
# every hour in six windows, "high" at the rates' 1e-2 fired 1.6 times a month on normal
# weeks at 400 calls a day; 3e-3 fires 0.43 (60 weeks of the simulator's traffic, drawn as
# bench/anomaly_detection.py draws it), "medium" 0.14, "low" 0.07.
ALPHA = {"low": 1e-4, "medium": 1e-3, "high": 3e-3}
# A count rule's `min_calls` unless told: the fewest calls a window usually has to be judged.
DEFAULT_MIN_EXPECTED = 5
OUTLIER_DEVIATIONS = 3.0
# A window down to this share of its usual calls or below (up to its inverse or above, on
# rises) is judged at the level; one nearer its usual at SHALLOW_SHARE of it. Three of five
# firings at medium on normal weeks were shallow (to 0.63–0.79 of the usual); 90 % dips fall
# far below it.
DEEP_SHARE = 0.5
SHALLOW_SHARE = 0.1
# The level is shared among at least this many of the six windows (see `shares`).
FEWEST_SHARES = 4
# An hour nearer its usual level than its run's ends the run when its count is less likely
# than this at the run's level (`_in_run`).
RUN_BREAK = 0.05


@dataclasses.dataclass(frozen=True)
class Hour:
    """One local hour: its day and hour on the organisation's wall clock, and [start, end)
    in UTC."""

    day: date
    hour: int
    start: datetime
    end: datetime

    @classmethod
    def at(cls, day: date, hour: int, tz) -> Hour:
        start = datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)
        return cls(day, hour, start, start + HOUR)

    @classmethod
    def starting(cls, instant: datetime, tz) -> Hour:
        """The local hour that starts at `instant` (a whole UTC hour)."""
        local = instant.astimezone(tz)
        return cls(local.date(), local.hour, instant, instant + HOUR)


def last_complete_hour(moment: datetime, tz) -> Hour:
    """The local hour that ended last at `moment`."""
    floor = moment.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    return Hour.starting(floor.astimezone(UTC) - HOUR, tz)


@dataclasses.dataclass(frozen=True)
class HourCounts:
    """One hour: [start, end) in UTC, its calls, and the same hour of the week in past weeks
    (newest first, one entry per week; None: that week is not mirrored)."""

    start: datetime
    end: datetime
    count: int
    past: tuple[int | None, ...]


@dataclasses.dataclass(frozen=True)
class Usual:
    expected: float
    weeks: int  # weeks the level is measured on (outliers and unmirrored weeks left out)
    kept: tuple[bool, ...]  # per past week: counted in the level


def _usual_ones(values: Sequence[int | None]) -> tuple[bool, ...]:
    """Which of `values` are near the others: within `OUTLIER_DEVIATIONS` robust
    deviations of their median (1.4826 × MAD, never less than the Poisson noise √median)."""
    seen = [x for x in values if x is not None]
    if not seen:
        return tuple(False for _ in values)
    centre = median(seen)
    spread = max(MAD_SCALE * median([abs(x - centre) for x in seen]),
                 math.sqrt(max(centre, 1.0)))
    return tuple(x is not None and abs(x - centre) <= OUTLIER_DEVIATIONS * spread
                 for x in values)


def usual(past: Sequence[int | None]) -> Usual:
    """The hour's usual level from its past weeks."""
    kept = _usual_ones(past)
    if not any(kept):
        return Usual(0.0, 0, kept)
    values = [x for x, keep in zip(past, kept, strict=True) if keep]
    return Usual(sum(values) / len(values), len(values), kept)


def dispersion(pasts: Iterable[Sequence[int | None]]) -> float:
    """φ of variance = μ + φμ² over many hours' past weeks (method of moments, pooled; hours
    usually under one call say nothing about it). 0: the weeks vary as Poisson counts do."""
    excess = weight = 0.0
    for past in pasts:
        level = usual(past)
        values = [x for x, keep in zip(past, level.kept, strict=True) if keep]
        if level.weeks < 2 or level.expected < 1.0:
            continue
        mean = level.expected
        excess += sum((x - mean) ** 2 for x in values) - (level.weeks - 1) * mean
        weight += (level.weeks - 1) * mean * mean
    return max(0.0, excess / weight) if weight else 0.0


@dataclasses.dataclass(frozen=True)
class CountJudgement:
    """A window [start, end) of `hours` hours judged (or, `judged` False, too quiet to be)."""

    start: datetime
    end: datetime
    hours: int
    count: int
    expected: float
    low: int | None
    high: int | None
    tail: float  # mid-p of so few (a rule on falls) or so many (on rises)
    dispersion: float
    weeks: int
    judged: bool
    firing: bool
    history: tuple[int | None, ...]  # the window's sum in each past week (None: not whole)

    @property
    def model(self) -> str:
        return "negative_binomial" if self.dispersion > 0 else "poisson"


def _history(hours: Sequence[HourCounts]) -> tuple[int | None, ...]:
    weeks = min(len(h.past) for h in hours)
    sums = []
    for week in range(weeks):
        values = [h.past[week] for h in hours]
        sums.append(None if None in values else sum(values))
    return tuple(sums)


def _in_run(hours: Sequence[HourCounts], levels: Sequence[Usual], ratio: float,
            below: bool, phi: float, weeks: int) -> bool:
    """No hour of the run is out of it: nearer its usual level than the run's (ratio ×
    usual) with a count unlikely at the run's level (`RUN_BREAK`). A quiet hour's count says
    little either way (1 call where 1.5 are usual, in a run at a quarter of its usual), so
    it does not break an outage's run."""
    middle = (1.0 + ratio) / 2
    for h, u in zip(hours, levels, strict=True):
        if h.count <= u.expected * middle if below else h.count >= u.expected * middle:
            continue
        at_run = ratio * u.expected
        variance = (at_run + phi * at_run * at_run) * (1.0 + 1.0 / weeks)
        if (at_least(h.count, at_run, variance) if below
                else at_most(h.count, at_run, variance)) < RUN_BREAK:
            return False
    return True


def judge_window(hours: Sequence[HourCounts], *, phi: float, below: bool, level: float,
                 min_expected: float, band: bool = True) -> CountJudgement:
    """The sum of `hours` (consecutive, oldest first) against the sum of their usual levels;
    its band (`low`, `high`) drawn unless `band` is False (a window tried, not shown)."""
    levels = [usual(h.past) for h in hours]
    expected = sum(u.expected for u in levels)
    count = sum(h.count for h in hours)
    weeks = min(u.weeks for u in levels)
    base = dict(start=hours[0].start, end=hours[-1].end, hours=len(hours), count=count,
                expected=expected, dispersion=phi, weeks=weeks, history=_history(hours))
    if expected < min_expected or expected <= 0 or weeks == 0:
        return CountJudgement(low=None, high=None, tail=1.0, judged=False, firing=False,
                              **base)
    variance = (expected + phi * expected * expected) * (1.0 + 1.0 / weeks)
    low, high = _band(expected, variance, level) if band else (None, None)
    tail = (fewer_mid if below else more_mid)(count, expected, variance)
    ratio = count / expected
    unusual = (ratio < 1.0) if below else (ratio > 1.0)
    deep = ratio <= DEEP_SHARE if below else ratio >= 1.0 / DEEP_SHARE
    firing = (unusual and tail < (level if deep else level * SHALLOW_SHARE)
              and _in_run(hours, levels, ratio, below, phi, weeks))
    return CountJudgement(low=low, high=high, tail=tail, judged=True, firing=firing, **base)


def _band(expected: float, variance: float, level: float) -> tuple[int, int]:
    """(low, high): the counts that do not fire. Below `low` a count is rarer than the
    level allows and, unless rarer than the shallow level too, at most `DEEP_SHARE` of the
    usual; above `high` likewise on rises."""
    low, high = interval(expected, variance, level)
    strict_low, strict_high = interval(expected, variance, level * SHALLOW_SHARE)
    deep_low = math.floor(expected * DEEP_SHARE) + 1  # the fewest calls that are not deep
    deep_high = math.ceil(expected / DEEP_SHARE) - 1  # the most calls that are not deep
    return max(strict_low, min(low, deep_low)), min(strict_high, max(high, deep_high))


def smallest_tail(hours: Sequence[HourCounts], *, phi: float, below: bool,
                  min_expected: float) -> float | None:
    """The rarest judgement `hours` could get as a window: on falls the tail of no call at all
    (a window usually holding a few calls cannot be rare enough to fire, whatever it holds);
    on rises 0. None when the window is not judged."""
    levels = [usual(h.past) for h in hours]
    expected = sum(u.expected for u in levels)
    weeks = min(u.weeks for u in levels)
    if expected < min_expected or expected <= 0 or weeks == 0:
        return None
    if not below:
        return 0.0
    return fewer_mid(0, expected, (expected + phi * expected * expected) * (1.0 + 1.0 / weeks))


def shares(smallest: Sequence[float | None], alpha: float) -> int:
    """How many parts the level `alpha` is cut into among the windows tried: Tarone's
    Bonferroni for discrete tests — the fewest k such that at most k windows could be rarer
    than alpha / k — but never fewer than `FEWEST_SHARES`. A window that cannot fire (a quiet
    hour alone, whose count of 0 is not rare enough) does not take a share from the runs that
    can: a 90 % dip of a quiet night's three hours was missed once in four at an equal share.
    Replayed over 900 normal weeks (docs/anomaly-alerts.md) it fired 23 times against 21."""
    for k in range(FEWEST_SHARES, LONGEST_RUN + 1):
        if sum(1 for tail in smallest if tail is not None and tail <= alpha / k) <= k:
            return k
    return LONGEST_RUN


def judge_latest(hours: Sequence[HourCounts], *, phi: float, below: bool, alpha: float,
                 min_expected: float) -> CountJudgement:
    """The last of `hours` (consecutive, oldest first; up to `LONGEST_RUN` are read) judged
    alone and as the end of each run of up to `LONGEST_RUN` hours. Firing: the run that fires
    least likely by chance (it starts at the outage's first hour, not at a normal hour that
    happened to be low before it). Else the shortest window judged (the hour itself when it
    is busy enough), else the longest, not judged."""
    recent = list(hours)[-LONGEST_RUN:]
    level = alpha / shares([smallest_tail(recent[-n:], phi=phi, below=below,
                                          min_expected=min_expected)
                            for n in range(1, len(recent) + 1)], alpha)
    windows = [judge_window(recent[-n:], phi=phi, below=below, level=level,
                            min_expected=min_expected, band=False)
               for n in range(1, len(recent) + 1)]
    firing = [w for w in windows if w.firing]
    judged = [w for w in windows if w.judged]
    if firing:  # the run least likely by chance (a low hour before an outage is not in it)
        chosen = min(firing, key=lambda w: (w.tail, -w.hours))
    else:
        chosen = judged[0] if judged else windows[-1]
    return judge_window(recent[-chosen.hours:], phi=phi, below=below, level=level,
                        min_expected=min_expected)


@dataclasses.dataclass
class Episode:
    """One firing: from the first hour of the run that fired to the end of its last hour."""

    start: datetime
    end: datetime


class Episodes:
    """Successive judgements of consecutive hours → firings, as the live state moves: a
    judgement that fires while the state is OK starts one (from its run's first hour, never
    before the previous firing's end), the next ones that fire extend it, one judged quiet
    ends it, one not judged keeps the state."""

    def __init__(self) -> None:
        self.found: list[Episode] = []
        self.firing = False

    def add(self, judged: bool, firing: bool, start: datetime, end: datetime) -> bool:
        """Record one judgement; True while firing."""
        if not judged:
            return self.firing
        if firing and not self.firing:
            if self.found and start < self.found[-1].end:
                start = self.found[-1].end
            self.found.append(Episode(start, end))
        elif firing:
            self.found[-1].end = end
        self.firing = firing
        return firing


# (local day, local hour) → the scope's calls then; None: that hour is not mirrored.
CountOf = Callable[[date, int], "int | None"]


SUNDAY = 6
NO_HOLIDAYS: frozenset[date] = frozenset()


def compared_days(day: date, weeks: int, holidays: frozenset[date] = NO_HOLIDAYS
                  ) -> list[date]:
    """The past days an hour of `day` is judged against, newest first, one a week: the same
    weekday of the `weeks` weeks before, or, when `day` is one of the `holidays`, the
    `weeks` Sundays before it (a weekday holiday has a Sunday's calls, not its weekday's)."""
    if day in holidays and day.weekday() != SUNDAY:
        latest = day - timedelta(days=day.weekday() + 1)  # the Sunday before it
        return [latest - timedelta(weeks=k) for k in range(weeks)]
    return [day - timedelta(weeks=k) for k in range(1, weeks + 1)]


def unusual_days(days: Sequence[date], count_of: CountOf,
                 holidays: frozenset[date] = NO_HOLIDAYS) -> set[date]:
    """Of the compared `days`, those left out of the baseline as an unmirrored day is: the
    listed `holidays`, and a day whose whole total is far from the others' (an unlisted
    holiday, a day-long outage)."""
    totals = []
    for past in days:
        hours = [None] if past in holidays else [count_of(past, h) for h in range(24)]
        totals.append(None if None in hours else sum(hours))
    usual_ones = _usual_ones(totals)
    return {d for d, total, keep in zip(days, totals, usual_ones, strict=True)
            if d in holidays or (total is not None and not keep)}


class CountSeries:
    """A scope's calls per local hour (`count_of`) read as the count model reads them: each
    hour with its past weeks (`compared_days`: a holiday's are Sundays; listed holidays and
    past days far from their weeks left out, `unusual_days`), the dispersion of a day (from
    its 24 hours), the hours before it."""

    def __init__(self, count_of: CountOf, tz, weeks: int,
                 holidays: frozenset[date] = NO_HOLIDAYS) -> None:
        self.count_of, self.tz, self.weeks, self.holidays = count_of, tz, weeks, holidays
        self._left_out: dict[date, set[date]] = {}
        self._phi: dict[date, float] = {}

    def compared(self, day: date) -> list[date]:
        """The past days `day`'s hours are judged against, newest first (`compared_days`)."""
        return compared_days(day, self.weeks, self.holidays)

    def past(self, day: date, hour: int) -> tuple[int | None, ...]:
        days = self.compared(day)
        if day not in self._left_out:
            self._left_out[day] = unusual_days(days, self.count_of, self.holidays)
        return tuple(None if d in self._left_out[day] else self.count_of(d, hour)
                     for d in days)

    def phi(self, day: date) -> float:
        if day not in self._phi:
            self._phi[day] = dispersion(self.past(day, h) for h in range(24))
        return self._phi[day]

    def hours(self, hours: Iterable[Hour]) -> list[HourCounts] | None:
        """`hours` with their counts and pasts; None when one is not mirrored."""
        found = []
        for hour in hours:
            count = self.count_of(hour.day, hour.hour)
            if count is None:
                return None
            found.append(HourCounts(hour.start, hour.end, count, self.past(hour.day, hour.hour)))
        return found

    def recent(self, target: Hour) -> list[HourCounts]:
        """`target` and up to `LONGEST_RUN` - 1 mirrored hours before it, oldest first."""
        found: list[HourCounts] = []
        for back in range(LONGEST_RUN):
            hours = self.hours([Hour.starting(target.start - back * HOUR, self.tz)])
            if hours is None:
                break
            found[:0] = hours
        return found

    def judge(self, target: Hour, *, below: bool, alpha: float, min_expected: float
              ) -> CountJudgement | None:
        """`target` judged by `judge_latest`; None when it is not mirrored."""
        recent = self.recent(target)
        if not recent:
            return None
        return judge_latest(recent, phi=self.phi(target.day), below=below, alpha=alpha,
                            min_expected=min_expected)


def judge_hours(targets: Sequence[Hour], count_of: CountOf, tz, *, weeks: int, below: bool,
                alpha: float, min_expected: float, holidays: frozenset[date] = NO_HOLIDAYS
                ) -> list[CountJudgement | None]:
    """Each target hour judged (None: not mirrored): the one path of the live evaluation
    (one target), the preview (every hour of a period) and the bench; `holidays` the
    organisation's (local days)."""
    series = CountSeries(count_of, tz, weeks, holidays)
    return [series.judge(t, below=below, alpha=alpha, min_expected=min_expected)
            for t in targets]


def hour_band(past: Sequence[int | None], phi: float, alpha: float) -> CountJudgement | None:
    """The band of one hour alone (the wallboard's), at the strictest level `judge_latest`
    gives it (every window of its run could fire); None without a past."""
    if not any(x is not None for x in past):
        return None
    anytime = datetime(2000, 1, 3, tzinfo=UTC)  # a band has no time of its own
    return judge_window([HourCounts(anytime, anytime + HOUR, 0, tuple(past))], phi=phi,
                        below=True,
                        level=alpha / LONGEST_RUN, min_expected=0.0)
