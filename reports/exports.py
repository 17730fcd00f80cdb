"""CSV exports: the one writer every export goes through, every table's columns, and the one
export parameter.

Tables: a calls summary's `series`, `agents` and `heatmap`; a callbacks summary's `days` and
`sources`; the callback funnel's `series`, `sources` and `differences`; a Quality
summary's `agents`, `days` and `breakdown`; the explorer's raw `calls`;
the emailed summary's attachment. A page or the API asks for one with `?format=csv` and
`table=` (`export`); the old page parameter `?export=` was never in an email, so it
is gone rather than kept as an alias.

Every CSV the portal writes (report pages, the reports API, the calls explorer, emailed
summaries) is built from rows by `csv_lines`, which passes each cell through `safe_cell`:
names come from upstream and from users, and a cell a spreadsheet would run as a formula
(`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`) is written with a leading `'`.

Spreadsheets guess a file's encoding: without a byte-order mark Excel reads UTF-8 as
Windows-1252 and shows "CobranÃ§a", so every file starts with a UTF-8 BOM (`BOM`); and a
boolean is written `true` / `false`, as the JSON API spells it, never Python's `False`.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils.translation import gettext as _

from portal import replicas
from reports.queries import AgentRow, CallbacksSummary, CallsSummary, CallTotals
from reports.queries.callback_funnel import CallbackFunnel
from reports.queries.kpis import METRIC_KEYS
from reports.queries.quality import QualityFigures, QualitySummary

if TYPE_CHECKING:
    import zoneinfo

    from reports.summaries.figures import Summary

TOTALS_COLUMNS = ("total", "answered", "answer_rate", "failed", "busy", "no_answer", "other",
                  "inbound", "outbound", "talk_time_total", "talk_time_avg",
                  "duration_median", "duration_p90", "duration_max", "vendor_cost")
CALLS_TABLES = ("series", "agents", "heatmap")
CALLBACKS_TABLES = ("days", "sources")
CALLBACK_FUNNEL_TABLES = ("series", "sources", "differences")
FUNNEL_COLUMNS = ("received", "answered", "matched", "unmatched", "outbound_unanswered",
                  "called_back", "median_seconds_to_callback", "p90_seconds_to_callback")
QUALITY_TABLES = ("agents", "days", "breakdown")
# The outcome report (reports.queries.outcomes): one row per period, agent or vendor.
OUTCOMES_TABLES = ("series", "agents", "vendors")
OUTCOMES_COLUMNS = ("calls", "answered", "no_number", "settled", "resolved", "repeat_contacts",
                    "pending", "repeat_contact_rate", "cost", "cost_source", "currency",
                    "vendor_costed", "estimated", "estimated_early", "earliest_price_on",
                    "cost_per_call", "cost_per_answered", "settled_calls", "settled_costed",
                    "settled_cost", "settled_through", "cost_per_resolved")
# The KPI report (reports.queries.kpis): one row per period, agent or vendor.
KPIS_TABLES = ("series", "agents", "vendors")
KPIS_COLUMNS = (*METRIC_KEYS, "inbound", "succeeded_settled", "succeeded_pending", "reasons")
QUALITY_COLUMNS = ("calls", "latency_calls", "latency_p50_ms", "latency_p90_ms", "billed_calls",
                   "billed_minutes", "cost")
QUALITY_BREAKDOWNS = ("hangup_sources", "hangup_causes", "sentiments", "insights")
# The explorer's raw calls (times in the organisation's zone, ISO 8601 with the offset).
CALL_COLUMNS = ("environment", "external_id", "sid", "agent_id", "agent", "direction", "status",
                "provider_status", "from", "to", "started_at", "answered_at", "ended_at",
                "duration", "billed_duration", "is_testing", "hangup_cause", "hangup_source",
                "vendor_cost", "vendor_cost_currency")
# A data subject's calls (reports.privacy.subject): what the JSON export holds, flat.
SUBJECT_COLUMNS = ("environment", "call_id", "sid", "agent", "direction", "status", "duration",
                   "from", "to", "started_at", "ended_at", "transcript", "recording_url")
# The emailed summary's attachment: one row per environment, then a TOTAL row.
SUMMARY_COLUMNS = ("environment", "period_start", "period_end", "calls", "answered",
                   "answer_rate", "talk_time_seconds", "callbacks_received",
                   "callbacks_answered", "callbacks_unmatched")
# Written first in every CSV file (streamed export or attachment): Excel then reads UTF-8.
BOM = "\ufeff"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# Characters that make a spreadsheet read a cell as a formula (or split it: tab, CR).
_FORMULA_START = ("=", "@", "\t", "\r")
# A signed number or phone number (`-2`, `-0.5`, `+5511987654321`, `-1e3`): kept as written.
_SIGNED_NUMBER = re.compile(r"[+-]\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """`value`, with a `'` before a text a spreadsheet would run as a formula.

    Text starting with `=`, `@`, a tab or a carriage return is prefixed, and so is text
    starting with `+` or `-` unless it is a plain signed number or phone number. Numbers,
    dates and empty cells are returned unchanged; booleans become `true` / `false`.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_START):
        return "'" + value
    if value[0] in "+-" and not _SIGNED_NUMBER.fullmatch(value):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose write returns the line: csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Sequence], *, bom: bool = True) -> Iterator[str]:
    """The CSV lines of `rows` (header first), each cell through `safe_cell`; the first
    line starts with the UTF-8 `BOM` unless `bom=False` (a fragment of a larger file)."""
    writer = csv.writer(_Echo())
    if bom:
        yield BOM
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def _figures(totals: CallTotals | None) -> list:
    """Blank cells for a period never mirrored (a gap, not zeros)."""
    if totals is None:
        return [""] * len(TOTALS_COLUMNS)
    return ["" if (v := getattr(totals, c)) is None else v for c in TOTALS_COLUMNS]


