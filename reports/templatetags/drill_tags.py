"""Template side of `reports.drill`: a figure rendered as a link to the calls it counts.

Each link carries `data-calls` (how many calls the explorer will list), so a test (and a
curious reader) can check the door against the figure. Figures of zero calls are shown
without a link: there is nothing behind them to open.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from html import escape
from typing import Any

from django import template
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.durations import format_duration
from portal.form_renderer import template_text
from portal.formatting import (
    active_ngettext,
    day_formatter,
    format_int,
    int_formatter,
    percent_formatter,
)
from reports import drill
from reports.pages import viewstate
from sync.models import Agent

register = template.Library()


def _link(text: Any, calls: int, url: str) -> str:
    """`text` as a drill link, exactly as `format_html` wrote it (each value escaped by
    `_escaped`): a dashboard writes 300 to 1,200 of them, and `format_html`'s lazy-aware
    escaping of each of its four values was most of their cost."""
    title = ngettext("Open the %(n)s call behind this figure",
                     "Open the %(n)s calls behind this figure", calls) % {"n": format_int(calls)}
    return SafeString(f'<a class="drill" href="{escape(url)}" data-calls="{escape(str(calls))}"'
                      f' title="{escape(title)}">{_escaped(text)}</a>')


def _escaped(value: Any) -> str:
    """`conditional_escape(value)` (safe text kept, anything else escaped), without the lazy
    wrapper Django puts around it."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def _drill(context) -> drill.Drill | None:
    """The page's `drill.Drill` (its view passes one); built here for a page that does not."""
    built = context.get("drill")
    if built is None and context.get("scope") is not None and context.get("org") is not None:
        built = drill.Drill(context["org"].slug, context["scope"])
    return built


@register.simple_tag(takes_context=True)
def drill_link(context, text: Any, calls: int | None, **narrow: Any) -> str:
    """`text` linked to the explorer filtered to the `calls` calls of the page's scope
    narrowed by `narrow` (see `drill.explorer_params`); plain `text` when there are none."""
    doors = _drill(context) if calls else None
    if doors is None:
        return format_html("{}", text)
    narrow = {k: v for k, v in narrow.items() if v is not None}
    return _link(text, int(calls), doors.url(**narrow))


class _Figures:
    """The linked figures of one table (`drill_series_rows`, `drill_heatmap_rows`): the
    page's doors, the language's count and rate formats and its catalog resolved once, each
    title written once per count. Same HTML as `_link` writes
    (tests/reports/test_drill_cells.py)."""

    def __init__(self, doors: drill.Drill) -> None:
        self.doors, self.count, self.percent = doors, int_formatter(), percent_formatter()
        self._ngettext = active_ngettext()
        self._titles: dict[int, str] = {}

    def cell(self, n: int, **narrow: Any) -> str:
        """A figure linked to its calls, or plain when it counts none (its count written
        once for the figure and its title; an `int`'s digits need no escaping)."""
        count = self.count(n)
        if not n:
            return escape(count)
        title = self._titles.get(n)
        if title is None:
            title = self._titles[n] = escape(self._ngettext(
                "Open the %(n)s call behind this figure",
                "Open the %(n)s calls behind this figure", n) % {"n": count})
        calls = str(n) if type(n) is int else escape(str(n))
        return (f'<a class="drill" href="{escape(self.doors.url(**narrow))}" '
                f'data-calls="{calls}" title="{title}">{escape(count)}</a>')


@register.simple_tag(takes_context=True)
def drill_series_rows(context, series) -> str:
    """The calls-per-period table body, each count linked to its period's calls.

    Written with f-strings and `escape` rather than `format_html_join` (same HTML:
    tests/reports/test_drill_cells.py holds it to the `format_html` spelling)."""
    figures = _Figures(_drill(context))
    notes = {"missing": _("not mirrored"), "partial": _("partial")}
    missing = '<td class="num">–</td>' * 6

    day_of = day_formatter()

    def label(point) -> str:
        day = day_of(point.start)
        note = notes.get(getattr(point, "state", "covered"))
        return escape(f"{day} ({note})" if note else day)

    def row(point) -> str:
        f = point.figures
        if f is None:  # never mirrored: no figure, not zeros, and nothing to open
            return f"<tr><td>{label(point)}</td>{missing}</tr>"
        span = {"start": point.start, "end": point.end}
        cells = [(f.total, {})] + [(drill.outcome_count(f, o), {"outcome": o})
                                   for o in ("answered", "no_answer", "busy", "failed")]
        html = "".join(f'<td class="num">{figures.cell(n, **span, **extra)}</td>'
                       for n, extra in cells)
        return (f'<tr><td>{label(point)}</td>{html}'
                f'<td class="num">{escape(figures.percent(f.answer_rate))}</td></tr>')

    return SafeString("".join(row(p) for p in series))


@register.simple_tag(takes_context=True)
def drill_heatmap_rows(context, rows) -> str:
    """Heatmap body (weekday rows, local-hour columns), each cell linked to its calls
    (written as `drill_series_rows` is)."""
    figures = _Figures(_drill(context))

    # Shading stops at 60 % opacity so the dark figures keep a contrast above 4.5:1.
    def cells(weekday: int, values) -> str:
        return "".join(f'<td style="background: rgba(29,78,216,{share * 0.6:.2f})">'
                       f'{figures.cell(n, weekday=weekday, hour=hour)}</td>'
                       for hour, (n, share) in enumerate(values))

    return SafeString("".join(
        f'<tr><th scope="row">{escape(str(day))}</th>{cells(i, values)}</tr>'
        for i, (day, values) in enumerate(rows)))


