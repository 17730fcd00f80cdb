"""The outcome report: what a resolved call costs, and how often callers come back.

Reads the calls' kept outcome (`Call.next_contact_at`, `sync.outcomes`: the rule is there)
and their cost, grouped by local day in one statement, then sums days into periods: no
self-join, no per-call work at request time. The statement reads the outcome rollup
(`OutcomeDayRollup`, `sync.outcomes`: THE ROLLUP): before the day the window's edge
(now − window) falls in every answered call is settled, after it pending; that day is
corrected from its calls on the shorter side of the edge. An alert's window
(`span_outcome`) reads the calls. Figures per period:

- `calls`: non-test calls (web calls too: they cost); `answered`: those answered or completed
  (`sync.models.core.ANSWERED_STATUSES`, as every report counts them); `no_number`: the
  answered ones with no number to match (web calls: never settled nor pending);
- `settled`: answered calls with a number older than the organisation's window (their
  outcome is known), `pending`: those younger than it (counted neither way);
- `repeat_contacts`: settled calls with a contact of the same number within the window
  after them, `resolved` = settled − repeat_contacts; repeat-contact rate = repeats / settled
  (a fraction, rounded only when shown);
- `cost`: the sum of the calls' known costs — the vendor's own where it sends one (Vapi's
  `cost`), else an estimate: the agent's price snapshot in force on the call's UTC day
  (`AgentPrice`, kept by a provider's price source), or the earliest
  snapshot for a day before it (`estimated_early` calls, `earliest_price_on`) × the call's
  billed seconds (or talk seconds) / 60, exact; `cost_source` says which (`vendor`,
  `estimate`, `mixed`); null when no call of the period has a cost (never 0), and null where
  the calls carry more than one currency; `vendor_costed` / `estimated`: how many calls had
  each, so every cost says how many of `calls` it prices;
- `cost_per_call`: cost over the calls it prices; `cost_per_answered`: over answered calls,
  only when every call is priced;
- the settled part: the calls started at or before the window's edge (`settled_calls`,
  through the local day `settled_through`), their cost (`settled_cost`) and how many it
  prices (`settled_costed`); `cost_per_resolved` = settled cost / resolved, only when the
  settled part is wholly priced — never the cost of pending calls over resolved ones.

A period holding a day that was never mirrored has every figure null (a gap, not a zero).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from portal.models import Environment
from portal.replicas import connection_for
from reports.queries.common import periods
from sync.coverage import calls_coverage
from sync.kpi_calls import teams_condition as _teams
from sync.models import Call
from sync.models.outcomes import REPEAT_COLUMNS
from sync.outcomes import CALL_FLAGS, SECONDS

FIGURES = ("calls", "answered", "no_number", "settled", "resolved", "repeat_contacts",
           "pending", "settled_calls")
# The sums each statement row carries, in its order (`_SQL`): the whole period's counts and
# cost, then the settled part's (calls started at or before the window's edge).
SUMS = ("calls", "answered_with_number", "no_number", "settled", "repeat_contacts", "pending",
        "vendor_costed", "vendor_cost", "estimated", "estimate", "estimated_early",
        "settled_calls", "settled_vendor_costed", "settled_vendor_cost", "settled_estimated",
        "settled_estimate")
MONEY = Decimal("0.000001")


def money_field() -> Any:
    """An exact amount (six decimals), null when unknown: the API writes it as sent."""
    return dataclasses.field(default=None, metadata={"serializer_kwargs": {
        "max_digits": 30, "decimal_places": 6, "allow_null": True}})


@dataclasses.dataclass
class OutcomeRow:
    """One period (or agent, or vendor): counts, cost and its ratios (see the module)."""

    start: date | None = None
    end: date | None = None
    calls: int | None = 0
    answered: int | None = 0
    no_number: int | None = 0
    settled: int | None = 0
    resolved: int | None = 0
    repeat_contacts: int | None = 0
    pending: int | None = 0
    vendor_costed: int | None = 0
    estimated: int | None = 0
    # Calls priced with the agent's earliest price snapshot, read after their day.
    estimated_early: int | None = 0
    earliest_price_on: date | None = None
    cost: Decimal | None = money_field()
    cost_source: str | None = None
    currency: str | None = None
    cost_per_call: Decimal | None = money_field()
    cost_per_answered: Decimal | None = money_field()
    # The settled part: calls started at or before the window's edge (their outcome known).
    settled_calls: int | None = 0
    settled_costed: int | None = 0
    settled_cost: Decimal | None = money_field()
    settled_through: date | None = None
    cost_per_resolved: Decimal | None = money_field()
    repeat_contact_rate: float | None = None
    agent_external_id: str = ""
    environment_id: int | None = None
    vendor: str = ""

    def __post_init__(self) -> None:
        # Working state, not figures (not fields): the exact sums and the currencies seen.
        self._sums = dict.fromkeys(SUMS, 0)
        self._currencies: set[str] = set()
        self._earliest: set[date] = set()

    def add(self, values: Sequence, currencies: Sequence[str] = (),
            earliest: date | None = None) -> None:
        """Add one statement row's sums (`SUMS`, in order)."""
        for name, value in zip(SUMS, values, strict=True):
            self._sums[name] += value or 0
        self._currencies.update(c for c in currencies if c)
        if earliest is not None:
            self._earliest.add(earliest)

    def add_row(self, other: OutcomeRow) -> None:
        """Add another row's sums (a day's into its period)."""
        for name in SUMS:
            self._sums[name] += other._sums[name]
        self._currencies |= other._currencies
        self._earliest |= other._earliest

    def finish(self, settled_through: date | None = None) -> OutcomeRow:
        """Derive the figures from the sums: counts, cost and its coverage, ratios.
        `settled_through`: the last local day holding settled calls (None: none)."""
        s = self._sums
        self.calls, self.no_number = s["calls"], s["no_number"]
        self.answered = s["answered_with_number"] + s["no_number"]
        self.settled, self.pending = s["settled"], s["pending"]
        self.repeat_contacts = s["repeat_contacts"]
        self.resolved = self.settled - self.repeat_contacts
        self.repeat_contact_rate = (self.repeat_contacts / self.settled
                                    if self.settled else None)
        self.vendor_costed, self.estimated = s["vendor_costed"], s["estimated"]
        self.estimated_early = s["estimated_early"]
        self.earliest_price_on = min(self._earliest) if self._earliest else None
        self.settled_calls = s["settled_calls"]
        self.settled_costed = s["settled_vendor_costed"] + s["settled_estimated"]
        self.settled_through = settled_through if self.settled_calls else None
        priced = self.vendor_costed + self.estimated
        if not priced or len(self._currencies) > 1:
            return self  # no cost known, or no sum across currencies
        self.cost_source = ("mixed" if self.vendor_costed and self.estimated
                            else "vendor" if self.vendor_costed else "estimate")
        self.currency = next(iter(self._currencies), None) or "USD"
        # Money sums are exact decimals; a group the statement gave no amount adds an int 0.
        self.cost = (Decimal(s["vendor_cost"]) + Decimal(s["estimate"])).quantize(MONEY)
        self.cost_per_call = (self.cost / priced).quantize(MONEY)
        # A ratio over a count is honest only when the cost covers every call it divides.
        complete = priced == self.calls
        if complete and self.answered:
            self.cost_per_answered = (self.cost / self.answered).quantize(MONEY)
        if self.settled_costed:
            self.settled_cost = (Decimal(s["settled_vendor_cost"])
                                 + Decimal(s["settled_estimate"])).quantize(MONEY)
        if (self.settled_costed and self.settled_costed == self.settled_calls
                and self.resolved):
            self.cost_per_resolved = (self.settled_cost / self.resolved).quantize(MONEY)
        return self

    @property
    def unpriced(self) -> int | None:
        """Calls of the row with no cost known (neither the vendor's nor an estimate)."""
        if self.calls is None:
            return None
        return self.calls - (self.vendor_costed or 0) - (self.estimated or 0)

    @classmethod
    def gap(cls, start: date, end: date) -> OutcomeRow:
        """A period holding a never-mirrored day: every figure null."""
        return cls(start, end, **dict.fromkeys(FIGURES), vendor_costed=None, estimated=None,
                   estimated_early=None, settled_costed=None)


