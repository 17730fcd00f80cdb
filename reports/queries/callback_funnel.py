"""The callback funnel: unanswered outbound calls → called back → callback answered → time to
callback, from the sync's stored links (`sync.callback_links`, the rule), beside the vendor's
own callback stats.

Days are UTC days, as the vendor counts its stats (and as the callbacks page shows them): the
callback side (received, answered, matched, unmatched, by source, time to callback) by the
callback's day, the outbound side (outbound calls not answered, how many of them were called
back) by the outbound call's day. Every day compares received, answered, unmatched and the
by-source counts with the mirrored `CallbackDay` / `CallbackSourceDay`: a day where they
differ lists each figure with both values (`differences`), never a silent mismatch. A day
the calls were not mirrored for is `mirrored = False` with no figures; a day whose match
window reaches days not mirrored says so (`window_complete = False`: its unmatched callbacks
may have a source we never read).

Cost: one read of the per-day rows (`CallbackFunnelDay`: the link side kept by
the link table's triggers, with each day's seconds to callback sorted and packed as bytes, so
percentiles need no scan of the links), the vendor's days and coverage; about a row per day
whatever the calls, never the links nor the calls. A period's median and p90 are picked from
its days' sorted seconds by rank (`percentiles_of_days`), never by sorting them together: the
Python work grows with the days, not the callbacks (reading the bytes still does: 4 bytes a
callback, unpacked in C).
The links themselves are counted only for the recount the tests hold the kept rows to
(`link_days(raw=True)`) and for a member restricted to teams.
For a member restricted to teams the kept rows (every agent's) are hidden: the links are
counted as the context narrows them and the outbound side from their teams' calls
(`team_outbound`); the vendor's daily stats (one environment's, every agent's) are not read,
shown nor compared (`vendor_shown = False`: the API's `vendor` is null, the page says why).
"""
from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from itertools import repeat

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from portal.models import Environment
from portal.tenancy.restriction import Restriction, agents_q, narrowing
from reports.days import check_range
from reports.queries.common import Interval, days_in, periods, ratio, resolve_environments
from sync.coverage import DayState, call_windows
from sync.models import Call, CallbackDay, CallbackFunnelDay, CallbackLink, CallbackSourceDay
from sync.models.callbacks import unpack_seconds
from sync.models.core import ANSWERED_STATUSES

COMPARED = ("received", "answered", "unmatched")


@dataclasses.dataclass(frozen=True)
class SourceCount:
    source_agent_id: str
    count: int


@dataclasses.dataclass(frozen=True)
class VendorFigures:
    """The mirrored callback-agent stats (None: the vendor's day was never fetched)."""

    received: int
    answered: int
    unmatched: int
    by_source: list[SourceCount]


@dataclasses.dataclass(frozen=True)
class Difference:
    """One figure of one day where the funnel and the vendor disagree."""

    day: date
    field: str  # received, answered, unmatched, or by_source:<agent id>
    funnel: int
    vendor: int


@dataclasses.dataclass(frozen=True)
class FunnelPeriod:
    """One period (a day, week or month) or the whole range (`totals`)."""

    start: date
    end: date
    received: int | None
    answered: int | None
    matched: int | None
    unmatched: int | None
    by_source: list[SourceCount]
    outbound_unanswered: int | None
    called_back: int | None
    called_back_rate: float | None
    answered_rate: float | None
    median_seconds_to_callback: float | None
    p90_seconds_to_callback: float | None
    vendor: VendorFigures | None
    differences: list[Difference]
    mirrored: bool  # every day of the period had its calls mirrored
    window_complete: bool  # every day's match window was mirrored too

    @property
    def agrees(self) -> bool:
        return not self.differences


@dataclasses.dataclass(frozen=True)
class CallbackFunnel:
    environment_ids: list[int]
    start: date
    end: date
    interval: str
    totals: FunnelPeriod
    series: list[FunnelPeriod]
    missing_days: list[date]  # calls never mirrored (the funnel has no figure for them)
    differing_days: list[date]
    # False for a team's scope (a restricted member, `?team=`): the vendor's daily stats count
    # every agent of an environment, so they are not a team's figures and are left out (every
    # `vendor` is None then, and nothing is compared) — not "never fetched".
    vendor_shown: bool = True


