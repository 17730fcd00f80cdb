"""The live wallboard's figures (`/o/<slug>/live/`): today, for a TV across the room.

- Today's calls by local hour beside the usual band for that hour of the week: the
  `anomaly` condition's band (`reports.alerts.anomaly.usual_bands`), from the days an anomaly
  rule compares today with (the same weekday of the previous weeks; on one of the
  organisation's holidays the Sundays before it; listed holidays left out) that the mirror
  holds whole — an unmirrored week is left out, never counted as zero — so the board and an
  anomaly rule never disagree on what "usual" is.
- Calls today and the answer rate (the dashboard's report and metrics, `reports.registry`, so
  the two agree) and the usual by this time.
- In progress: calls the mirror still holds open (initiated, ringing, queued, or answered
  and not yet ended) that started in the last `IN_PROGRESS_WINDOW`. An open call older than
  that is no call in progress but one whose end the mirror never saw: counted apart ("3 stuck
  since …", the oldest one's start), as far back as the sync still re-reads (`OPEN_LOOKBACK`).
- Answer rate; callbacks waiting (today's callbacks not answered, from the sync's links)
  with the oldest one's wait; one tile per agent who had calls today.
- Colours from the organisation's `WallboardThresholds`; the team a restricted board shows.
- How old the figures are: the least recently synced environment's last sync and its age,
  amber past twice its sync interval and red past four times (a TV has no one to notice
  that the mirror stopped; the page's own refresh says nothing about the data's age).
Every figure is written for the reader (`portal.formatting`); the page polls them as JSON.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.durations import format_duration
from portal.formatting import EMPTY, format_int, format_moment, format_percent
from portal.models import Environment, Organization
from portal.tenancy.restriction import active as restriction_active
from reports import registry
from reports.alerts.anomaly import team_scope, usual_bands
from reports.alerts.counts import compared_days
from reports.alerts.hourly import hourly_figures
from reports.holidays.models import holidays_of
from reports.scope import build_scope
from reports.wallboard.models import WallboardThresholds
from sync.coverage import DayState, calls_coverage
from sync.models import Agent, Call, CallbackLink, CallRollup
from sync.models.core import ANSWERED_STATUSES

USUAL_WEEKS = 6  # the anomaly condition's BASELINE_WEEKS: the same weeks, the same band
# Statuses the mirror still expects to change (the sync re-reads them): a call in progress.
OPEN_STATUSES = ("initiated", "ringing", "queued", "answered")
# How far back a call still open counts as stuck (the sync's lookback: older ones are settled).
OPEN_LOOKBACK = timedelta(days=2)
# An open call that started longer ago than this is not in progress: a voice agent's call does
# not last hours, so the mirror missed its end (the vendor never sent it, or not yet).
IN_PROGRESS_WINDOW = timedelta(hours=2)
# The figures turn amber, then red, once the last sync is this many sync intervals old.
STALE_AMBER, STALE_RED = 2, 4


@dataclass(frozen=True)
class HourBar:
    """One local hour of today: its calls (None: not yet) and the usual band (None: no
    band, fewer than three mirrored weeks), with heights in percent of the chart's top."""

    hour: int
    label: str
    calls: int | None
    low: float | None
    high: float | None
    height: int
    band_bottom: int
    band_height: int
    state: str  # "", "below" or "above" the band


@dataclass(frozen=True)
class AgentTile:
    name: str
    environment: str  # "" when the organisation has one environment
    calls: str
    answer_rate: str
    state: str


@dataclass(frozen=True)
class Board:
    """The wallboard's figures, written for the reader (`portal.formatting`)."""

    calls_today: str
    usual: str
    in_progress: str
    stuck: str
    answer_rate: str
    answer_state: str
    callbacks_waiting: str
    oldest_wait: str
    waiting_state: str
    last_sync: str
    data_age: str
    sync_state: str  # "ok", "amber" or "red"
    sync_note: str
    team: str
    hours: list[dict] = field(default_factory=list)
    agents: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)


def _midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _covered_weeks(org: Organization, envs: list[Environment], today: date, now: datetime
                   ) -> list[date]:
    """The days today is compared with, as an anomaly rule compares them
    (`counts.compared_days`: a holiday's are Sundays; listed holidays left out), that the
    mirror holds whole."""
    holidays = holidays_of(org)
    days = [d for d in compared_days(today, USUAL_WEEKS, holidays) if d not in holidays]
    if not days:
        return []
    coverage = calls_coverage(envs, min(days), max(days), now=now)
    return [d for d in days if coverage.state(d) == DayState.COVERED]


