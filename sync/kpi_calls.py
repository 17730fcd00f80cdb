"""Which calls each KPI counts and the KPI report's peak concurrency, as conditions and
statements over calls: the one definition the report (`reports.queries.kpis`), its day
rollup (`sync.write.kpi_rollups`) and the explorer's `kpi` filter (`reports.kpi_groups`,
the drill links of every KPI figure) read. Test calls are left out by the callers.

- answered: answered or completed (the report's "answered", `call_filter.OUTCOMES`);
- abandoned: inbound calls that ended before being answered (busy, no answer, failed);
- voicemail / transferred: the provider said so (`Call.voicemail`, `Call.transferred`);
- contained: answered and not transferred;
- timed: answered calls with an answer time (the average time to answer's calls);
- evaluated: the vendor judged them (succeeded or failed); succeeded: judged successful.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
    Sum,
)

from portal.models import Environment
from portal.tenancy.restriction import sql_condition
from sync.models.core import CallStatus, Direction, Judgement

ANSWERED = Q(status__in=(CallStatus.ANSWERED, CallStatus.COMPLETED))
# A call with a number to match, as the outcome report counts them (`sync.outcomes.PHONE`):
# only those are settled, repeats or pending; a number its organisation leaves out of
# resolution has none (`sync.excluded_numbers`).
WITH_NUMBER = ((Q(direction=Direction.OUTBOUND, to_number__regex=r"\d")
                | Q(direction=Direction.INBOUND, from_number__regex=r"\d"))
               & Q(contact_excluded=False))
ENDED_UNANSWERED = (CallStatus.NO_ANSWER, CallStatus.BUSY, CallStatus.FAILED)
KPI_CALLS: dict[str, Q] = {
    "answered": ANSWERED,
    "inbound": Q(direction=Direction.INBOUND),
    "abandoned": Q(direction=Direction.INBOUND, status__in=ENDED_UNANSWERED),
    "voicemail": Q(voicemail=True),
    "transferred": Q(transferred=True),
    "contained": ANSWERED & Q(transferred=False),
    "timed": ANSWERED & Q(answered_at__isnull=False, answered_at__gte=F("started_at")),
    "evaluated": Q(judgement__in=(Judgement.SUCCEEDED, Judgement.FAILED)),
    "succeeded": Q(judgement=Judgement.SUCCEEDED),
}


class _Seconds(Func):
    """An interval's seconds."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def kpi_sums() -> dict[str, Aggregate]:
    """What the KPI report sums over a group of calls: each `KPI_CALLS` group's count (and
    every call's: `calls`), the talk seconds of answered calls and the seconds to answer of
    timed ones. The report's rollup (`sync.models.KpiDayRollup`) holds them per day."""
    wait = ExpressionWrapper(F("answered_at") - F("started_at"), output_field=DurationField())
    return {"calls": Count("pk"),
            **{name: Count("pk", filter=KPI_CALLS[name]) for name in (
                "answered", "inbound", "abandoned", "voicemail", "transferred", "contained",
                "timed", "evaluated", "succeeded")},
            "handle_seconds": Sum("duration", filter=KPI_CALLS["answered"]),
            "answer_seconds": Sum(_Seconds(wait), filter=KPI_CALLS["timed"])}


def teams_condition(alias: str, params: dict) -> str:
    """The team restriction's condition on `alias`'s rows, its parameters named into
    `params` (`portal.tenancy.restriction`)."""
    teams, values = sql_condition(f"{alias}.environment_id", f"{alias}.agent_external_id")
    for value in values:
        name = f"team{len(params)}"
        teams = teams.replace("%s", f"%({name})s", 1)
        params[name] = value
    return teams


