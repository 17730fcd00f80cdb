"""KPIs for AI agents: contact-centre figures (Amazon Connect's, docs/kpis.md) over every
vendor's calls, and whether the vendor's own "success" held.

`METRICS` names each figure once (key, label, unit, definition, and the call field a vendor
must send for it: `needs`); `kpis_summary` computes them all, per period, agent and vendor,
in two statements over the calls of the local days asked (test calls left out):

- the counts, grouped by local day, environment and agent, each a `Count(filter=…)` of the
  calls `reports.kpi_groups.KPI_CALLS` names (the explorer's `kpi` filter reads the same
  conditions, so every figure opens exactly its calls);
- peak concurrency: every call is in progress from its start to its end (its start plus its
  duration where the vendor sends no end: Talkover), and the running count of calls in
  progress, in time order (an end before a start at the same instant), is read at each start:
  overall, per agent and per vendor; a period's peak is the highest of its days'.

A figure a vendor sends nothing to compute ("not reported by Talkover": its spec's words) is
null with that reason, never 0; where some of a row's vendors send it and some do not, it is
computed over the calls of those that do, and the reason says whose calls were left out.
`succeeded_then_repeat` follows the outcome report (`reports.queries.outcomes`): a call
judged successful, answered and with a number to match, is settled once older than the
organisation's resolution window at `now` (pending before: counted neither way), and a
repeat when a contact of the same number came within the window after it.
A period holding a day never mirrored has every figure null (a gap, not a zero).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, FloatField, Func, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.providers import spec_for
from reports.days import local_day_bounds
from reports.kpi_groups import KPI_CALLS, WITH_NUMBER
from reports.queries.common import periods, ratio
from reports.queries.outcomes import _teams
from sync.coverage import calls_coverage
from sync.models import Call


@dataclasses.dataclass(frozen=True)
class Metric:
    """One KPI: its key (the API's and the CSV's column), label, unit (`count`, `ratio` 0-1,
    `seconds`), definition, and the call field a vendor must send for it ("" = every one)."""

    key: str
    label: str
    unit: str
    definition: str
    needs: str = ""


METRICS: tuple[Metric, ...] = (
    Metric("calls", _("Calls"), "count", _("Calls started in the period (test calls left out).")),
    Metric("answered", _("Answered"), "count", _("Calls answered or completed.")),
    Metric("answer_rate", _("Answer rate"), "ratio", _("Answered calls over calls.")),
    Metric("abandoned", _("Abandoned"), "count",
           _("Inbound calls that ended before being answered (busy, no answer, failed).")),
    Metric("abandon_rate", _("Abandon rate"), "ratio", _("Abandoned calls over inbound calls.")),
    Metric("voicemail", _("Voicemail"), "count", _("Calls that reached voicemail."),
           "voicemail"),
    Metric("voicemail_rate", _("Voicemail rate"), "ratio",
           _("Calls that reached voicemail over calls."), "voicemail"),
    Metric("transferred", _("Transferred"), "count",
           _("Calls the agent handed on to another number or service."), "transferred"),
    Metric("transfer_rate", _("Transfer rate"), "ratio",
           _("Transferred calls over answered calls."), "transferred"),
    Metric("contained", _("Contained"), "count",
           _("Answered calls the agent handled to the end: not transferred."), "transferred"),
    Metric("containment_rate", _("Containment rate"), "ratio",
           _("Contained calls over answered calls."), "transferred"),
    Metric("avg_handle_seconds", _("Average handle time"), "seconds",
           _("Mean talk time of answered calls.")),
    Metric("avg_time_to_answer_seconds", _("Average time to answer"), "seconds",
           _("Mean time from a call's start to its answer, over answered calls."), "answered_at"),
    Metric("peak_concurrency", _("Peak concurrency"), "count",
           _("The most calls in progress at one moment, from their start and end times.")),
    Metric("evaluated", _("Judged"), "count",
           _("Calls the vendor judged (succeeded or failed)."), "judgement"),
    Metric("succeeded", _("Judged successful"), "count",
           _("Calls the vendor judged successful."), "judgement"),
    Metric("success_rate", _("Success rate"), "ratio",
           _("Calls judged successful over calls judged."), "judgement"),
    Metric("succeeded_then_repeat", _("Successful, then came back"), "count",
           _("Settled calls judged successful whose caller called or was called again within "
             "the resolution window."), "judgement"),
    Metric("succeeded_then_repeat_rate", _("Successful, then came back: rate"), "ratio",
           _("Successful calls that came back over settled successful calls."), "judgement"),
)
METRIC_KEYS = tuple(m.key for m in METRICS)
# The sums a row is made of, each with the call field its vendor must send ("" = any); a
# count's key is the `KPI_CALLS` group it counts.
SUMS: dict[str, str] = {
    "calls": "", "answered": "", "inbound": "", "abandoned": "", "handle_seconds": "",
    "voicemail": "voicemail", "voicemail_calls": "voicemail",
    "transferred": "transferred", "contained": "transferred", "transfer_answered": "transferred",
    "timed": "answered_at", "answer_seconds": "answered_at",
    "evaluated": "judgement", "succeeded": "judgement", "succeeded_settled": "judgement",
    "succeeded_then_repeat": "judgement", "succeeded_pending": "judgement",
}


@dataclasses.dataclass
class KpiRow:
    """One period, agent or vendor: every metric of `METRICS` (null: not computable, with
    its reason in `reasons`) and the counts its rates divide by."""

    start: date | None = None
    end: date | None = None
    calls: int | None = None
    answered: int | None = None
    answer_rate: float | None = None
    abandoned: int | None = None
    abandon_rate: float | None = None
    voicemail: int | None = None
    voicemail_rate: float | None = None
    transferred: int | None = None
    transfer_rate: float | None = None
    contained: int | None = None
    containment_rate: float | None = None
    avg_handle_seconds: float | None = None
    avg_time_to_answer_seconds: float | None = None
    peak_concurrency: int | None = None
    evaluated: int | None = None
    succeeded: int | None = None
    success_rate: float | None = None
    succeeded_then_repeat: int | None = None
    succeeded_then_repeat_rate: float | None = None
    inbound: int | None = None
    timed: int | None = None
    succeeded_settled: int | None = None
    succeeded_pending: int | None = None
    # Each a lazy translation (read in the reader's language): typed `str` for the API schema.
    reasons: dict[str, str] = dataclasses.field(default_factory=dict)
    agent_external_id: str = ""
    environment_id: int | None = None
    vendor: str = ""


class _Sums:
    """A row's sums while its groups are added: each sum only from the vendors that send
    what it needs; `left_out` says which field each vendor lacked."""

    def __init__(self) -> None:
        self.values = dict.fromkeys(SUMS, 0.0)
        self.sent: set[str] = set()  # fields some vendor of the row sends
        self.lacking: dict[str, list[str | Promise]] = {}  # field → the vendors' reasons
        self.peak = 0

    def add(self, provider: str, values: dict[str, float]) -> None:
        spec = spec_for(provider)
        for name, needs in SUMS.items():
            if needs and needs in spec.not_sent:
                reasons = self.lacking.setdefault(needs, [])
                # Kept lazy: a cached result is read in every reader's language.
                reason = spec.not_reported or spec.label
                if reason not in reasons:
                    reasons.append(reason)
                continue
            if needs:
                self.sent.add(needs)
            self.values[name] += values.get(name) or 0

    def row(self, **fields) -> KpiRow:
        v = {k: int(x) if k not in ("handle_seconds", "answer_seconds") else x
             for k, x in self.values.items()}
        row = KpiRow(**fields, calls=v["calls"], answered=v["answered"], inbound=v["inbound"],
                     abandoned=v["abandoned"], peak_concurrency=self.peak,
                     voicemail=v["voicemail"], transferred=v["transferred"],
                     contained=v["contained"], evaluated=v["evaluated"],
                     succeeded=v["succeeded"], succeeded_then_repeat=v["succeeded_then_repeat"],
                     succeeded_settled=v["succeeded_settled"], timed=v["timed"],
                     succeeded_pending=v["succeeded_pending"])
        row.answer_rate = _ratio(v["answered"], v["calls"])
        row.abandon_rate = _ratio(v["abandoned"], v["inbound"])
        row.voicemail_rate = _ratio(v["voicemail"], v["voicemail_calls"])
        row.transfer_rate = _ratio(v["transferred"], v["transfer_answered"])
        row.containment_rate = _ratio(v["contained"], v["transfer_answered"])
        row.avg_handle_seconds = _mean(v["handle_seconds"], v["answered"])
        row.avg_time_to_answer_seconds = _mean(v["answer_seconds"], v["timed"])
        row.success_rate = _ratio(v["succeeded"], v["evaluated"])
        row.succeeded_then_repeat_rate = _ratio(v["succeeded_then_repeat"],
                                                v["succeeded_settled"])
        for metric in METRICS:
            if metric.needs in self.lacking:
                lacking = self.lacking[metric.needs]
                row.reasons[metric.key] = format_lazy(", ".join(["{}"] * len(lacking)), *lacking)
                if metric.needs not in self.sent:
                    setattr(row, metric.key, None)
        for name, needs in (("succeeded_settled", "judgement"),
                            ("succeeded_pending", "judgement"), ("timed", "answered_at")):
            if needs in self.lacking and needs not in self.sent:
                setattr(row, name, None)
        return row


def _ratio(part: float, whole: float) -> float | None:
    return ratio(part, whole)


def _mean(total: float, count: float) -> float | None:
    return ratio(total, count)


@dataclasses.dataclass
class KpiSummary:
    start: date
    end: date
    interval: str
    window_days: int
    totals: KpiRow
    series: list[KpiRow]
    agents: list[KpiRow]
    vendors: list[KpiRow]
    missing_days: list[date]


class _Seconds(Func):
    """An interval's seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def count_rows(envs: Sequence[Environment], start: date, end: date, now: datetime,
               window_days: int, agent_ids: Sequence[str] | None = None) -> list[dict]:
    """The sums of `SUMS` per (local day, environment, agent): one statement."""
    tz = envs[0].organization.tzinfo
    calls = KPI_CALLS
    window = timedelta(days=window_days)
    phone = calls["succeeded"] & calls["answered"] & WITH_NUMBER
    settled = Q(started_at__lte=now - window)
    repeat = Q(next_contact_at__lt=F("started_at") + window)
    wait = ExpressionWrapper(F("answered_at") - F("started_at"), output_field=DurationField())
    rows = (Call.objects.filter(
        environment_id__in=[e.pk for e in envs], is_testing=False,
        started_at__gte=local_day_bounds(start, tz)[0],
        started_at__lt=local_day_bounds(end, tz)[1],
        **({"agent_external_id__in": list(agent_ids)} if agent_ids else {}))
        .annotate(day=TruncDate("started_at", tzinfo=tz))
        .values("day", "environment_id", "agent_external_id")
        .annotate(**{f"n_{name}": value for name, value in {
            "calls": Count("pk"), "answered": Count("pk", filter=calls["answered"]),
            "inbound": Count("pk", filter=calls["inbound"]),
            "abandoned": Count("pk", filter=calls["abandoned"]),
            "handle_seconds": Sum("duration", filter=calls["answered"]),
            "voicemail": Count("pk", filter=calls["voicemail"]),
            "voicemail_calls": Count("pk"),
            "transferred": Count("pk", filter=calls["transferred"]),
            "contained": Count("pk", filter=calls["contained"]),
            "transfer_answered": Count("pk", filter=calls["answered"]),
            "timed": Count("pk", filter=calls["timed"]),
            "answer_seconds": Sum(_Seconds(wait), filter=calls["timed"]),
            "evaluated": Count("pk", filter=calls["evaluated"]),
            "succeeded": Count("pk", filter=calls["succeeded"]),
            "succeeded_settled": Count("pk", filter=phone & settled),
            "succeeded_then_repeat": Count("pk", filter=phone & settled & repeat),
            "succeeded_pending": Count("pk", filter=phone & ~settled)}.items()})
        .order_by())
    # Named apart from the model's fields (`transferred`, `voicemail`…) the filters read.
    return [{k[2:] if k.startswith("n_") else k: v for k, v in row.items()} for row in rows]