def _utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _mirrored_days(envs: list[Environment], start: date, end: date) -> dict[date, bool]:
    """UTC day → the calls of every environment were read for it (partial counts as read:
    today is compared as far as it went)."""
    windows = call_windows(envs)
    return {d: all(windows[e.pk].state(_utc(d), _utc(d + timedelta(days=1)))
                   != DayState.MISSING for e in envs) for d in days_in(start, end)}


def percentiles_of_days(days: list[list[int]]) -> tuple[float | None, float | None]:
    """(median, p90) of the days' seconds together, each day's list ascending, as
    PostgreSQL's `percentile_cont` (`reports.queries.common.PercentileCont`) gives them over
    every value, rounded to a tenth of a second, without merging the days: the two values each
    percentile interpolates between are found by rank (`_at_rank`), so the cost is about days
    × log(seconds), not the callbacks (the days keep their seconds packed, not as rows SQL
    could order: docs/callback-funnel.md)."""
    days = [d for d in days if d]
    n = sum(map(len, days))
    if not n:
        return None, None

    def at(p: float) -> float:
        pos = (n - 1) * p
        low = int(pos)
        a, b = _at_rank(days, low, n)
        return round(a + (b - a) * (pos - low), 1)

    return at(0.5), at(0.9)


def _at_rank(days: list[list[int]], k: int, n: int) -> tuple[int, int]:
    """The values at ranks k and k + 1 (0-based; k + 1 clipped to n - 1) of the days' sorted
    integer lists taken together: a binary search on the value, counting with bisect."""
    if len(days) == 1:
        only = days[0]
        return only[k], only[min(k + 1, n - 1)]
    lo, hi = min(d[0] for d in days), max(d[-1] for d in days)
    while lo < hi:  # the least value with more than k values at or below it
        mid = (lo + hi) // 2
        if sum(map(bisect_right, days, repeat(mid))) > k:
            hi = mid
        else:
            lo = mid + 1
    if k + 1 >= n or sum(map(bisect_right, days, repeat(lo))) > k + 1:
        return lo, lo
    return lo, min(d[i] for d in days if (i := bisect_right(d, lo)) < len(d))


@dataclasses.dataclass
class LinkDays:
    """The funnel per UTC day, over the environments: by the callback's day `received`,
    `answered`, `by_source` (source agent id → matched callbacks) and `seconds` (seconds to
    callback, ascending, of the callbacks of an outbound call NOT answered: a callback after
    an answered call is a new contact, nobody waited for it); by the outbound call's day
    `called_back`, and `outbound_unanswered` (always from the kept rows: the rollups refresh it)."""

    received: dict[date, int] = dataclasses.field(default_factory=dict)
    answered: dict[date, int] = dataclasses.field(default_factory=dict)
    by_source: dict[date, dict[str, int]] = dataclasses.field(default_factory=dict)
    seconds: dict[date, list[int]] = dataclasses.field(default_factory=dict)
    called_back: dict[date, int] = dataclasses.field(default_factory=dict)
    outbound_unanswered: dict[date, int] = dataclasses.field(default_factory=dict)

    def add(self, field: str, day: date, n: int) -> None:
        if n:
            target = getattr(self, field)
            target[day] = target.get(day, 0) + n

    def normalised(self) -> LinkDays:
        """Sorted seconds, no empty entries: two counts of the same links compare equal."""
        return LinkDays(
            dict(self.received), dict(self.answered),
            {d: dict(by) for d, by in self.by_source.items() if by},
            {d: sorted(v) for d, v in self.seconds.items() if v}, dict(self.called_back),
            dict(self.outbound_unanswered))