@dataclasses.dataclass
class OutcomeSummary:
    start: date
    end: date
    interval: str
    window_days: int
    # Calls started at or before this moment are settled (now − the window).
    settled_until: datetime
    totals: OutcomeRow
    series: list[OutcomeRow]
    agents: list[OutcomeRow]
    vendors: list[OutcomeRow]
    missing_days: list[date]


# The price in force for a call without the vendor's own cost: the agent's snapshot valid on
# the call's UTC day, else (a day before the first snapshot) the earliest one, which the
# report counts apart (`estimated_early`) and names (`p`); a call's estimate is
# `p.per_minute` x its billed (else talk) seconds / 60 (`ESTIMATE`). Every face of a cost
# reads this rule: a call's page per call (`PRICE`), the report per group of calls of one
# agent and UTC day (`_SQL`). Two index probes at most: the second only when the first finds
# nothing.
PRICE_OF = """LEFT JOIN LATERAL (
        (SELECT p.per_minute, p.currency, p.valid_from FROM sync_agentprice p
         WHERE {unpriced} AND p.environment_id = {row}.environment_id
           AND p.agent_external_id = {row}.agent_external_id AND p.valid_from <= {day}
         ORDER BY p.valid_from DESC LIMIT 1)
        UNION ALL
        (SELECT p.per_minute, p.currency, p.valid_from FROM sync_agentprice p
         WHERE {unpriced} AND p.environment_id = {row}.environment_id
           AND p.agent_external_id = {row}.agent_external_id
         ORDER BY p.valid_from LIMIT 1)
        LIMIT 1) p ON true"""