def calls_rows(summary: CallsSummary, table: str, names: Mapping[int, str],
               agents: Sequence[AgentRow] | None = None) -> Iterator[Sequence]:
    """Header then rows of one table of a calls summary. `names`: environment id → name
    (agents carry their environment, two desks may share a name); `agents`: the agent rows
    in the order a page shows them (default: the summary's order)."""
    if table == "agents":
        yield ("environment_id", "environment", "agent_id", "agent_name", *TOTALS_COLUMNS)
        for row in summary.agents if agents is None else agents:
            yield (row.environment_id, names.get(row.environment_id, ""), row.agent_id,
                   row.name, *_figures(row.figures))
    elif table == "heatmap":
        yield ("weekday", *(f"{h:02d}:00" for h in range(24)))
        for index, hours in enumerate(summary.heatmap):
            yield (WEEKDAYS[index], *hours)
    else:
        yield ("period_start", "period_end", *TOTALS_COLUMNS)
        for point in summary.series:
            yield (point.start.isoformat(), point.end.isoformat(), *_figures(point.figures))


def callbacks_rows(summary: CallbacksSummary, table: str) -> Iterator[Sequence]:
    """Header then rows of one table of a callbacks summary (missing days say so)."""
    if table == "sources":
        yield ("environment_id", "source_agent_id", "name", "count")
        for row in summary.by_source_agent:
            yield (row.environment_id, row.source_agent_id, row.name, row.count)
    else:
        yield ("day", "mirrored", "received", "answered", "unmatched")
        for row in summary.days:
            yield (row.day.isoformat(), bool(row.mirrored),
                   *("" if v is None else v for v in (row.received, row.answered,
                                                      row.unmatched)))


