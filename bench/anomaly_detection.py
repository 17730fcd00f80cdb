"""How well the `anomaly` condition sees outages: recall, hours to detect, false firings.

Hourly calls are drawn as the simulator draws them (`sync.simulator.catalog`: a day's count
from its weekday factor, spread over the local hours by their weights) for 26 weeks in
America/Sao_Paulo at 40, 400 and 4,000 calls a day; three of the weeks have a holiday (a
Monday with Sunday's volume). The detector is the product's own: `counts.judge_hours`
(each hour judged alone and as the end of runs of 2–6 hours against the same hour of the
six weeks before) and `counts.Episodes` (judgements → firings), as the preview and the live
evaluation run them, with a default rule's settings (calls below the usual, sensitivity
medium, `min_calls` 5).

- Dips: the calls of 1, 3 or 6 hours thinned by 30, 60 or 90 % from a weekday morning
  (Tuesday 09:00), a weekday night (Wednesday 21:00) and a Sunday afternoon (14:00), each in
  `--trials` different weeks. Found: the rule fires during the dip; hours to detect: from
  the dip's start to the end of the hour whose judgement fired (median); "from its first
  hour": the firing names the dip's first hour as its start.
- False firings: every hour of the last 20 weeks judged without dips, firings per week
  (the holidays themselves, a real fall of volume, are counted apart), with the holidays
  given as the organisation's calendar (`holidays`: judged against past Sundays); the
  holidays that fired are counted both without the calendar and with it.

    python bench/anomaly_detection.py [--trials 12] [--seed 7] [--weeks 20]

Targets: every 90 % dip of 3 hours or more found at 400 calls a day and above, any day and
hour; at most one false firing a month (0.23 a week) per rule.
"""
from __future__ import annotations

import argparse
import collections
import itertools
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.alerts.counts import ALPHA, DEFAULT_MIN_EXPECTED, Episodes, Hour, judge_hours  # noqa: E402
from reports.alerts.seasonal import BASELINE_WEEKS  # noqa: E402
from sync.simulator.catalog import LOCAL_HOUR_WEIGHT, WEEKDAY_FACTOR, day_count  # noqa: E402

TZ = ZoneInfo("America/Sao_Paulo")
FIRST_DAY = date(2026, 1, 5)  # a Monday
WEEKS = 26
JUDGED_WEEKS = 20
VOLUMES = (40, 400, 4000)
DEPTHS = (0.3, 0.6, 0.9)
DURATIONS = (1, 3, 6)
# (name, weekday (Monday 0), local hour the dip starts)
PLACES = (("weekday morning", 1, 9), ("weekday night", 2, 21), ("Sunday afternoon", 6, 14))
HOLIDAY_WEEKS = (9, 15, 21)  # their Monday takes Sunday's volume
HOLIDAY_WEEKDAY = 0

Counts = dict[tuple[date, int], int]


def _thin(rng: random.Random, count: int, keep: float) -> int:
    """As the simulator's dip does: each call kept with probability `keep`."""
    return sum(rng.random() < keep for _ in range(count))


def draw(per_day: int, rng: random.Random) -> Counts:
    """26 weeks of calls per local hour, drawn as the simulator draws a day: its count
    (`catalog.day_count`, about Poisson) spread over the hours by their weights."""
    cumulative = list(itertools.accumulate(LOCAL_HOUR_WEIGHT))
    counts: Counts = {}
    for d in range(WEEKS * 7):
        day = FIRST_DAY + timedelta(days=d)
        factor = WEEKDAY_FACTOR[day.weekday()]
        if d // 7 in HOLIDAY_WEEKS and day.weekday() == HOLIDAY_WEEKDAY:
            factor = WEEKDAY_FACTOR[6]
        hours = collections.Counter(rng.choices(range(24), cum_weights=cumulative,
                                                k=day_count(rng, per_day * factor)))
        for hour in range(24):
            counts[(day, hour)] = hours[hour]
    return counts


def holiday_days() -> frozenset[date]:
    """The holidays' days: the Mondays of `HOLIDAY_WEEKS`."""
    return frozenset(FIRST_DAY + timedelta(weeks=w, days=HOLIDAY_WEEKDAY) for w in HOLIDAY_WEEKS)


def judge(counts: Counts, hours: list[Hour], sensitivity: str = "medium",
          holidays: frozenset[date] = frozenset()) -> list:
    return judge_hours(hours, lambda day, hour: counts.get((day, hour)), TZ,
                       weeks=BASELINE_WEEKS, below=True, alpha=ALPHA[sensitivity],
                       min_expected=DEFAULT_MIN_EXPECTED, holidays=holidays)


def hours_from(start: Hour, n: int) -> list[Hour]:
    return [Hour.starting(start.start + timedelta(hours=i), TZ) for i in range(n)]