PRICE = PRICE_OF.format(unpriced="c.vendor_cost IS NULL", row="c",
                        day="(c.started_at AT TIME ZONE 'UTC')::date")
ESTIMATE = f"p.per_minute * {SECONDS} / 60"

# The statement: each call's flags computed once (`r`, `sync.outcomes.CALL_FLAGS`), summed
# per local day, environment, agent and UTC day (`g`: the price's day), then each such group
# priced once — one price probe per group, not per call (at 1M calls, 485,000 probes were two
# thirds of its time). `g` reads the calls (`_CALLS`) or the outcome rollup (`_ROLLUP`,
# `sync.outcomes`: THE ROLLUP): a day before the edge day is all settled, one after it all
# pending, the edge day corrected from its calls on one side of the edge (`_EDGE`). Each
# group carries the whole period's sums, then the settled part's (`s_…`).
_CALLS = """
        SELECT r.day, r.environment_id, r.agent_external_id, r.utc_day,
               count(*) AS calls,
               count(*) FILTER (WHERE r.answered) AS answered,
               count(*) FILTER (WHERE r.answered_no_number) AS no_number,
               count(*) FILTER (WHERE r.answered AND r.settled) AS settled,
               count(*) FILTER (WHERE r.answered AND r.settled
                                AND r.repeat_day <= %(window_days)s) AS repeats,
               count(*) FILTER (WHERE r.answered AND NOT r.settled) AS pending,
               count(r.vendor_cost) AS vendor_costed,
               coalesce(sum(r.vendor_cost), 0) AS vendor_cost,
               count(*) FILTER (WHERE r.vendor_cost IS NULL) AS unpriced,
               sum(r.seconds) FILTER (WHERE r.vendor_cost IS NULL) AS unpriced_seconds,
               count(*) FILTER (WHERE r.settled) AS s_calls,
               count(r.vendor_cost) FILTER (WHERE r.settled) AS s_vendor_costed,
               coalesce(sum(r.vendor_cost) FILTER (WHERE r.settled), 0) AS s_vendor_cost,
               count(*) FILTER (WHERE r.settled AND r.vendor_cost IS NULL) AS s_unpriced,
               sum(r.seconds) FILTER (WHERE r.settled AND r.vendor_cost IS NULL)
                   AS s_unpriced_seconds,
               string_agg(DISTINCT r.vendor_cost_currency, ',')
                   FILTER (WHERE r.vendor_cost IS NOT NULL) AS currencies
        FROM (
            SELECT {flags}, c.started_at + %(window)s <= %(now)s AS settled
            FROM sync_call c
            WHERE c.environment_id = ANY(%(envs)s) AND NOT c.is_testing
              AND c.started_at {from_op} %(lo)s AND c.started_at {to_op} %(hi)s
              {teams} {narrow}) r
        GROUP BY 1, 2, 3, 4"""