def link_days(organization_id: int, environment_ids: list[int], start: date, end: date, *,
              raw: bool = False, sources: Q | None = None) -> LinkDays:
    """The funnel's link side for the UTC days start..end: from the kept per-day rows
    (sync.models.callbacks), or, `raw`, counted from the links (the kept rows' recount).
    `sources` (raw only) limits `called_back` to the links whose outbound call it names: a
    team's outbound calls are its source agents'."""
    out = LinkDays()
    days = CallbackFunnelDay.objects.for_organization(organization_id).filter(
        environment_id__in=environment_ids, day__gte=start, day__lte=end)
    if raw:
        for day, n in days.values_list("day", "outbound_unanswered"):
            out.add("outbound_unanswered", day, n)
    else:
        rows = days.values_list(
            "day", "outbound_unanswered", "callbacks_received", "callbacks_answered",
            "callbacks_by_source", "seconds_to_callback", "called_back")
        for day, outbound, received, answered, by_source, seconds, called_back in rows:
            out.add("outbound_unanswered", day, outbound)
            out.add("received", day, received)
            out.add("answered", day, answered)
            out.add("called_back", day, called_back)
            if by_source:
                by = out.by_source.setdefault(day, {})
                for agent, n in by_source.items():
                    by[agent] = by.get(agent, 0) + n
            if seconds:
                if day in out.seconds:  # several environments: one list, ascending
                    out.seconds[day] = sorted(out.seconds[day] + unpack_seconds(seconds))
                else:
                    out.seconds[day] = unpack_seconds(seconds)
        return out
    links = CallbackLink.objects.for_organization(organization_id).filter(
        environment_id__in=environment_ids, is_testing=False)
    in_range = links.filter(callback_day__gte=start, callback_day__lte=end)
    for day, source, answered, n in in_range.values_list(
            "callback_day", "source_agent_external_id", "callback_answered").annotate(
            n=Count("id")).order_by():
        out.add("received", day, n)
        if answered:
            out.add("answered", day, n)
        if source:
            by = out.by_source.setdefault(day, {})
            by[source] = by.get(source, 0) + n
    for day, seconds in in_range.filter(source_answered=False).exclude(
            seconds_to_callback=None).values_list("callback_day", "seconds_to_callback"):
        out.seconds.setdefault(day, []).append(seconds)
    for values in out.seconds.values():
        values.sort()
    # Per environment, as the kept rows count them (ids are the upstream's, per environment).
    called = links.filter(sources) if sources is not None else links
    for _env, day, n in called.filter(source_day__gte=start, source_day__lte=end,
                                      source_answered=False).values_list(
            "environment_id", "source_day").annotate(
            n=Count("source_external_id", distinct=True)).order_by():
        out.add("called_back", day, n)
    return out


def _seconds_by_period(seconds: dict[date, list[int]], bounds: list[tuple[date, date]]
                       ) -> dict[tuple[date, date] | None, tuple[float | None, float | None]]:
    """(median, p90) of the seconds to callback (callbacks of outbound calls not answered)
    per period and over all (key None); `seconds` per day ascending."""
    out: dict = {}
    every: list[list[int]] = []
    for first, last in bounds:
        days = [seconds[d] for d in days_in(first, last) if seconds.get(d)]
        if days:
            out[(first, last)] = percentiles_of_days(days)
            every.extend(days)
    if every:
        out[None] = percentiles_of_days(every)
    return out


def source_agents(restriction: Restriction) -> Q:
    """Links whose outbound (source) call is one of the restriction's agents'."""
    return agents_q(restriction, "environment_id", "source_agent_external_id")


def team_outbound(calls: QuerySet, start: date, end: date) -> dict[date, int]:
    """A restricted member's outbound calls not answered per UTC day, counted from their
    teams' calls (the stored `CallbackFunnelDay` counts every agent's; the context hides it):
    the same rule as `sync.callback_links`, over a team's calls only."""
    rows = calls.filter(direction="outbound", is_testing=False, started_at__gte=_utc(start),
                        started_at__lt=_utc(end + timedelta(days=1))).exclude(
        status__in=ANSWERED_STATUSES).annotate(day=TruncDate("started_at", tzinfo=UTC)
                                               ).values_list("day").annotate(n=Count("id"))
    return dict(rows.order_by())