def usual_so_far(org: Organization, envs: list[Environment], now: datetime,
                 weeks: list[date] | None = None) -> int | None:
    """Median calls from local midnight to this local time on the same weekday of the
    previous weeks the mirror holds whole; None when it holds none of them."""
    local = timezone.localtime(now, org.tzinfo)
    weeks = _covered_weeks(org, envs, local.date(), now) if weeks is None else weeks
    calls = Call.objects.for_organization(org).filter(
        environment_id__in=[e.pk for e in envs], is_testing=False)
    counts = [calls.filter(started_at__gte=_midnight(d, org.tzinfo),
                           started_at__lt=datetime.combine(d, local.time(),
                                                           tzinfo=org.tzinfo)).count()
              for d in weeks]
    return round(statistics.median(counts)) if counts else None


def _hours(envs: list[Environment], today: date, now_hour: int, weeks: list[date]
           ) -> list[HourBar]:
    scope = team_scope(tuple(e.pk for e in envs))
    found = hourly_figures(scope, [today])
    bands = usual_bands(scope, weeks)
    calls = {h: found[(today, h)].calls if (today, h) in found else 0
             for h in range(now_hour + 1)}
    top = max([*calls.values(), *(b.high for b in bands.values()), 1])
    bars = []
    for hour in range(24):
        band = bands.get(hour)
        n = calls.get(hour)
        state = ""
        if band is not None and n is not None and hour < now_hour:  # a whole hour only
            state = "below" if n < band.low else "above" if n > band.high else ""
        bars.append(HourBar(
            hour, f"{hour:02d}", n, band.low if band else None, band.high if band else None,
            round(100 * (n or 0) / top), round(100 * band.low / top) if band else 0,
            round(100 * (band.high - band.low) / top) if band else 0, state))
    return bars


def _agents(org: Organization, envs: list[Environment], today: date,
            thresholds: WallboardThresholds) -> list[AgentTile]:
    rows = (CallRollup.objects.for_organization(org)
            .filter(environment_id__in=[e.pk for e in envs], day=today, is_testing=False)
            .values("environment_id", "agent_external_id")
            .annotate(calls=Sum("count"),
                      answered=Sum("count", filter=Q(status__in=ANSWERED_STATUSES))))
    names = {(a.environment_id, a.external_id): a.name
             for a in Agent.objects.for_organization(org).filter(
                 environment_id__in=[e.pk for e in envs])}
    env_names = {e.pk: e.name for e in envs}
    tiles = []
    for row in sorted(rows, key=lambda r: -r["calls"]):
        if not row["calls"]:
            continue
        key = (row["environment_id"], row["agent_external_id"])
        rate = (row["answered"] or 0) / row["calls"]
        tiles.append(AgentTile(
            Agent.shown_name(names.get(key, ""), row["agent_external_id"]),
            env_names[key[0]] if len(envs) > 1 else "",
            ngettext("%(n)s call", "%(n)s calls", row["calls"]) % {
                "n": format_int(row["calls"])},
            format_percent(rate),
            thresholds.rate_state(rate, row["calls"])))
    return tiles


def _waiting(org: Organization, envs: list[Environment], today: date, now: datetime
             ) -> tuple[int, datetime | None]:
    """Today's callbacks not answered, and when the first of them came."""
    found = CallbackLink.objects.for_organization(org).filter(
        environment_id__in=[e.pk for e in envs], is_testing=False, callback_answered=False,
        callback_started_at__gte=_midnight(today, org.tzinfo), callback_started_at__lte=now,
    ).aggregate(n=Count("pk"), first=Min("callback_started_at"))
    return found["n"], found["first"]


def board(org: Organization, envs: list[Environment], now: datetime) -> Board:
    """The figures of `envs` (the organisation's environments the request may read) at
    `now`, its times in the organisation's timezone (named once, by the page)."""
    with timezone.override(org.tzinfo):
        return _board(org, envs, now)


def _team_name() -> str:
    restriction = restriction_active()
    return ", ".join(restriction.names) if restriction is not None else ""