def callback_funnel_rows(funnel: CallbackFunnel, table: str) -> Iterator[Sequence]:
    """Header then rows of one table of the callback funnel (an empty cell: the calls of
    the period were not all mirrored, or the vendor's day was never fetched)."""
    if table == "sources":
        yield ("period_start", "period_end", "source_agent_id", "count", "vendor_count")
        for p in funnel.series:
            vendor = {s.source_agent_id: s.count for s in (p.vendor.by_source if p.vendor
                                                           else [])}
            ours = {s.source_agent_id: s.count for s in p.by_source}
            for source in sorted(set(ours) | set(vendor)):
                yield (p.start.isoformat(), p.end.isoformat(), source,
                       _cell(ours.get(source, 0) if p.mirrored else None),
                       _cell(vendor.get(source, 0) if p.vendor else None))
    elif table == "differences":
        yield ("day", "field", "funnel", "vendor")
        for p in funnel.series:
            for d in p.differences:
                yield (d.day.isoformat(), d.field, d.funnel, d.vendor)
    else:
        yield ("period_start", "period_end", "mirrored", *FUNNEL_COLUMNS, "vendor_received",
               "vendor_answered", "vendor_unmatched", "agrees")
        for p in funnel.series:
            v = p.vendor
            yield (p.start.isoformat(), p.end.isoformat(), p.mirrored,
                   *(_cell(getattr(p, c)) for c in FUNNEL_COLUMNS),
                   *(_cell(getattr(v, c) if v else None) for c in ("received", "answered",
                                                                   "unmatched")),
                   p.agrees)


def _cell(value: object) -> object:
    return "" if value is None else value


def grouped_rows(summary: Any, table: str, columns: Sequence[str]) -> Iterator[Sequence]:
    """Header then rows of one table (a period, an agent or a vendor a row) of a summary
    with `series`, `agents` and `vendors`: an empty cell is a null figure; a mapping (the
    KPIs' reasons) is written "key: value; …"."""
    keys = {"series": ("start", "end"), "agents": ("environment_id", "agent_external_id"),
            "vendors": ("vendor",)}[table]
    yield (*keys, *columns)
    for row in getattr(summary, table):
        yield tuple("; ".join(f"{k}: {x}" for k, x in v.items()) if isinstance(v, dict)
                    else "" if v is None else v
                    for v in (*(getattr(row, k) for k in keys),
                              *(getattr(row, c) for c in columns)))


def outcomes_rows(summary: Any, table: str) -> Iterator[Sequence]:
    """One table of an outcome summary (an empty cell: a day not mirrored, or no cost
    known), the same figures as its JSON."""
    return grouped_rows(summary, table, OUTCOMES_COLUMNS)


def kpis_rows(summary: Any, table: str) -> Iterator[Sequence]:
    """One table of a KPI summary (`reports.queries.kpis.METRICS`, then why a figure is
    null or leaves a vendor's calls out), the same figures as its JSON."""
    return grouped_rows(summary, table, KPIS_COLUMNS)


def quality_rows(summary: QualitySummary, table: str) -> Iterator[Sequence]:
    """Header then rows of one table of a Quality summary (an empty cell: not reported, or
    for cost, no price)."""
    if table == "agents":
        yield ("environment_id", "agent_id", "agent_name", *QUALITY_COLUMNS)
        for row in summary.agents:
            yield (row.environment_id, row.agent_id, row.name, *_quality(row.figures))
    elif table == "breakdown":
        yield ("field", "value", "calls")
        for name in QUALITY_BREAKDOWNS:
            dist = getattr(summary.totals, name)
            for share in dist.reported:
                yield (name, share.value, share.calls)
            yield (name, "(not reported)", dist.not_reported)
    else:
        yield ("day", "coverage", *QUALITY_COLUMNS)
        for day in summary.days:
            yield (day.day.isoformat(), day.coverage, *_quality(day.figures))


def _quality(figures: QualityFigures | None) -> list:
    if figures is None:
        return [""] * len(QUALITY_COLUMNS)
    return ["" if (v := getattr(figures, c)) is None else v for c in QUALITY_COLUMNS]