# Each call in progress from its start to its end (start + duration without one); the running
# count at each start, in time order (ends first at one instant), overall, per agent, per
# vendor; the highest per local day and group. Agents are partitioned by their ids' bytes
# (COLLATE "C": a third of the statement was comparing ids by the locale's rules).
_PEAK = """
WITH c AS (
    SELECT c.environment_id, c.agent_external_id, p.provider, c.started_at AS s,
           coalesce(c.ended_at, c.started_at + c.duration * interval '1 second') AS e
    FROM sync_call c JOIN unnest(%(envs)s::bigint[], %(providers)s::text[]) AS p(env, provider)
         ON p.env = c.environment_id
    WHERE c.environment_id = ANY(%(envs)s) AND NOT c.is_testing
      AND c.started_at >= %(lo)s AND c.started_at < %(hi)s {agents} {teams}),
ev AS (
    SELECT environment_id, agent_external_id, provider, s AS t, 1 AS d FROM c WHERE e > s
    UNION ALL
    SELECT environment_id, agent_external_id, provider, e, -1 FROM c WHERE e > s),
lv AS (
    SELECT t, d, environment_id, agent_external_id, provider,
           sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS every,
           sum(d) OVER (PARTITION BY environment_id, agent_external_id COLLATE "C"
                        ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS agent
    FROM ev),
lvv AS (SELECT *, {vendor} AS vendor FROM lv)
SELECT (t AT TIME ZONE %(tz)s)::date, environment_id, agent_external_id, provider,
       max(every)::int, max(agent)::int, max(vendor)::int
FROM lvv WHERE d = 1 GROUP BY 1, 2, 3, 4"""
PEAK_WORK_MEM = "64MB"


