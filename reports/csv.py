"""CSV exports of report summaries, streamed row by row with a descriptive filename."""
from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import date

from django.http import StreamingHttpResponse

from reports.queries import CallbacksSummary, CallsSummary, CallTotals

TOTALS_COLUMNS = ("total", "answered", "answer_rate", "failed", "busy", "no_answer", "other",
                  "inbound", "outbound", "talk_time_total", "talk_time_avg",
                  "duration_median", "duration_p90", "duration_max")
CALLS_TABLES = ("series", "agents", "heatmap")
CALLBACKS_TABLES = ("days", "sources")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Echo:
    """A file-like object whose write returns the line: csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


def _figures(totals: CallTotals | None) -> list:
    """Blank cells for a period never mirrored (a gap, not zeros)."""
    if totals is None:
        return [""] * len(TOTALS_COLUMNS)
    return ["" if (v := getattr(totals, c)) is None else v for c in TOTALS_COLUMNS]


def calls_rows(summary: CallsSummary, table: str) -> Iterator[Sequence]:
    """Header then rows of one table of a calls summary."""
    if table == "agents":
        yield ("environment_id", "agent_id", "agent_name", *TOTALS_COLUMNS)
        for row in summary.agents:
            yield (row.environment_id, row.agent_id, row.name, *_figures(row.figures))
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
            yield (row.day.isoformat(), "yes" if row.mirrored else "no (never mirrored)",
                   *("" if v is None else v for v in (row.received, row.answered,
                                                      row.unmatched)))


def filename(kind: str, org_slug: str, start: date, end: date, table: str) -> str:
    """e.g. `switchboard-calls-series-acme-2026-01-01_2026-03-31.csv`."""
    return f"switchboard-{kind}-{table}-{org_slug}-{start.isoformat()}_{end.isoformat()}.csv"


def stream_csv(rows: Iterable[Sequence], name: str) -> StreamingHttpResponse:
    """A streamed `text/csv` attachment named `name`."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
