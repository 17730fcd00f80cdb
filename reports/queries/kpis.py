"""KPIs for AI agents: contact-centre figures (Amazon Connect's, docs/kpis.md) over every
vendor's calls, and whether the vendor's own "success" held.

`METRICS` names each figure once (key, label, unit, definition, and the call field a vendor
must send for it: `needs`); `kpis_summary` computes them all, per period, agent and vendor,
from the day rollups (docs/kpis.md, Cost), which hold over the calls of each local day, test
calls left out:

- the counts per local day, environment and agent, each of the calls
  `sync.kpi_calls.KPI_CALLS` names (the explorer's `kpi` filter reads the same conditions,
  so every figure opens exactly its calls);
- peak concurrency: every call is in progress from its start to its end (its start plus its
  duration where the vendor sends no end: Talkover), and the running count of calls in
  progress, in time order (an end before a start at the same instant), is read at each start:
  overall, per agent and per vendor; a period's peak is the highest of its days'. Several
  environments, several agents or a team restriction read it from the calls.

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

from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.providers import ProviderSpec, spec_for
from portal.tenancy.restriction import sql_condition
from reports.days import local_day_bounds
from reports.queries.common import periods, ratio
from sync.coverage import calls_coverage
from sync.kpi_calls import KPI_CALLS, WITH_NUMBER, peak_rows
from sync.models import Call, KpiDayRollup, OutcomeDayRollup
from sync.models.kpis import KPI_COUNT_COLUMNS
from sync.models.outcomes import SUCCEEDED_REPEAT_COLUMNS


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


# One joined reason per list of the vendors' reasons (each a provider spec's lazy constant,
# so a handful of lists in all), shared by every row lacking the same: a cached summary
# pickles it once, where a proxy per row unpickled through `django.utils.functional.lazy`
# (a class made per object, ~0.5 ms) cost a cached read of a month's KPIs by agent ~9 ms of
# CPU per thousand rows. The key is the reasons' ids; the value keeps them alive.
_JOINED_REASONS: dict[tuple[int, ...], tuple[tuple[str | Promise, ...], Promise]] = {}


def joined_reasons(lacking: Sequence[str | Promise]) -> Promise:
    """The vendors' reasons joined with ", ", still lazy (read in each reader's language)."""
    key = tuple(map(id, lacking))
    kept = _JOINED_REASONS.get(key)
    if kept is None:
        joined = format_lazy(", ".join(["{}"] * len(lacking)), *lacking)
        kept = _JOINED_REASONS[key] = (tuple(lacking), joined)
    return kept[1]


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
        summed, sent, lacking = _plan(spec)
        for needs in lacking:
            reasons = self.lacking.setdefault(needs, [])
            # Kept lazy: a cached result is read in every reader's language.
            reason = spec.not_reported or spec.label
            if reason not in reasons:
                reasons.append(reason)
        self.sent.update(sent)
        for name in summed:
            self.values[name] += values.get(name) or 0

    def merge(self, other: _Sums) -> None:
        """Add another row's sums, what its vendors send and their reasons (not its peak: a
        peak of a wider row is read on its own, never the highest of its parts')."""
        for needs, reasons in other.lacking.items():
            mine = self.lacking.setdefault(needs, [])
            mine.extend(r for r in reasons if r not in mine)
        self.sent.update(other.sent)
        for name, value in other.values.items():
            self.values[name] += value

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
                row.reasons[metric.key] = joined_reasons(lacking)
                if metric.needs not in self.sent:
                    setattr(row, metric.key, None)
        for name, needs in (("succeeded_settled", "judgement"),
                            ("succeeded_pending", "judgement"), ("timed", "answered_at")):
            if needs in self.lacking and needs not in self.sent:
                setattr(row, name, None)
        return row


# A vendor's spec → (the sums it adds to, the fields it sends, those it lacks), each in `SUMS`'
# order: a report adds a vendor's values once per day and agent of every row.
_PLANS: dict[int, tuple[ProviderSpec, tuple[tuple[str, ...], ...]]] = {}


def _plan(spec: ProviderSpec) -> tuple[tuple[str, ...], ...]:
    known = _PLANS.get(id(spec))
    if known is None or known[0] is not spec:
        summed = tuple(n for n, needs in SUMS.items() if not needs or needs not in spec.not_sent)
        sent = tuple(dict.fromkeys(needs for n, needs in SUMS.items() if needs and n in summed))
        lacking = tuple(dict.fromkeys(needs for needs in SUMS.values()
                                      if needs and needs in spec.not_sent))
        known = _PLANS[id(spec)] = (spec, (summed, sent, lacking))
    return known[1]


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