def episodes(judged: list) -> Episodes:
    found = Episodes()
    for j in judged:
        if j is not None:  # None: not mirrored (never, here)
            found.add(j.judged, j.firing, j.start, j.end)
    return found


def false_firings(counts: Counts, sensitivity: str, calendar: frozenset[date]
                  ) -> tuple[float, int]:
    """(firings a week outside the holidays, holidays that fired), the organisation's
    holiday calendar being `calendar`."""
    first = FIRST_DAY + timedelta(weeks=WEEKS - JUDGED_WEEKS)
    hours = hours_from(Hour.at(first, 0, TZ), JUDGED_WEEKS * 7 * 24)
    found = episodes(judge(counts, hours, sensitivity, calendar)).found
    holidays = holiday_days()
    touched = [{e.start.astimezone(TZ).date(),
                (e.end - timedelta(seconds=1)).astimezone(TZ).date()} & holidays for e in found]
    # A holiday that fired in two episodes is one holiday that fired.
    fired = set().union(*touched)
    return sum(not days for days in touched) / JUDGED_WEEKS, len(fired)


def dip_trial(base: Counts, rng: random.Random, week: int, place: tuple, depth: float,
              duration: int) -> tuple[bool, float | None, bool]:
    """(found, hours to detect, the firing starts at the dip's first hour)."""
    _name, weekday, hour = place
    day = FIRST_DAY + timedelta(weeks=week, days=weekday)
    dip = hours_from(Hour.at(day, hour, TZ), duration)
    counts = dict(base)
    for h in dip:
        counts[(h.day, h.hour)] = _thin(rng, counts[(h.day, h.hour)], 1 - depth)
    judged = judge(counts, dip)
    for h, j in zip(dip, judged, strict=True):
        if j is not None and j.firing:
            return True, (h.end - dip[0].start) / timedelta(hours=1), j.start == dip[0].start
    return False, None, False


def main() -> None:
    global WEEKS, JUDGED_WEEKS  # noqa: PLW0603 - the data set's length, set once here
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--weeks", type=int, default=JUDGED_WEEKS,
                        help="weeks judged without dips (after 6 weeks of history)")
    args = parser.parse_args()
    JUDGED_WEEKS, WEEKS = args.weeks, args.weeks + 6
    started = time.perf_counter()
    rng = random.Random(args.seed)
    data = {volume: draw(volume, rng) for volume in VOLUMES}
    weeks = [WEEKS - JUDGED_WEEKS + (i * 7) % JUDGED_WEEKS for i in range(args.trials)]
    print(f"Dips found (of {args.trials} weeks each) · median hours to detect · firing from "
          f"the dip's first hour; sensitivity medium, min_calls {DEFAULT_MIN_EXPECTED}")
    print()
    print("| calls/day | dip at | fall | " + " | ".join(f"{d} h" for d in DURATIONS) + " |")
    print("|---:|---|---:|" + "---|" * len(DURATIONS))
    for volume in VOLUMES:
        for place in PLACES:
            for depth in DEPTHS:
                cells = []
                for duration in DURATIONS:
                    trials = [dip_trial(data[volume], rng, w, place, depth, duration)
                              for w in weeks]
                    found = [t for t in trials if t[0]]
                    if not found:
                        cells.append(f"0/{len(trials)}")
                        continue
                    delay = statistics.median(t[1] for t in found)
                    first = sum(t[2] for t in found)
                    cells.append(f"{len(found)}/{len(trials)} · {delay:g} h · "
                                 f"{first}/{len(found)} from 1st h")
                print(f"| {volume:,} | {place[0]} | {depth:.0%} | " + " | ".join(cells) + " |")
    print()
    print(f"False firings over {JUDGED_WEEKS} weeks without dips ({len(HOLIDAY_WEEKS)} with a "
          "holiday: a Monday at Sunday's volume), the holidays in the organisation's "
          "calendar; the holidays that fired without the calendar and with it")
    print()
    print("| calls/day | sensitivity | firings a week | firings a month | "
          "holidays fired, no calendar | holidays fired, in the calendar |")
    print("|---:|---|---:|---:|---:|---:|")
    for volume in VOLUMES:
        for sensitivity in ("low", "medium", "high"):
            _per_week, without = false_firings(data[volume], sensitivity, frozenset())
            per_week, holidays = false_firings(data[volume], sensitivity, holiday_days())
            print(f"| {volume:,} | {sensitivity} | {per_week:.2f} | {per_week * 30 / 7:.2f} | "
                  f"{without}/{len(HOLIDAY_WEEKS)} | {holidays}/{len(HOLIDAY_WEEKS)} |")
    print()
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