def peak_rows(envs: Sequence[Environment], start: date, end: date,
              agent_ids: Sequence[str] | None = None) -> list[tuple]:
    """(local day, environment, agent, vendor, peak overall, of the agent, of the vendor)
    at the starts of that day's calls."""
    tz = envs[0].organization.tzinfo
    params = {"envs": [e.pk for e in envs], "providers": [e.provider for e in envs],
              "lo": local_day_bounds(start, tz)[0], "hi": local_day_bounds(end, tz)[1],
              "tz": envs[0].organization.timezone, "agents": list(agent_ids or ())}
    # One vendor in scope: its level is the overall one (a sort fewer).
    vendor = ("every" if len(set(params["providers"])) == 1 else
              "sum(d) OVER (PARTITION BY provider ORDER BY t, d ROWS UNBOUNDED PRECEDING)")
    sql = _PEAK.format(teams=_teams("c", params), vendor=vendor, agents=(
        "AND c.agent_external_id = ANY(%(agents)s)" if agent_ids else ""))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        # The sorts of a 90-day range's starts and ends (about two per call) in memory.
        cursor.execute(f"SET LOCAL work_mem = '{PEAK_WORK_MEM}'")
        cursor.execute(sql, params)
        return cursor.fetchall()


def kpis_summary(environments: Sequence[Environment], start: date, end: date,
                 interval: str = "day", *, now: datetime | None = None,
                 agent_ids: Sequence[str] | None = None) -> KpiSummary:
    """The KPI report of these environments (one organisation) over local days start..end,
    in periods of `interval`, per agent and per vendor (of these agents: None = every one;
    see the module docstring). A pure function of the mirror and `now`."""
    envs = list(environments)
    now = now or timezone.now()
    window = envs[0].organization.resolution_window_days
    provider = {e.pk: e.provider for e in envs}
    missing = set(calls_coverage(envs, start, end).missing_days)
    by_day: dict[date, list[tuple[str, dict]]] = {}
    totals, agents, vendors = _Sums(), {}, {}
    for values in count_rows(envs, start, end, now, window, agent_ids):
        day, env_id, agent = values["day"], values["environment_id"], values["agent_external_id"]
        by_day.setdefault(day, []).append((provider[env_id], values))
        if day in missing:
            continue
        totals.add(provider[env_id], values)
        agents.setdefault((env_id, agent), _Sums()).add(provider[env_id], values)
        vendors.setdefault(provider[env_id], _Sums()).add(provider[env_id], values)
    day_peak: dict[date, int] = {}
    peaks = peak_rows(envs, start, end, agent_ids)
    for day, env_id, agent, vendor, every, of_agent, of_vendor in peaks:
        day_peak[day] = max(day_peak.get(day, 0), every)
        if day in missing:
            continue
        totals.peak = max(totals.peak, every)
        if (env_id, agent) in agents:
            agents[env_id, agent].peak = max(agents[env_id, agent].peak, of_agent)
        if vendor in vendors:
            vendors[vendor].peak = max(vendors[vendor].peak, of_vendor)
    series = []
    for first, last in periods(start, end, interval):
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if any(d in missing for d in days):
            series.append(KpiRow(first, last, reasons={"calls": _("not mirrored")}))
            continue
        point = _Sums()
        for prov in {e.provider for e in envs}:  # the reasons of every vendor in scope
            point.add(prov, {})
        for d in days:
            for prov, values in by_day.get(d, ()):
                point.add(prov, values)
            point.peak = max(point.peak, day_peak.get(d, 0))
        series.append(point.row(start=first, end=last))
    for prov in {e.provider for e in envs}:
        totals.add(prov, {})
    return KpiSummary(
        start, end, interval, window, totals.row(start=start, end=end), series,
        sorted((s.row(agent_external_id=a, environment_id=e) for (e, a), s in agents.items()),
               key=lambda r: -(r.calls or 0)),
        sorted((s.row(vendor=v) for v, s in vendors.items()), key=lambda r: r.vendor),
        sorted(missing))