def count_rows(envs: Sequence[Environment], start: date, end: date, now: datetime,
               window_days: int, agent_ids: Sequence[str] | None = None) -> list[dict]:
    """The sums of `SUMS` per (local day, environment, agent), from the day rollups
    (`KpiDayRollup`; `OutcomeDayRollup` for the successful calls settled, repeat or pending:
    the days whose calls are all settled or all pending at `now`, the calls of the days the
    window's edge falls in)."""
    tz = envs[0].organization.tzinfo
    where = {"environment_id__in": [e.pk for e in envs], "day__gte": start, "day__lte": end,
             **({"agent_external_id__in": list(agent_ids)} if agent_ids else {})}
    key = ("day", "environment_id", "agent_external_id")
    rows = {tuple(r[k] for k in key): r for r in KpiDayRollup.objects.filter(**where).values(
        *key, *KPI_COUNT_COLUMNS, "handle_seconds", "answer_seconds", *PEAK_COLUMNS)}
    for values in rows.values():
        # Exact per day (numeric), a float as the calls' statement gave it.
        values["answer_seconds"] = float(values["answer_seconds"])
        values.update(voicemail_calls=values["calls"], transfer_answered=values["answered"],
                      succeeded_settled=0, succeeded_then_repeat=0, succeeded_pending=0)
    cut = now - timedelta(days=window_days)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    settled = [d for d in days if local_day_bounds(d, tz)[1] <= cut]
    pending = [d for d in days if local_day_bounds(d, tz)[0] > cut]
    edge = [d for d in days if d not in settled and d not in pending]
    repeats = SUCCEEDED_REPEAT_COLUMNS[:window_days]
    for values in (OutcomeDayRollup.objects.filter(**where).exclude(day__in=edge)
                   .values(*key).annotate(succeeded_sum=Sum("succeeded"),
                                          repeat_sum=sum(Sum(c) for c in repeats))
                   .order_by()):
        row = rows.get(tuple(values[k] for k in key))
        if row is None:
            continue
        if values["day"] in settled:
            row["succeeded_settled"] = values["succeeded_sum"]
            row["succeeded_then_repeat"] = values["repeat_sum"]
        else:
            row["succeeded_pending"] = values["succeeded_sum"]
    for day in edge:
        for values in _edge_rows(envs, day, cut, window_days, agent_ids):
            row = rows.get(tuple(values[k] for k in key))
            if row is not None:
                row.update({k: values[k] for k in (
                    "succeeded_settled", "succeeded_then_repeat", "succeeded_pending")})
    return list(rows.values())


def _edge_rows(envs: Sequence[Environment], day: date, cut: datetime, window_days: int,
               agent_ids: Sequence[str] | None) -> list[dict]:
    """The successful calls settled, repeat and pending at `cut` (now less the window) per
    environment and agent, of one local day, from its calls."""
    tz = envs[0].organization.tzinfo
    lo, hi = local_day_bounds(day, tz)
    phone = KPI_CALLS["succeeded"] & KPI_CALLS["answered"] & WITH_NUMBER
    settled = Q(started_at__lte=cut)
    repeat = Q(next_contact_at__lt=F("started_at") + timedelta(days=window_days))
    rows = (Call.objects.filter(
        environment_id__in=[e.pk for e in envs], is_testing=False, started_at__gte=lo,
        started_at__lt=hi, **({"agent_external_id__in": list(agent_ids)} if agent_ids else {}))
        .values("environment_id", "agent_external_id")
        .annotate(n_succeeded_settled=Count("pk", filter=phone & settled),
                  n_succeeded_then_repeat=Count("pk", filter=phone & settled & repeat),
                  n_succeeded_pending=Count("pk", filter=phone & ~settled))
        .order_by())
    # Named apart from the model's fields the filters read.
    return [{"day": day, **{k[2:] if k.startswith("n_") else k: v for k, v in row.items()}}
            for row in rows]


# The day rollup's peaks `count_rows` reads beside the sums (`_rollup_peaks`).
PEAK_COLUMNS = ("peak", "peak_own", "agent_peak", "agent_peak_own")


def _rollup_peaks(envs: Sequence[Environment], start: date, agent_ids: Sequence[str] | None,
                  rows: list[dict]) -> list[tuple] | None:
    """`peak_rows` from the day rollups' rows `count_rows` read, where they hold it: one
    environment, every agent or one, no team restriction (the peaks of several
    environments, of a set of agents or of a team's are not the highest of each one's:
    None, read from the calls)."""
    if len(envs) > 1 or len(agent_ids or ()) > 1 or sql_condition()[0]:
        return None
    out = []
    for r in rows:
        first = r["day"] == start
        of_agent = r["agent_peak_own"] if first else r["agent_peak"]
        every = of_agent if agent_ids else (r["peak_own"] if first else r["peak"])
        if of_agent:  # the calls' statement has a row only where a call was in progress
            out.append((r["day"], r["environment_id"], r["agent_external_id"],
                        envs[0].provider, every, of_agent, every))
    return out


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
    rows = count_rows(envs, start, end, now, window, agent_ids)
    for values in rows:
        day, env_id, agent = values["day"], values["environment_id"], values["agent_external_id"]
        by_day.setdefault(day, []).append((provider[env_id], values))
        if day in missing:
            continue
        agents.setdefault((env_id, agent), _Sums()).add(provider[env_id], values)
    # Each day and agent's row is added once per agent (and once per period below); the
    # totals and vendors are their agents' sums (half the adding of every row four times).
    for (env_id, _agent), sums in agents.items():
        totals.merge(sums)
        vendors.setdefault(provider[env_id], _Sums()).merge(sums)
    day_peak: dict[date, int] = {}
    peaks = _rollup_peaks(envs, start, agent_ids, rows)
    if peaks is None:
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
