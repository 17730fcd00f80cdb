"""An anomaly verdict in words and as chart data, in the active language.

"Tuesday 11/18/2026 10:00–11:00 (America/Sao_Paulo): 42 calls, usually 118 (105–131 over
the last 6 weeks)". Drawn from the figures the evaluator stored (`anomaly.Judgement.detail`
on the rule's last reading and on each event), so the email, the webhook (in the rule's
language), the rule page and the preview (in the reader's) say the same thing. Times are
the organisation's wall clock, with the zone named.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.formatting import format_day
from reports.alerts.models import Metric
from reports.alerts.vocabulary import NAMES, number


def when(detail: dict) -> str:
    """The hours judged, on the organisation's wall clock with its zone named: "Sunday
    11/22/2026 14:00–17:00 (America/Sao_Paulo)"; a span past midnight names its last day."""
    start = datetime.fromisoformat(detail["start"])
    end = datetime.fromisoformat(detail["end"])
    figures = {"weekday": WEEKDAYS[start.weekday()], "day": format_day(start.date()),
               "start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "tz": detail.get("tz", "")}
    last = (end - timedelta(microseconds=1)).date()
    if last == start.date():
        return _("%(weekday)s %(day)s %(start)s–%(end)s (%(tz)s)") % figures
    return _("%(weekday)s %(day)s %(start)s – %(end_weekday)s %(end_day)s %(end)s "
             "(%(tz)s)") % {**figures, "end_weekday": WEEKDAYS[end.weekday()],
                            "end_day": format_day(end.date())}


def _figure(detail: dict) -> tuple[str, str]:
    """(this hour's figure in words, the unit of the band)."""
    metric = detail.get("metric")
    if metric == Metric.CALLS:
        calls = int(detail.get("value") or 0)
        return ngettext("%(n)s call", "%(n)s calls", calls) % {"n": number(calls)}, ""
    name, unit = NAMES.get(metric, (metric, ""))
    return _("%(metric)s %(value)s of %(calls)s calls") % {
        "metric": name, "value": number(detail.get("value"), unit),
        "calls": number(detail.get("calls"))}, unit


def explanation(detail: dict) -> str:
    """The verdict in one sentence; "" for a detail that is not an anomaly reading."""
    if not detail or "start" not in detail:
        return ""
    figure, unit = _figure(detail)
    weeks = int(detail.get("weeks") or 0)
    if detail.get("reason") == "cold_start":
        history = ngettext("only %(weeks)s week of history", "only %(weeks)s weeks of history",
                           weeks) % {"weeks": weeks}
        return _("%(when)s: %(figure)s; %(history)s (3 needed), judged against the threshold "
                 "%(threshold)s") % {"when": when(detail), "figure": figure, "history": history,
                                     "threshold": number(detail.get("threshold"), unit)}
    if detail.get("expected") is None or detail.get("low") is None:
        return f"{when(detail)}: {figure}"
    over = ngettext("over the last week", "over the last %(weeks)s weeks", weeks) % {
        "weeks": weeks}
    expected = detail["expected"]
    if detail.get("metric") == Metric.CALLS:
        expected = round(expected)  # a count's usual level, said as calls
    return _("%(when)s: %(figure)s, usually %(expected)s (%(low)s–%(high)s %(over)s)") % {
        "when": when(detail), "figure": figure, "expected": number(expected, unit),
        "low": number(detail["low"], unit), "high": number(detail["high"], unit),
        "over": over}


def chart(detail: dict) -> dict | None:
    """The hour against its band, for the rule page's small chart: the same hour in past
    weeks (oldest first), then this one; None without a band."""
    if not detail or detail.get("low") is None or detail.get("high") is None:
        return None
    past = list(reversed(detail.get("history") or []))
    labels = [format_day(date.fromisoformat(day)) for day, _value in past]
    labels.append(format_day(datetime.fromisoformat(detail["start"]).date()))
    return {"labels": labels, "values": [value for _day, value in past] + [detail["value"]],
            "low": detail["low"], "high": detail["high"], "expected": detail["expected"],
            "title": when(detail), "band_label": _("Usual band"),
            "value_label": str(NAMES.get(detail.get("metric"), (detail.get("metric"), ""))[0])}