def call_rows(calls: QuerySet, tz: zoneinfo.ZoneInfo) -> Iterator[Sequence]:
    """Header then one row per call of `calls` (streamed in chunks, agent and environment
    joined), times in `tz`."""
    def local(moment: datetime | None) -> str:
        return moment.astimezone(tz).isoformat() if moment else ""

    yield CALL_COLUMNS
    for c in calls.select_related("agent", "environment").iterator(chunk_size=2000):
        yield (c.environment.name, c.external_id, c.sid, c.agent_external_id,
               c.agent.name if c.agent else "", c.direction, c.status, c.provider_status,
               c.from_number, c.to_number, local(c.started_at), local(c.answered_at),
               local(c.ended_at), c.duration, c.billed_duration, c.is_testing, c.hangup_cause,
               c.hangup_source, "" if c.vendor_cost is None else c.vendor_cost.normalize(),
               c.vendor_cost_currency)


def subject_rows(calls: Iterable[Mapping]) -> Iterator[Sequence]:
    """Header then one row per call of a data-subject export (`reports.privacy.subject.call_json`
    dicts, times already in the organisation's zone)."""
    yield SUBJECT_COLUMNS
    for c in calls:
        yield (c["environment"]["name"], c["id"], c["sid"], c["agent"], c["direction"],
               c["status"], c["duration"], c["from"], c["to"], c["started_at"] or "",
               c["ended_at"] or "", c["transcript"], c["recording_url"] or "")


def summary_rows(summary: Summary) -> Iterator[Sequence]:
    """The emailed summary's per-environment figures plus a TOTAL row (rates as fractions,
    0–1)."""
    yield SUMMARY_COLUMNS
    rows = [(e.name, e.calls, e.callbacks) for e in summary.environments]
    rows.append(("TOTAL", summary.calls.totals, summary.callbacks.totals))
    for name, calls, callbacks in rows:
        yield (name, summary.period.start.isoformat(), summary.period.end.isoformat(),
               calls.total, calls.answered, "" if calls.answer_rate is None else calls.answer_rate,
               calls.talk_time_total, callbacks.received, callbacks.answered,
               callbacks.unmatched)


def requested(request: HttpRequest) -> bool:
    """Whether the request asks for a download (`?format=csv`) rather than the page."""
    return request.GET.get("format") == "csv"


def export(request: HttpRequest, tables: Sequence[str], default: str,
           write: Callable[[str], HttpResponse]) -> HttpResponse | None:
    """The one export parameter of the pages: `?format=csv&table=…` (`default` without a
    table) is `write(table)`; an unknown table is a 400 naming the choices; None when the
    request is for the page itself."""
    if not requested(request):
        return None
    table = request.GET.get("table") or default
    if table not in tables:
        return HttpResponseBadRequest(
            _("Unknown table; choose one of: %(tables)s.") % {"tables": ", ".join(tables)},
            content_type="text/plain; charset=utf-8")
    return write(table)


def filename(kind: str, org_slug: str, start: date | None, end: date | None,
             table: str) -> str:
    """e.g. `switchboard-calls-series-acme-2026-01-01_2026-03-31.csv`; an open end (the
    explorer over all dates) reads `all`: `switchboard-calls-list-acme-all_2026-03-31.csv`,
    and no dates at all `switchboard-calls-list-acme-all-dates.csv`."""
    if start is None and end is None:
        return f"switchboard-{kind}-{table}-{org_slug}-all-dates.csv"
    first = start.isoformat() if start else "all"
    last = end.isoformat() if end else "all"
    return f"switchboard-{kind}-{table}-{org_slug}-{first}_{last}.csv"


def stream_csv(rows: Iterable[Sequence], name: str) -> StreamingHttpResponse:
    """A streamed `text/csv` attachment named `name`, read where the view read (a replica:
    the body is produced after the view returned)."""
    response = StreamingHttpResponse(replicas.carried(csv_lines(rows)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