def callback_funnel(environments: Iterable[Environment] | QuerySet[Environment], start: date,
                    end: date, interval: str = Interval.DAY.value) -> CallbackFunnel:
    """The funnel of `environments` over the UTC days start..end, per `interval`."""
    check_range(start, end, max_days=None)
    envs, org = resolve_environments(environments)
    env_ids = [e.pk for e in envs]
    bounds = list(periods(start, end, interval))
    days = _funnel_days(envs, org, start, end, bounds)
    return CallbackFunnel(
        environment_ids=env_ids, start=start, end=end, interval=Interval(interval).value,
        totals=days.period(start, end, None),
        series=[days.period(first, last, (first, last)) for first, last in bounds],
        missing_days=[d for d in days_in(start, end) if not days.mirrored[d]],
        differing_days=sorted(d for d, diff in days.differences.items() if diff),
        vendor_shown=not days.restricted)


@dataclasses.dataclass(frozen=True)
class AnsweredSteps:
    """Each funnel's last step, counted from the links over the funnel's UTC days: the
    outbound calls not answered that a callback answered reached (by the outbound call's
    day, like `called_back`), and the matched callbacks that were answered (by the callback's
    day): each a part of the step before it."""

    called_back_answered: int
    matched_answered: int


def answered_steps(funnel: CallbackFunnel, environments: list[Environment]) -> AnsweredSteps:
    """The two last steps of `funnel` (of `environments`, read through the request's
    context: a team's links, its outbound side by its source agents, as `called_back`)."""
    _envs, org = resolve_environments(environments)
    links = CallbackLink.objects.for_organization(org).filter(
        environment_id__in=funnel.environment_ids, is_testing=False, callback_answered=True)
    restriction = narrowing(funnel.environment_ids)
    sources = links.filter(source_agents(restriction)) if restriction is not None else links
    reached = sources.filter(source_day__gte=funnel.start, source_day__lte=funnel.end,
                             source_answered=False).values(
        "environment_id", "source_external_id").distinct().count()
    matched = links.filter(callback_day__gte=funnel.start, callback_day__lte=funnel.end
                           ).exclude(source_external_id="").count()
    return AnsweredSteps(reached, matched)


@dataclasses.dataclass
class _FunnelDays:
    """What every period of one funnel is summed from: the links' figures per UTC day, the
    outbound calls not answered and those called back, the vendor's days and where they
    differ, which days (and whole match windows) are mirrored, the seconds per period."""

    per_day: dict[date, dict]
    outbound: dict[date, int]
    called_back: dict[date, int]
    vendor: dict[date, list]
    differences: dict[date, list[Difference]]
    mirrored: dict[date, bool]
    window_whole: dict[date, bool]
    seconds: dict
    restricted: bool

    def period(self, first: date, last: date, key) -> FunnelPeriod:
        """One period's figures; None where a day of it was never mirrored."""
        days = days_in(first, last)
        window_ok = all(self.window_whole[d] for d in days)
        vendor_figures = _vendor([self.vendor[d] for d in days if d in self.vendor])
        diffs = [x for d in days if d in self.differences for x in self.differences[d]]
        if not all(self.mirrored[d] for d in days):
            return FunnelPeriod(first, last, None, None, None, None, [], None, None, None,
                                None, None, None, vendor_figures, diffs, False, window_ok)
        rows = [self.per_day[d] for d in days if d in self.per_day]
        received = sum(row["received"] for row in rows)
        answered = sum(row["answered"] for row in rows)
        matched = sum(row["matched"] for row in rows)
        by: dict[str, int] = defaultdict(int)
        for row in rows:
            for src, n in row["by"].items():
                by[src] += n
        unanswered = sum(self.outbound.get(d, 0) for d in days)
        back = sum(self.called_back.get(d, 0) for d in days)
        median, p90 = self.seconds.get(key, (None, None))
        return FunnelPeriod(
            first, last, received, answered, matched, received - matched, _sources(by),
            unanswered, back, ratio(back, unanswered), ratio(answered, received), median, p90,
            vendor_figures, diffs, True, window_ok)