def _freshness(envs: list[Environment], now: datetime) -> tuple[str, str, str, str]:
    """(last sync, its age, "ok" / "amber" / "red", a note when not "ok") of the least
    recently synced environment, each judged by its own sync interval."""
    oldest: Environment | None = None
    worst = 0.0
    for env in envs:
        if env.last_synced_at is None:
            return (_("Never synced"), "", "red",
                    _("%(env)s has never synced: these figures are incomplete")
                    % {"env": env.name})
        age = (now - env.last_synced_at).total_seconds()
        intervals = age / (60 * max(env.sync_interval_minutes, 1))
        if oldest is None or intervals > worst:
            oldest, worst = env, intervals
    assert oldest is not None and oldest.last_synced_at is not None
    seconds = max(0, int((now - oldest.last_synced_at).total_seconds()))
    minutes = seconds // 60
    age = (ngettext("%(n)s minute ago", "%(n)s minutes ago", minutes) % {"n": minutes}
           if minutes < 60 else _("%(age)s ago") % {"age": format_duration(minutes * 60)})
    state = "red" if worst > STALE_RED else "amber" if worst > STALE_AMBER else "ok"
    note = "" if state == "ok" else ngettext(
        "Not current: the mirror syncs every minute",
        "Not current: the mirror syncs every %(n)s minutes",
        oldest.sync_interval_minutes) % {"n": oldest.sync_interval_minutes}
    return format_moment(oldest.last_synced_at), age, state, note


def _stuck(open_calls, since: datetime) -> str:
    """"3 stuck since …": open calls that started before `since`, with the oldest's start."""
    found = open_calls.filter(started_at__lt=since).aggregate(
        n=Count("pk"), first=Min("started_at"))
    if not found["n"]:
        return ""
    return ngettext("%(n)s stuck open since %(when)s", "%(n)s stuck open since %(when)s",
                    found["n"]) % {"n": format_int(found["n"]),
                                   "when": format_moment(found["first"])}


def _board(org: Organization, envs: list[Environment], now: datetime) -> Board:
    if not envs:
        return Board(EMPTY, "", EMPTY, "", EMPTY, "", EMPTY, "", "", _("Never synced"), "",
                     "", "", _team_name())
    local = timezone.localtime(now, org.tzinfo)
    today = local.date()
    thresholds = WallboardThresholds.of(org)
    # Today's calls report, as the dashboard reads it (cached under the same key).
    calls = registry.run("calls", build_scope(org, envs, today, today), now)
    mirrored = today not in calls.coverage.missing_days
    weeks = _covered_weeks(org, envs, today, now)
    usual = usual_so_far(org, envs, now, weeks)
    open_calls = Call.objects.for_organization(org).filter(
        environment_id__in=[e.pk for e in envs], status__in=OPEN_STATUSES, is_testing=False,
        started_at__gte=now - OPEN_LOOKBACK, started_at__lte=now)
    recent = now - IN_PROGRESS_WINDOW
    in_progress = open_calls.filter(started_at__gte=recent).count()
    waiting, first = _waiting(org, envs, today, now)
    oldest = int((now - first).total_seconds()) if first else None
    last_sync, age, sync_state, sync_note = _freshness(envs, now)
    rate = registry.metric("answer_rate").value(calls.totals) if mirrored else None
    return Board(
        calls_today=format_int(calls.totals.total) if mirrored else EMPTY,
        usual=(_("usually %(usual)s by this time") % {"usual": format_int(usual)}
               if usual is not None else _("no usual yet: earlier weeks not mirrored")),
        in_progress=format_int(in_progress),
        stuck=_stuck(open_calls, recent),
        answer_rate=format_percent(rate) if mirrored else EMPTY,
        answer_state=thresholds.rate_state(rate, calls.totals.total) if mirrored else "",
        callbacks_waiting=format_int(waiting),
        oldest_wait=(_("oldest waiting %(wait)s") % {"wait": format_duration(oldest)}
                     if oldest is not None else _("none waiting")),
        waiting_state=thresholds.waiting_state(
            waiting, oldest // 60 if oldest is not None else None),
        last_sync=last_sync, data_age=age, sync_state=sync_state, sync_note=sync_note,
        team=_team_name(),
        hours=[asdict(h) for h in _hours(envs, today, local.hour, weeks)],
        agents=[asdict(a) for a in _agents(org, envs, today, thresholds)])