# Each call in progress from its start to its end (start + duration without one); the running
# count at each start, in time order (ends first at one instant), overall, per agent, per
# vendor; the highest per local day and group. Agents are partitioned by their ids' bytes
# (COLLATE "C": a third of the statement was comparing ids by the locale's rules). Framed
# (`framed_peak_rows`), each call counts in every frame (a local day and the next) holding
# its start's local day, and the counts run per frame.
_PEAK = """
WITH c AS (
    SELECT {frame} AS frame, c.environment_id, c.agent_external_id, p.provider,
           c.started_at AS s,
           coalesce(c.ended_at, c.started_at + c.duration * interval '1 second') AS e
    FROM sync_call c JOIN unnest(%(envs)s::bigint[], %(providers)s::text[]) AS p(env, provider)
         ON p.env = c.environment_id {frames}
    WHERE c.environment_id = ANY(%(envs)s) AND NOT c.is_testing
      AND c.started_at >= %(lo)s AND c.started_at < %(hi)s {agents} {teams}),
ev AS (
    SELECT frame, environment_id, agent_external_id, provider, s AS t, 1 AS d FROM c
    WHERE e > s
    UNION ALL
    SELECT frame, environment_id, agent_external_id, provider, e, -1 FROM c WHERE e > s),
lv AS (
    SELECT frame, t, d, environment_id, agent_external_id, provider,
           sum(d) OVER ({by_frame_only}ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS every,
           sum(d) OVER (PARTITION BY {by_frame}environment_id, agent_external_id COLLATE "C"
                        ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS agent
    FROM ev),
lvv AS (SELECT *, {vendor} AS vendor FROM lv)
SELECT frame, (t AT TIME ZONE %(tz)s)::date, environment_id, agent_external_id, provider,
       max(every)::int, max(agent)::int, max(vendor)::int
FROM lvv WHERE d = 1 GROUP BY 1, 2, 3, 4, 5"""
# A frame: the calls started on its local day and the next; so a call is in the frames of its
# day and of the day before, those asked for (two rows, not a comparison with every frame).
_FRAMES = """CROSS JOIN LATERAL (
             SELECT first FROM (VALUES ((c.started_at AT TIME ZONE %(tz)s)::date),
                                       ((c.started_at AT TIME ZONE %(tz)s)::date - 1)) AS v(first)
             WHERE first = ANY(%(frames)s::date[])) AS f"""
PEAK_WORK_MEM = "64MB"


def _peaks(envs: Sequence[Environment], start: date, end: date,
           agent_ids: Sequence[str] | None, frames: Sequence[date] | None) -> list[tuple]:
    tz = envs[0].organization.tzinfo
    params = {"envs": [e.pk for e in envs], "providers": [e.provider for e in envs],
              "lo": datetime.combine(start, time.min, tzinfo=tz),
              "hi": datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
              "tz": envs[0].organization.timezone, "agents": list(agent_ids or ()),
              "frames": list(frames or ())}
    by_frame = "frame, " if frames else ""
    # One vendor in scope: its level is the overall one (a sort fewer).
    vendor = ("every" if len(set(params["providers"])) == 1 else
              f"sum(d) OVER (PARTITION BY {by_frame}provider ORDER BY t, d "
              "ROWS UNBOUNDED PRECEDING)")
    sql = _PEAK.format(
        teams=teams_condition("c", params), vendor=vendor, by_frame=by_frame,
        by_frame_only="PARTITION BY frame " if frames else "",
        frame="f.first" if frames else "NULL::date", frames=_FRAMES if frames else "",
        agents="AND c.agent_external_id = ANY(%(agents)s)" if agent_ids else "")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        # The sorts of a 90-day range's starts and ends (about two per call) in memory.
        cursor.execute(f"SET LOCAL work_mem = '{PEAK_WORK_MEM}'")
        cursor.execute(sql, params)
        return cursor.fetchall()


def peak_rows(envs: Sequence[Environment], start: date, end: date,
              agent_ids: Sequence[str] | None = None) -> list[tuple]:
    """(local day, environment, agent, vendor, peak overall, of the agent, of the vendor)
    at the starts of that day's calls."""
    return [row[1:] for row in _peaks(envs, start, end, agent_ids, None)]


def framed_peak_rows(environment: Environment, firsts: Sequence[date]) -> list[tuple]:
    """`peak_rows` of one environment in frames of two local days, all in one statement:
    (frame's first day, local day, environment, agent, vendor, peaks…), each frame's counts
    seeing only the calls started on its two days. A frame's first day's peaks are that day's
    own (its calls alone: the running counts at its starts cannot see the next day's calls);
    its second day's count the calls in progress since the first."""
    firsts = sorted(set(firsts))
    return _peaks([environment], firsts[0], firsts[-1] + timedelta(days=1), None, firsts)
