"""A rule's last evaluation in words, in the reader's language.

The evaluator stores what it found as data (`AlertRule.last_reading`: a reason code and its
figures) beside its English machine note; pages word it at display time, so a Portuguese
reader sees "Taxa de atendimento 64,6% está abaixo de 75%" where the note says
`firing: answer_rate 64.63 (below 75?)`.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from portal.formatting import format_day, format_moment
from reports.alerts.explain import explanation
from reports.alerts.models import AlertRule, Condition
from reports.alerts.vocabulary import NAMES, PERCENT, number


def metric_figure(metric: str, value: float | int | None) -> str:
    """A value of the rule's metric with its unit ("70.4 %", "12 min")."""
    return number(value, NAMES.get(metric, ("", ""))[1])


def threshold_figure(rule: AlertRule, threshold: float | None) -> str:
    """The threshold with its unit: a change condition's is in percent."""
    if rule.condition in (Condition.CHANGE_ABOVE_PCT, Condition.CHANGE_BELOW_PCT):
        return number(threshold, PERCENT)
    return metric_figure(rule.metric, threshold)


def _judged(rule: AlertRule, reading: dict) -> str:
    name, unit = NAMES.get(rule.metric, (rule.metric, ""))
    value, before = reading.get("value"), reading.get("compare_value")
    figures = {"metric": name, "value": number(value, unit),
               "threshold": number(rule.threshold, unit)}
    if before is not None and value is not None:
        change = 100.0 * (value - before) / abs(before) if before else 0.0
        figures.update(before=number(before, unit), change=number(abs(change), PERCENT),
                       limit=number(abs(rule.threshold), PERCENT))
        if change >= 0:
            text = _("%(metric)s rose %(change)s, from %(before)s to %(value)s")
        else:
            text = _("%(metric)s fell %(change)s, from %(before)s to %(value)s")
        text = text % figures
        if rule.condition == Condition.CHANGE_ABOVE_PCT:
            limit = _("the alert is for a rise of more than %(limit)s")
        else:
            limit = _("the alert is for a fall of more than %(limit)s")
        return f"{text}; {limit % figures}"
    below = value is not None and value < rule.threshold
    above = value is not None and value > rule.threshold
    if below:
        return _("%(metric)s %(value)s is below %(threshold)s") % figures
    if above:
        return _("%(metric)s %(value)s is above %(threshold)s") % figures
    return _("%(metric)s %(value)s equals the threshold %(threshold)s") % figures


def judged_in_english(rule: AlertRule, reading: dict) -> str:
    """A judged reading in English, for the machine note ("answer_rate: Answer rate 70.4 %
    is below 90 %"), never "70.36 (below 90?)"."""
    with translation.override("en"):
        return f"{rule.metric}: {_judged(rule, reading)}"


_DAY = r"\d{4}-\d{2}-\d{2}"


_UTC_HOURS = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})–(\d{2}:\d{2}) UTC")


def window_words(label: str, zone: str | None = None) -> str:
    """A stored window label ("2026-11-22", "2026-11-16–2026-11-22", "2026-11-22 09:00–10:00
    UTC") with its days written the reader's way (`portal.formatting`); given the page's
    `zone`, an hour window is written in it, unnamed (the page names its zone once)."""
    hours = _UTC_HOURS.fullmatch(label or "") if zone else None
    if hours:
        start = datetime.fromisoformat(f"{hours[1]} {hours[2]}").replace(tzinfo=UTC)
        end = datetime.fromisoformat(f"{hours[1]} {hours[3]}").replace(tzinfo=UTC)
        if end <= start:
            end += timedelta(days=1)
        with timezone.override(ZoneInfo(zone)):
            return f"{format_moment(start)}–{time_format(timezone.localtime(end))}"
    return re.sub(_DAY, lambda m: format_day(date.fromisoformat(m.group(0))), label or "")


_MIRRORED_UNTIL = re.compile(r"mirrored until (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC")
_CALLBACK_DAYS = re.compile(r"callback days (.+) mirrored")


def coverage_words(text: str, zone: str, named: bool = True) -> str:
    """An event's stored coverage ("mirrored until 2026-11-23 13:05 UTC") in the reader's
    language, its time in the organisation's zone, named (not `named`: a page that names its
    zone once); an unknown text as stored."""
    until = _MIRRORED_UNTIL.fullmatch(text or "")
    if until:
        moment = datetime.fromisoformat(until.group(1)).replace(tzinfo=UTC)
        with timezone.override(ZoneInfo(zone)):
            when = f"{format_moment(moment)} ({zone})" if named else format_moment(moment)
        return _("mirrored until %(when)s") % {"when": when}
    days = _CALLBACK_DAYS.fullmatch(text or "")
    if days:
        return _("callback days %(window)s mirrored") % {"window": window_words(days.group(1))}
    if text == "health of the mirror":
        return _("health of the mirror")
    return text or ""


def _not_judged(reading: dict, zone: str | None = None) -> str:
    reason = reading.get("reason")
    figures = {key: value for key, value in reading.items() if key != "reason"}
    for key in ("window", "day"):
        if isinstance(figures.get(key), str):
            figures[key] = window_words(figures[key], zone)
    for key in ("calls", "minimum"):
        if isinstance(figures.get(key), int | float):
            figures[key] = number(figures[key])
    if reason == "no_environment":
        return _("Not judged: no environment is chosen.")
    if reason == "nothing_mirrored":
        return _("Not judged: nothing is mirrored yet.")
    if reason == "not_mirrored":
        if "after" in figures:
            figures["after"] = figures["after"][:16].replace("T", " ")
            text = _("calls after %(after)s are not mirrored yet") % figures
        else:
            text = _("day %(day)s is not mirrored yet") % figures
        if figures.get("comparison"):
            return _("Not judged: in the comparison window, %(what)s.") % {"what": text}
        return _("Not judged: %(what)s.") % {"what": text}
    if reason == "too_few":
        return _("Not judged: %(calls)s calls in %(window)s, fewer than the minimum of "
                 "%(minimum)s.") % figures
    if reason == "too_few_before":
        return _("Not judged: %(calls)s calls in the comparison window %(window)s, fewer "
                 "than the minimum of %(minimum)s.") % figures
    if reason == "too_few_expected":
        return _("Not judged: %(window)s usually has fewer calls than the minimum of "
                 "%(minimum)s.") % figures
    if reason == "no_calls":
        return _("Not judged: no calls in %(window)s.") % figures
    if reason == "no_history":
        return _("Not judged: %(window)s has fewer than 3 weeks of history, and the rule has "
                 "no threshold to judge it against meanwhile.") % figures
    if reason == "no_baseline":
        return _("Not judged: nothing to compare with in %(window)s.") % figures
    return _("Not judged: the rule could not be evaluated (see the server log).")


def describe(rule: AlertRule, zone: str | None = None) -> str:
    """The last evaluation in words; "" before the first one. `zone`: the page names it
    once, and an hour window is written in it (else as stored, in UTC, said so)."""
    reading = rule.last_reading or {}
    if rule.last_evaluated_at is None:
        return ""
    if not reading:
        return rule.last_note  # evaluated before readings were stored
    if reading.get("reason") in ("anomaly", "cold_start"):
        return f"{explanation(reading)}."
    if reading.get("reason") == "judged":
        text = _judged(rule, reading)
        window = window_words(reading.get("window") or "", zone)
        return f"{text} ({window})." if window else f"{text}."
    return _not_judged(reading, zone)
