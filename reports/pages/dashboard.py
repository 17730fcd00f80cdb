"""The dashboard: KPI tiles with deltas, charts (with their numbers as tables and CSV)."""
from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.pages.pages import render_org_page
from portal.replicas import reads_reports
from portal.tenancy.access import Tenant, org_page
from reports import exports, registry
from reports.call_filter import OUTCOME_LABELS
from reports.coverage_notes import callbacks_not_reported, comparison_note
from reports.drill import (
    OUTCOMES,
    Door,
    Drill,
    callbacks_drill,
    outcome_count,
    series_doors,
)
from reports.pages.cards import Kpi, card, outcome_kpis
from reports.pages.coverage import coverage_context
from reports.pages.kpis import Drills, kpi_doors
from reports.pages.page_cache import PageBody, kept_page, lazy_context
from reports.pages.params import scope_from_request
from reports.queries.callback_funnel import linked_totals
from reports.unsettled import split_other
from sync.models.core import Direction

WEEKDAYS = [gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"),
            gettext_lazy("Thu"), gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun")]


def _callback_door(back: Drill, vendor: int | None, linked: int | None, why: str,
                   **narrow) -> dict:
    """A callback card opens its calls only when the linked calls are exactly the vendor's
    count (the figure shown); otherwise it says so."""
    if vendor is not None and vendor == linked:
        return {"door": back.door(vendor, utc=True, **narrow)}
    return {"why_not": why}


def _kpis(calls, callbacks, drill: Drill, back: Drill,
          linked: tuple[int, int, int] | None = None) -> list[Kpi]:
    """The calls' cards, then the callbacks' (none when `callbacks` is None: no environment
    of the scope has a vendor with callback statistics)."""
    t, d = calls.totals, calls.deltas
    n = comparison_note(calls.comparison)
    # Rates and durations are figures of the connected calls: their door lists those.
    every = drill.door(t.total)
    answered = drill.door(t.answered, outcome="answered")
    cards = [
        card("calls", t, d, n, door=every),
        card("answer_rate", t, d, n, door=answered),
        card("talk_time", t, d, n, door=answered),
        card("avg_talk_time", t, d, n, door=answered),
    ]
    if callbacks is None:
        return cards
    c, cd, cn = callbacks.totals, callbacks.deltas, comparison_note(callbacks.comparison)
    # Callback figures open their calls through the stored links (`back`: UTC days, no
    # call filters, reports.drill.callbacks_drill) when those are the vendor's count.
    received, answered_back, unmatched = linked or (None, None, None)
    why = _("The vendor's count; the calls linked to it differ (see Callbacks).")
    return [
        *cards,
        card("callbacks_received", c, cd, cn,
             **_callback_door(back, c.received, received, why, callback="received")),
        card("callbacks_answered_rate", c, cd, cn,
             **_callback_door(back, c.answered, answered_back, why, callback="received",
                              outcome="answered")),
        card("callbacks_unmatched", c, cd, cn,
             **_callback_door(back, c.unmatched, unmatched, why, callback="unmatched")),
    ]


def _breakdown(calls, drill: Drill) -> list[tuple[str, list[tuple[str, int, Door]]]]:
    """Status and direction breakdowns of the period, each count with its door."""
    t = calls.totals
    statuses = [(str(OUTCOME_LABELS[o]), outcome_count(t, o),
                 drill.door(outcome_count(t, o), outcome=o)) for o in OUTCOMES
                if o != "other"]
    statuses += _unsettled_rows(calls, drill)
    directions = [(str(label), getattr(t, value), drill.door(getattr(t, value),
                                                             direction=value))
                  for value, label in Direction.choices]
    return [(_("By outcome"), statuses), (_("By direction"), directions)]


def _unsettled_rows(calls, drill: Drill) -> list[tuple[str, int, Door]]:
    """"Other" split at the sync's horizon (`reports.unsettled`): in progress, and calls
    whose outcome will stay unknown (stale), each with its door. Daily series only."""
    if calls.interval != "day":
        t = calls.totals
        return [(str(OUTCOME_LABELS["other"]), t.other, drill.door(t.other, outcome="other"))]
    scope = drill.scope
    today = timezone.localdate(timezone=scope.organization.tzinfo)
    split = split_other(calls.series, scope.environments, today)
    last_stale = min(scope.end, split.settling_from - timedelta(days=1))
    first_live = max(scope.start, split.settling_from)
    return [
        (_("In progress"), split.in_progress,
         drill.door(split.in_progress, outcome="other", start=first_live)),
        (_("Unknown outcome (stale after %(n)d days)") % {
            "n": (today - split.settling_from).days},
         split.stale, drill.door(split.stale, outcome="other", end=last_stale)),
    ]


def _figure(point, name: str):
    """One series value; None over a never-mirrored period (a gap in the chart)."""
    return None if point.figures is None else getattr(point.figures, name)


def _label(day, state: str) -> str:
    text = date_format(day, "SHORT_DATE_FORMAT")
    return f"{text} ({_('partial')})" if state == "partial" else text


def _chart_data(calls, callbacks, drill: Drill) -> dict:
    """Everything the page's charts draw, JSON-ready (labels localised server-side).

    `doors` holds, per stacked dataset, each point's explorer URL (clicked, a point opens
    its calls); the answer-rate line opens the point's answered calls.
    """
    series = calls.series
    doors = series_doors(drill, series)
    data = {
        "doors": {"status": [doors[o] for o in ("answered", "no_answer", "busy", "failed",
                                                  "other")],
                  "rate": doors["answered"], "total": doors["total"]},
        "labels": [_label(p.start, p.state) for p in series],
        "status": {
            _("Answered"): [_figure(p, "answered") for p in series],
            _("No answer"): [_figure(p, "no_answer") for p in series],
            _("Busy"): [_figure(p, "busy") for p in series],
            _("Failed"): [_figure(p, "failed") for p in series],
            _("Other"): [_figure(p, "other") for p in series],
        },
        # The open day's rate is left out: a half-read day is not a trend point.
        "answer_rate": [None if p.state != "covered" or p.figures.answer_rate is None
                        else round(p.figures.answer_rate * 100, 1) for p in series],
        "answer_rate_label": _("Answer rate (%)"),
        "cb_labels": [_label(d.day, "partial" if d.partial else "covered")
                      for d in callbacks.days],
        "callbacks": {
            _("Received"): [d.received for d in callbacks.days],
            _("Answered"): [d.answered for d in callbacks.days],
            _("Unmatched"): [d.unmatched for d in callbacks.days],
        },
    }
    if calls.hours is not None:
        data.update(_hourly_chart(calls.hours, drill))
    return data


# What the calls achieved, as an ops lead reads it each morning: the KPI report's own
# metrics (the API's, the KPIs page's), a row of their own beside the calls' ten cards.
ACHIEVED = ("success_rate", "containment_rate", "transfer_rate", "abandon_rate",
            "avg_handle_seconds")


def _achieved(slug: str, scope) -> list[Kpi]:
    """The KPI report's cards, each opening the calls it is computed over; a figure no
    vendor of the scope sends is empty with its reason ("not reported by …"), never 0, and
    one some vendors do not send says whose calls it leaves out."""
    totals = registry.run("kpis", scope).totals
    doors = kpi_doors(Drills(slug, scope), totals)
    return [card(key, totals, note=totals.reasons.get(key, ""), door=doors.get(key))
            for key in ACHIEVED]


STATUS_SERIES = (("answered", gettext_lazy("Answered")), ("no_answer", gettext_lazy("No answer")),
                 ("busy", gettext_lazy("Busy")), ("failed", gettext_lazy("Failed")),
                 ("other", gettext_lazy("Other")))


# An hour's answer rate is drawn from this many calls up: one call an hour swung the line
# between 100 % and 0 % (its counts are in the status bars beside it).
MIN_HOURLY_RATE_CALLS = 5


def _hourly_chart(points, drill: Drill) -> dict:
    """A one-day range drawn per local hour (a single daily bar said nothing): the summary's
    24 points by outcome (`reports.queries.hourly`), each opening its calls."""
    day = drill.scope.start

    def url(n: int, hour: int, **narrow) -> str | None:
        return drill.url(start=day, end=day, hour=hour, **narrow) if n else None

    answered = [url(p.answered, p.hour, outcome="answered") for p in points]
    return {
        "hourly": True,
        "labels": [f"{p.hour:02d}:00" for p in points],
        "status": {str(label): [getattr(p, key) for p in points] for key, label in STATUS_SERIES},
        "doors": {"status": [[url(getattr(p, key), p.hour, outcome=key) for p in points]
                             for key, _name in STATUS_SERIES],
                  "rate": answered, "total": [url(p.total, p.hour) for p in points]},
        "answer_rate": [None if p.answer_rate is None or p.total < MIN_HOURLY_RATE_CALLS
                        else round(p.answer_rate * 100, 1) for p in points],
    }


# The dashboard's downloads (`?format=csv&table=…`): the calls summary's tables and the
# callbacks summary's days (reports/exports.py).
EXPORTS = (*exports.CALLS_TABLES, "days")


def _export(table: str, scope) -> HttpResponse:
    kind = "callbacks" if table == "days" else "calls"
    name = exports.filename(kind, scope.organization.slug, scope.start, scope.end, table)
    names = {e.pk: e.name for e in scope.environments}
    report = registry.report(kind)
    return exports.stream_csv(report.rows(report.run(scope), table, names), name)


@reads_reports()
@org_page()
@kept_page("dashboard")
def dashboard(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    org = tenant.organization
    form, scope = scope_from_request(request, org)
    if scope is None or not scope.environments:
        return render_org_page(request, org, "reports/dashboard.html", {"form": form},
                               status=400 if form.errors else 200)
    exported = exports.export(request, EXPORTS, "series", lambda table: _export(table, scope))
    if exported is not None:
        return exported
    # The body is kept rendered by data version (reports.pages.page_cache): computed on a miss,
    # shared by every member; `kept_page` keeps this member's frame around it.
    body = PageBody.of("dashboard", request, scope, ("calls", "callbacks", "kpis"))
    context = {"form": form, "scope": scope, "body": body}
    if body.html is None:
        context.update(_body_context(org.slug, scope))
    else:  # kept: the body's context is computed only if something reads it (a test)
        context.update(lazy_context(BODY_KEYS, lambda: _body_context(org.slug, scope)))
    response = render_org_page(request, org, "reports/dashboard.html", context)
    response.page_body = body
    return response


BODY_KEYS = ("calls", "callbacks", "callbacks_not_reported", "drill", "outcomes", "kpis",
             "achieved", "chart_data", "breakdowns",
             "heatmap", "top_agents", "hours", "calls_missing", "callbacks_missing", "open_note",
             "comparison_note")


def _body_context(slug: str, scope) -> dict:
    """Everything the dashboard's body shows, from the (cached) summaries."""
    calls, callbacks = registry.run("calls", scope), registry.run("callbacks", scope)
    peak = max((max(row) for row in calls.heatmap), default=0) or 1
    heatmap = [(WEEKDAYS[i], [(n, round(n / peak, 2)) for n in row])
               for i, row in enumerate(calls.heatmap)]
    drill = Drill(slug, scope)  # one resolved base for every link of the page
    outcomes = registry.run("outcomes", scope)
    # A vendor without callback statistics is not a gap: no callback cards, no coverage
    # note, the chart's place says whose figures are not reported.
    reported = callbacks if any(e.spec.callback_stats for e in scope.environments) else None
    return {
        "calls": calls, "callbacks": callbacks, "drill": drill, "outcomes": outcomes,
        "kpis": _kpis(calls, reported, drill, callbacks_drill(slug, scope),
                      linked_totals(scope.environments, scope.start, scope.end)
                      if reported else None)
        + outcome_kpis(outcomes.totals, drill),
        "achieved": _achieved(slug, scope),
        "callbacks_not_reported": callbacks_not_reported(scope.environments),
        "chart_data": _chart_data(calls, callbacks, drill),
        "breakdowns": _breakdown(calls, drill),
        "heatmap": heatmap, "top_agents": calls.agents[:10], "hours": range(24),
        **coverage_context(scope.environments, calls, reported),
    }