@register.simple_tag(takes_context=True)
def drill_top_agent_rows(context, agents, scope) -> str:
    """The dashboard's top-agents table body: each agent's name, calls and answered calls
    linked to them, its answer rate and talk times. One tag for the table (it was three
    `drill_link` tags and five filters per row): the same HTML, held equal to the template
    spelling by tests/reports/test_drill_cells.py."""
    figures = _Figures(_drill(context))

    def row(a) -> str:
        f, at = a.figures, {"env_id": a.environment_id, "agent_id": a.agent_id}
        at = {k: v for k, v in at.items() if v is not None}
        name = escape(agent_label(a, scope))
        if f.total:
            name = _link(SafeString(name), int(f.total), figures.doors.url(**at))
        return (f"<tr><td>{name}</td>"
                f'<td class="num">{figures.cell(f.total, **at)}</td>'
                f'<td class="num">{figures.cell(f.answered, outcome="answered", **at)}</td>'
                f'<td class="num">{escape(figures.percent(f.answer_rate))}</td>'
                f'<td class="num">{escape(format_duration(f.talk_time_total))}</td>'
                f'<td class="num">{escape(format_duration(f.talk_time_avg))}</td></tr>')

    return SafeString("".join(row(a) for a in agents))


@register.simple_tag
def heatmap_hours(hours) -> str:
    """The heatmap's column headers, one per local hour: the same bytes as the template loop
    it replaced (24 nodes, 0.4-0.5 ms of a cold dashboard; tests/reports/test_drill_cells.py)."""
    return SafeString("".join(f'<th scope="col">{template_text(h)}</th>' for h in hours))


@register.simple_tag
def drill_breakdown_rows(items) -> str:
    """A breakdown table's body: each label and its count, linked to its calls when it counts
    any. One tag for the table (a template loop with an `if`, five lookups and `count` per
    row, ~0.8 ms of a cold dashboard): the same bytes as that loop, which
    tests/reports/test_drill_cells.py renders beside it."""

    def row(label: Any, n: int | None, door: drill.Door) -> str:
        shown = template_text(format_int(n))
        if door.calls:
            shown = (f'<a class="drill" href="{template_text(door.url)}" '
                     f'data-calls="{template_text(door.calls)}">{shown}</a>')
        return f'<tr><th scope="row">{template_text(label)}</th><td class="num">{shown}</td></tr>'

    return SafeString("".join(row(*item) for item in items))


@register.simple_tag(takes_context=True)
def carried_query(context, target: str) -> str:
    """"?…" keeping the current period, environments, agent and direction for `target`
    (a report page or the calls explorer), or "" when there is nothing to keep."""
    request = context.get("request")
    if request is None:
        return ""
    org = context.get("org")
    today = timezone.localdate(timezone=org.tzinfo) if org is not None else None
    return viewstate.carried_query(request.GET, target, today)


@register.simple_tag
def not_applied_note(scope: Any, *, direction: bool = True) -> str:
    """Beside a figure that ignores some of the chosen filters (callback statistics are
    per environment and day): which of them it leaves out."""
    if scope is None:
        return ""
    notes = []
    if getattr(scope, "agent_ids", None):
        notes.append(_("The agent filter does not apply here: callback statistics count "
                       "every callback of the chosen environments."))
    if direction and getattr(scope, "direction", None):
        notes.append(_("The direction filter does not apply here: callbacks are inbound "
                       "calls by definition."))
    return format_html_join("", '<p class="note" role="note">{}</p>', ((n,) for n in notes))


@register.simple_tag
def agent_label(row: Any, scope: Any, environment: bool = True) -> str:
    """An agent row's name (a report agent or a callback source agent), with its environment
    when the scope has more than one (two "Callback Desk"s in two environments must be told
    apart) — unless `environment` is False: a table with an environment column of its own
    (the agents page) does not repeat it in every name."""
    name = Agent.shown_name(row.name, getattr(row, "agent_id", "")
                            or getattr(row, "source_agent_id", ""))
    environments = getattr(scope, "environments", None) or []
    if environment and len(environments) > 1:
        env = next((e.name for e in environments if e.pk == row.environment_id), "")
        if env:
            return f"{name} ({env})"
    return str(name)


@register.filter
def call_agent(call: Any) -> str:
    """A call's agent as every page writes it (`Agent.shown_name`); "–" for none."""
    if not call.agent_external_id:
        return "–"
    agent = call.agent if call.agent_id else None
    return Agent.shown_name(agent.name if agent else "", call.agent_external_id)


@register.filter
def local_day_of_utc(day: date | None) -> date | None:
    """The local day (the active zone's) on which a UTC day began: a price first read on
    the UTC day 11/28 is in force from 11/27 9 PM in São Paulo, so "since 11/27" there."""
    if day is None:
        return None
    return timezone.localtime(datetime.combine(day, time.min, tzinfo=UTC)).date()


@register.filter
def call_at(call: Any) -> str:
    """The `at` value of a link to a call's page (`reports.drill.at_param`)."""
    return drill.at_param(call)