_ROLLUP = """
        SELECT o.day, o.environment_id, o.agent_external_id, o.utc_day,
               sum(o.calls) AS calls, sum(o.answered) AS answered,
               sum(o.answered_no_number) AS no_number,
               CASE WHEN {settled} THEN sum(o.answered) ELSE 0 END AS settled,
               CASE WHEN {settled} THEN sum({repeats}) ELSE 0 END AS repeats,
               CASE WHEN {settled} THEN 0 ELSE sum(o.answered) END AS pending,
               sum(o.vendor_costed) AS vendor_costed, sum(o.vendor_cost) AS vendor_cost,
               sum(o.unpriced) AS unpriced, sum(o.unpriced_seconds) AS unpriced_seconds,
               CASE WHEN {settled} THEN sum(o.calls) ELSE 0 END AS s_calls,
               CASE WHEN {settled} THEN sum(o.vendor_costed) ELSE 0 END AS s_vendor_costed,
               CASE WHEN {settled} THEN sum(o.vendor_cost) ELSE 0 END AS s_vendor_cost,
               CASE WHEN {settled} THEN sum(o.unpriced) ELSE 0 END AS s_unpriced,
               CASE WHEN {settled} THEN sum(o.unpriced_seconds) ELSE 0 END
                   AS s_unpriced_seconds,
               string_agg(nullif(o.currencies, ''), ',') AS currencies
        FROM sync_outcomedayrollup o
        WHERE o.environment_id = ANY(%(envs)s) AND o.day >= %(first)s AND o.day <= %(last)s
              {teams} {narrow}
        GROUP BY 1, 2, 3, 4"""
# The edge day's correction, from its calls on one side of the edge (`now` - window): the
# rollup counts that day's calls all pending (`%(sign)s` 1: the calls up to the edge are
# read, and move to the settled part) or all settled (-1: the calls after it are read, and
# move out of it) — whichever side is the shorter part of the day.
_EDGE = """
        SELECT r.day, r.environment_id, r.agent_external_id, r.utc_day, 0, 0, 0,
               %(sign)s * count(*) FILTER (WHERE r.answered),
               %(sign)s * count(*) FILTER (WHERE r.answered
                                           AND r.repeat_day <= %(window_days)s),
               -%(sign)s * count(*) FILTER (WHERE r.answered),
               0, 0, 0, NULL::numeric,
               %(sign)s * count(*), %(sign)s * count(r.vendor_cost),
               %(sign)s * coalesce(sum(r.vendor_cost), 0),
               %(sign)s * count(*) FILTER (WHERE r.vendor_cost IS NULL),
               %(sign)s * sum(r.seconds) FILTER (WHERE r.vendor_cost IS NULL),
               string_agg(DISTINCT r.vendor_cost_currency, ',')
                   FILTER (WHERE r.vendor_cost IS NOT NULL)
        FROM (SELECT {flags} FROM sync_call c
              WHERE c.environment_id = ANY(%(envs)s) AND NOT c.is_testing
                AND c.started_at {from_op} %(lo)s AND c.started_at {to_op} %(hi)s
                {teams} {narrow}) r
        GROUP BY 1, 2, 3, 4"""
_PRICED = "p.per_minute IS NOT NULL"
_SQL = f"""
    WITH g AS ({{groups}})
    SELECT g.day, g.environment_id, g.agent_external_id,
           sum(g.calls)::bigint, sum(g.answered)::bigint, sum(g.no_number)::bigint,
           sum(g.settled)::bigint, sum(g.repeats)::bigint, sum(g.pending)::bigint,
           sum(g.vendor_costed)::bigint, sum(g.vendor_cost),
           coalesce(sum(g.unpriced) FILTER (WHERE {_PRICED}), 0)::bigint,
           coalesce(sum(p.per_minute * g.unpriced_seconds / 60), 0),
           coalesce(sum(g.unpriced) FILTER (WHERE p.valid_from > g.utc_day), 0)::bigint,
           sum(g.s_calls)::bigint, sum(g.s_vendor_costed)::bigint, sum(g.s_vendor_cost),
           coalesce(sum(g.s_unpriced) FILTER (WHERE {_PRICED}), 0)::bigint,
           coalesce(sum(p.per_minute * g.s_unpriced_seconds / 60), 0),
           min(p.valid_from) FILTER (WHERE p.valid_from > g.utc_day AND g.unpriced > 0),
           string_agg(concat_ws(',', g.currencies, CASE WHEN {_PRICED}
                                                       THEN p.currency END), ',')
    FROM g {{price}}
    GROUP BY 1, 2, 3"""