def _funnel_days(envs: list[Environment], org, start: date, end: date,
                 bounds: list[tuple[date, date]]) -> _FunnelDays:
    env_ids = [e.pk for e in envs]
    window = max(e.callback_match_days for e in envs)
    mirrored = _mirrored_days(envs, start - timedelta(days=window), end)

    def of(model):
        return model.objects.for_organization(org).filter(environment_id__in=env_ids)

    restriction = narrowing(env_ids)
    restricted = restriction is not None
    # A team's outbound calls not answered are its agents' (`team_outbound`); those called
    # back are the links whose source agent is theirs (not every link they may read: a link
    # of their callback agent may answer another team's call).
    kept = link_days(org, env_ids, start, end, raw=restricted,
                     sources=source_agents(restriction) if restricted else None)
    per_day: dict[date, dict] = {}
    for day in kept.received.keys() | kept.by_source.keys():
        by = kept.by_source.get(day, {})
        per_day[day] = {"received": kept.received.get(day, 0),
                        "answered": kept.answered.get(day, 0),
                        "matched": sum(by.values()), "by": by}
    vendor = {} if restricted else _vendor_days(of, start, end)
    return _FunnelDays(
        per_day=per_day,
        outbound=team_outbound(of(Call), start, end) if restricted else kept.outbound_unanswered,
        called_back=kept.called_back, vendor=vendor,
        differences={day: _compare(day, per_day.get(day), vendor[day])
                     for day in days_in(start, end) if day in vendor and mirrored[day]},
        mirrored=mirrored,
        # Each day's match window mirrored whole, once (a period asks it of each of its days).
        window_whole={d: all(mirrored[d - timedelta(days=k)] for k in range(window + 1))
                      for d in days_in(start, end)},
        seconds=_seconds_by_period(kept.seconds, [*bounds]), restricted=restricted)


def _vendor_days(of, start: date, end: date) -> dict[date, list]:
    """The vendor's figures per UTC day: [received, answered, unmatched, {source: count}].
    Not read for a team's scope: a day's received, answered and unmatched count every agent
    of the environment, and its by-source counts alone would not make a team's figure."""
    vendor: dict[date, list] = {}
    for day, received, answered, unmatched in of(CallbackDay).filter(
            day__gte=start, day__lte=end).values_list("day", "total_received", "answered",
                                                      "unmatched"):
        v = vendor.setdefault(day, [0, 0, 0, defaultdict(int)])
        v[0], v[1], v[2] = v[0] + received, v[1] + answered, v[2] + unmatched
    for day, source, count in of(CallbackSourceDay).filter(
            day__gte=start, day__lte=end).values_list("day", "source_agent_id", "count"):
        if day in vendor:
            vendor[day][3][source] += count
    return vendor


def linked_totals(environments: list[Environment], start: date, end: date
                  ) -> tuple[int, int, int]:
    """(received, answered, unmatched) of the non-test linked callbacks of the UTC days
    start..end, in one query: what a callback card's door would list."""
    org = environments[0].organization_id
    got = CallbackLink.objects.for_organization(org).filter(
        environment_id__in=[e.pk for e in environments], callback_day__gte=start,
        callback_day__lte=end, is_testing=False).aggregate(
        received=Count("id"), answered=Count("id", filter=Q(callback_answered=True)),
        unmatched=Count("id", filter=Q(source_external_id="")))
    return got["received"], got["answered"], got["unmatched"]


def _sources(by: dict[str, int]) -> list[SourceCount]:
    return [SourceCount(src, n) for src, n in sorted(by.items(), key=lambda kv: (-kv[1], kv[0]))]


def _vendor(days: list[list]) -> VendorFigures | None:
    if not days:
        return None
    by: dict[str, int] = defaultdict(int)
    for day in days:
        for src, n in day[3].items():
            by[src] += n
    return VendorFigures(sum(d[0] for d in days), sum(d[1] for d in days),
                         sum(d[2] for d in days), _sources(by))


def _compare(day: date, ours: dict | None, theirs: list) -> list[Difference]:
    ours = ours or {"received": 0, "answered": 0, "matched": 0, "by": {}}
    mine = {"received": ours["received"], "answered": ours["answered"],
            "unmatched": ours["received"] - ours["matched"]}
    out = [Difference(day, f, mine[f], v) for f, v in zip(COMPARED, theirs[:3], strict=True)
           if mine[f] != v]
    for src in sorted(set(ours["by"]) | set(theirs[3])):
        a, b = ours["by"].get(src, 0), theirs[3].get(src, 0)
        if a != b:
            out.append(Difference(day, f"by_source:{src}", a, b))
    return out
