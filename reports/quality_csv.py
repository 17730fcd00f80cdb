"""CSV tables of the Quality report (`agents`, `days`, `breakdown`): one writer for the page's
download and the reports API. An empty cell means "not reported" (or, for cost, no price)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from reports.queries.quality import QualityFigures, QualitySummary

QUALITY_TABLES = ("agents", "days", "breakdown")
FIGURE_COLUMNS = ("calls", "latency_calls", "latency_p50_ms", "latency_p90_ms", "billed_calls",
                  "billed_minutes", "cost")
BREAKDOWNS = ("hangup_sources", "hangup_causes", "sentiments", "insights")


def _figures(figures: QualityFigures | None) -> list:
    if figures is None:
        return [""] * len(FIGURE_COLUMNS)
    return ["" if (v := getattr(figures, c)) is None else v for c in FIGURE_COLUMNS]


def quality_rows(summary: QualitySummary, table: str) -> Iterator[Sequence]:
    """Header then rows of one table of a Quality summary."""
    if table == "agents":
        yield ("environment_id", "agent_id", "agent_name", *FIGURE_COLUMNS)
        for row in summary.agents:
            yield (row.environment_id, row.agent_id, row.name, *_figures(row.figures))
    elif table == "breakdown":
        yield ("field", "value", "calls")
        for name in BREAKDOWNS:
            dist = getattr(summary.totals, name)
            for share in dist.reported:
                yield (name, share.value, share.calls)
            yield (name, "(not reported)", dist.not_reported)
    else:
        yield ("day", "coverage", *FIGURE_COLUMNS)
        for day in summary.days:
            yield (day.day.isoformat(), day.coverage, *_figures(day.figures))