def outcome_rows(envs: Sequence[Environment], start: date, end: date, window_days: int,
                 now: datetime, *, agent_ids: Sequence[str] | None = None,
                 direction: Sequence[str] | None = None) -> list[tuple]:
    """(local day, environment id, agent id, calls, answered, settled, repeats, pending,
    vendor-costed, vendor cost, estimated, estimate, currencies) of the calls of these local
    days (of these agents, directions: None = any): one statement, reading the outcome
    rollup and, for the day the window's edge (`now` - window) falls in, the calls on one
    side of the edge."""
    org = envs[0].organization
    tz = org.tzinfo
    cut = now - timedelta(days=window_days)  # a call started at or before it is settled
    edge = cut.astimezone(tz).date()
    day_start = datetime.combine(edge, datetime.min.time(), tzinfo=tz)
    day_end = datetime.combine(edge + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    params = {"first": start, "last": end, "edge": edge}
    side = None
    if start <= edge <= end:
        settled_side = cut - day_start <= day_end - cut
        params["edge_settled"] = not settled_side
        params["sign"] = 1 if settled_side else -1
        side = ((day_start, cut, ">=", "<=") if settled_side
                else (cut, day_end, ">", "<"))
    else:
        params["edge_settled"] = edge > end
    return _rows(org, [e.pk for e in envs], window_days, now, agent_ids=agent_ids,
                 direction=direction, rollup=params, edge_side=side)


def span_rows(org, env_ids: Sequence[int], lo: datetime, hi: datetime, window_days: int,
              now: datetime, *, agent_ids: Sequence[str] | None = None,
              direction: Sequence[str] | None = None) -> list[tuple]:
    """`outcome_rows` of the calls started in [lo, hi) (grouped by `org`'s local day), read
    from the calls."""
    return _rows(org, env_ids, window_days, now, agent_ids=agent_ids, direction=direction,
                 edge_side=(lo, hi, ">=", "<"))


def _rows(org, env_ids: Sequence[int], window_days: int, now: datetime, *,
          agent_ids: Sequence[str] | None, direction: Sequence[str] | None,
          rollup: dict | None = None, edge_side: tuple | None = None) -> list[tuple]:
    """The statement: without `rollup`, over the calls started within `edge_side` (lo, hi,
    and their comparisons); with it (first, last, edge day, edge_settled, sign), over the
    rollup's days first..last, and the edge day's correction from the calls within
    `edge_side` (None: the edge day is not in first..last)."""
    params = {"tz": org.timezone, "window": timedelta(days=window_days),
              "window_days": window_days, "now": now, "envs": list(env_ids),
              "agents": list(agent_ids or ()), "directions": list(direction or ())}
    narrow = ((" AND {a}.agent_external_id = ANY(%(agents)s)" if agent_ids else "")
              + (" AND {a}.direction = ANY(%(directions)s)" if direction else ""))
    parts = []
    if rollup is not None:
        params.update(rollup)
        parts.append(_ROLLUP.format(
            settled="(o.day < %(edge)s OR (o.day = %(edge)s AND %(edge_settled)s))",
            repeats=" + ".join(f"o.{c}" for c in REPEAT_COLUMNS[:window_days]),
            teams=_teams("o", params), narrow=narrow.format(a="o")))
    if edge_side is not None:
        params["lo"], params["hi"], from_op, to_op = edge_side
        parts.append((_EDGE if rollup is not None else _CALLS).format(
            flags=CALL_FLAGS, teams=_teams("c", params), narrow=narrow.format(a="c"),
            from_op=from_op, to_op=to_op))
    sql = _SQL.format(groups=" UNION ALL ".join(parts),
                      price=PRICE_OF.format(unpriced="(g.unpriced > 0 OR g.s_unpriced <> 0)",
                                            row="g", day="g.utc_day"))
    # No JIT: at a million calls its cost estimate crossed jit_above_cost and compiling the
    # statement took ~400 ms, more than running it.
    connection = connection_for(Call)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        # The currencies come as one comma-joined text per row (a set: duplicates, blanks).
        return [(*row[:-1], [c for c in (row[-1] or "").split(",") if c])
                for row in cursor.fetchall()]


def _add(row: OutcomeRow, values: Sequence) -> None:
    """Add one statement row (after its day, environment and agent) to `row`."""
    *sums, earliest, currencies = values
    row.add(sums, currencies, earliest)




def span_outcome(org, env_ids: Sequence[int], lo: datetime, hi: datetime, *,
                 now: datetime | None = None, agent_id: str = "") -> OutcomeRow:
    """The outcome report's totals of the calls started in [lo, hi): an alert's window
    (`reports.alerts.metrics`), with the report's own sums and ratios."""
    now = now or timezone.now()
    window = org.resolution_window_days
    total = OutcomeRow()
    for _day, _env, _agent, *values in span_rows(
            org, env_ids, lo, hi, window, now, agent_ids=[agent_id] if agent_id else None):
        _add(total, values)
    cut = (now - timedelta(days=window)).astimezone(org.tzinfo).date()
    return total.finish(cut)


def outcomes_summary(envs: Sequence[Environment], start: date, end: date, interval: str,
                     *, now: datetime | None = None, agent_ids: Sequence[str] | None = None,
                     direction: Sequence[str] | None = None) -> OutcomeSummary:
    """The outcome report of these environments (one organisation) over local days
    start..end, in periods of `interval` (of these agents and directions: None = any)."""
    now = now or timezone.now()
    org = envs[0].organization
    window = org.resolution_window_days
    rows = outcome_rows(envs, start, end, window, now, agent_ids=agent_ids,
                        direction=direction)
    until = now - timedelta(days=window)
    cut = until.astimezone(org.tzinfo).date()
    missing = set(calls_coverage(envs, start, end).missing_days)
    provider = {e.pk: e.provider for e in envs}
    by_day: dict[date, OutcomeRow] = {}
    totals, agents, vendors = OutcomeRow(start, end), {}, {}
    for day, env_id, agent, *values in rows:
        _add(by_day.setdefault(day, OutcomeRow()), values)
        if day in missing:
            continue
        _add(totals, values)
        _add(agents.setdefault((env_id, agent), OutcomeRow(
            agent_external_id=agent, environment_id=env_id)), values)
        _add(vendors.setdefault(provider[env_id], OutcomeRow(vendor=provider[env_id])),
             values)
    series = []
    for first, last in periods(start, end, interval):
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if any(d in missing for d in days):
            series.append(OutcomeRow.gap(first, last))
            continue
        point = OutcomeRow(first, last)
        for d in days:
            if d in by_day:
                point.add_row(by_day[d])
        series.append(point.finish(min(cut, last)))
    through = min(cut, end)
    return OutcomeSummary(
        start, end, interval, window, until, totals.finish(through), series,
        sorted((a.finish(through) for a in agents.values()), key=lambda r: -r.calls),
        sorted((v.finish(through) for v in vendors.values()), key=lambda r: r.vendor),
        sorted(missing))


def scope_outcomes(scope, *, now: datetime | None = None) -> OutcomeSummary:
    """The outcome report of a report scope (`reports.scope.ReportScope`): its environments,
    days, interval, agent and direction — what the Outcomes page and the dashboard's cards
    show, and their doors narrow to."""
    return outcomes_summary(scope.environments, scope.start, scope.end, scope.interval,
                            now=now, agent_ids=scope.agent_ids, direction=scope.direction)


@dataclasses.dataclass(frozen=True)
class CallCost:
    """One call's cost as the report counts it (exact: the report sums these, then rounds):
    the vendor's own (`vendor`), else the estimate from the agent's price snapshot of
    `price_of` (`estimate`), else none."""

    cost: Decimal | None
    source: str | None
    currency: str | None
    price_of: date | None = None
    # Priced with the agent's earliest snapshot, read after the call's day.
    early: bool = False


def call_costs(calls: Sequence) -> dict[int, CallCost]:
    """Each call's cost (by call id), by the report's own price rule (`PRICE`, `ESTIMATE`);
    read per call's start (one month's partition each)."""
    if not calls:
        return {}
    sql = f"""SELECT c.id, c.vendor_cost, c.vendor_cost_currency, {ESTIMATE},
                     p.currency, p.valid_from, (c.started_at AT TIME ZONE 'UTC')::date
              FROM sync_call c {PRICE}
              WHERE c.id = ANY(%(ids)s) AND c.started_at = ANY(%(starts)s)"""
    with connection_for(Call).cursor() as cursor:
        cursor.execute(sql, {"ids": [c.pk for c in calls],
                             "starts": [c.started_at for c in calls]})
        rows = cursor.fetchall()
    costs = {}
    for pk, vendor_cost, vendor_currency, estimate, currency, valid_from, utc_day in rows:
        if vendor_cost is not None:
            costs[pk] = CallCost(vendor_cost, "vendor", vendor_currency or "USD")
        elif estimate is not None:
            costs[pk] = CallCost(estimate, "estimate", currency, valid_from,
                                 early=valid_from > utc_day)
        else:
            costs[pk] = CallCost(None, None, None)
    # A call the statement did not find (a start at the calendar's edge, year 1 or 9999,
    # read back unlike it was written) has no cost known, as a call without a price.
    return {c.pk: costs.get(c.pk, CallCost(None, None, None)) for c in calls}
