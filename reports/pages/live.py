"""The live wallboard (`/o/<slug>/live/`): today's figures for a TV across the room.

Today's calls so far against the usual for this time of the week (the median of the same
weekday's calls up to the same local time over the previous `USUAL_WEEKS` weeks, counting
only the days the mirror holds whole: an unmirrored week is left out, never counted as
zero), the calls the mirror still holds open (initiated, ringing, queued or answered and
not yet ended, started in the last day), today's answer rate (the dashboard's report, so
the two agree), callbacks received today and not answered (the vendor's stats), and when the
mirror last synced. The page polls `live/data/` (JSON, the figures already written the
reader's way) and updates itself: no build step, no page reload; without JavaScript it
reloads itself every minute.
"""
from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.formatting import EMPTY, format_int, format_moment, format_percent
from portal.models import Environment, Organization
from portal.pages.pages import render_org_page
from portal.tenancy.access import Tenant, org_page
from reports.call_filter import CallCriteria, filter_calls
from reports.queries import callbacks_summary, calls_summary
from sync.coverage import DayState, calls_coverage
from sync.models import Call

USUAL_WEEKS = 4
# Statuses the mirror still expects to change (the sync re-reads them): a call in progress.
OPEN_STATUSES = ("initiated", "ringing", "queued", "answered")
# How often the page asks for new figures (seconds); the mirror itself syncs every minute
# at best, so a faster poll would show nothing new.
POLL_SECONDS = 30


@dataclass(frozen=True)
class Board:
    """The wallboard's figures, written for the reader (`portal.formatting`)."""

    calls_today: str
    usual: str
    in_progress: str
    answer_rate: str
    callbacks_waiting: str
    last_sync: str
    updated: str


def _calls_between(org: Organization, env_ids: list[int], start: datetime,
                   before: datetime) -> int:
    return filter_calls(CallCriteria(environment_ids=env_ids, timezone=org.tzinfo,
                                     started_from=start, started_before=before),
                        Call.objects.for_organization(org)).count()


def usual_so_far(org: Organization, envs: list[Environment], now: datetime) -> int | None:
    """Median calls from local midnight to this local time on the same weekday of the
    previous weeks the mirror holds whole; None when it holds none of them."""
    tz = org.tzinfo
    local = timezone.localtime(now, tz)
    days = [local.date() - timedelta(weeks=w) for w in range(1, USUAL_WEEKS + 1)]
    coverage = calls_coverage(envs, days[-1], days[0], now=now)
    env_ids = [e.pk for e in envs]
    counts = []
    for day in days:
        if coverage.state(day) != DayState.COVERED:
            continue
        midnight = datetime.combine(day, time.min, tzinfo=tz)
        same_time = datetime.combine(day, local.time(), tzinfo=tz)
        counts.append(_calls_between(org, env_ids, midnight, same_time))
    return round(statistics.median(counts)) if counts else None


def board(org: Organization, envs: list[Environment], now: datetime) -> Board:
    """The figures of `envs` (the organisation's environments) at `now`, its times in the
    organisation's timezone (named)."""
    with timezone.override(org.tzinfo):
        return _board(org, envs, now)


def _board(org: Organization, envs: list[Environment], now: datetime) -> Board:
    if not envs:
        return Board(EMPTY, "", EMPTY, EMPTY, EMPTY, _("Never synced"), format_moment(now))
    today: date = timezone.localtime(now, org.tzinfo).date()
    calls = calls_summary(envs, today, today)
    mirrored = today not in calls.coverage.missing_days
    usual = usual_so_far(org, envs, now)
    open_calls = Call.objects.for_organization(org).filter(
        environment_id__in=[e.pk for e in envs], status__in=OPEN_STATUSES, is_testing=False,
        started_at__gte=now - timedelta(days=1)).count()
    callbacks = callbacks_summary(envs, today, today)
    waiting = (callbacks.totals.received - callbacks.totals.answered
               if callbacks.totals.days_mirrored else None)
    synced = max((e.last_synced_at for e in envs if e.last_synced_at), default=None)
    return Board(
        calls_today=format_int(calls.totals.total) if mirrored else EMPTY,
        usual=(_("usually %(usual)s by this time") % {"usual": format_int(usual)}
               if usual is not None else _("no usual yet: earlier weeks not mirrored")),
        in_progress=format_int(open_calls),
        answer_rate=format_percent(calls.totals.answer_rate) if mirrored else EMPTY,
        callbacks_waiting=format_int(waiting) if waiting is not None else EMPTY,
        last_sync=(f"{format_moment(synced)} ({org.timezone})" if synced
                   else _("Never synced")),
        updated=f"{format_moment(now)} ({org.timezone})")


def _board_for(request: HttpRequest) -> Board:
    org = request.tenant.organization
    envs = list(request.tenant.environments.select_related("organization").order_by("pk"))
    return board(org, envs, timezone.now())


@org_page()
def live(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The wallboard page (figures rendered at once; `live.js` keeps them current)."""
    org = tenant.organization
    return render_org_page(request, org, "reports/live.html", {
        "board": _board_for(request), "poll_seconds": POLL_SECONDS})


@org_page()
def live_data(request: HttpRequest, tenant: Tenant) -> JsonResponse:
    """The wallboard's figures as JSON, for the page's poll."""
    return JsonResponse(asdict(_board_for(request)))
