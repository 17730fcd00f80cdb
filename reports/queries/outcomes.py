"""The outcome report: what a resolved call costs, and how often callers come back.

Reads the calls' kept outcome (`Call.next_contact_at`, `sync.outcomes`: the rule is there)
and their cost, grouped by local day in one statement, then sums days into periods: no
self-join, no per-call work at request time. The statement reads the outcome rollup
(`OutcomeDayRollup`, `sync.outcomes`: THE ROLLUP): before the day the window's edge
(now − window) falls in every answered call is settled, after it pending; that day is
corrected from its calls on the shorter side of the edge. An alert's window
(`span_outcome`) reads the calls. Figures per period:

- `calls`: non-test calls (web calls too: they cost); `answered`: those answered or completed
  with a number to match (a phone call: a web call is never settled nor pending);
- `settled`: answered calls older than the organisation's window (their outcome is known),
  `pending`: answered calls younger than it (counted neither way);
- `repeat_contacts`: settled calls with a contact of the same number within the window
  after them, `resolved` = settled − repeat_contacts; repeat-contact rate = repeats / settled;
- `cost`: the sum of the calls' known costs — the vendor's own where it sends one (Vapi's
  `cost`), else an estimate: the agent's price snapshot in force on the call's UTC day
  (`AgentPrice`, sync.prices: Talkover's `estimated_cost_per_minute`) × the call's billed
  seconds (or talk seconds) / 60, exact; `cost_source` says which (`vendor`, `estimate`,
  `mixed`); null when no call of the period has a cost (never 0), and null where the calls
  carry more than one currency; `vendor_costed` / `estimated`: how many calls had each;
  `cost_per_*`: cost over calls, answered, resolved.

A period holding a day that was never mirrored has every figure null (a gap, not a zero).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from portal.models import Environment
from portal.replicas import connection_for
from portal.tenancy.restriction import sql_condition
from reports.queries.common import periods
from sync.coverage import calls_coverage
from sync.models import Call
from sync.models.outcomes import REPEAT_COLUMNS
from sync.outcomes import CALL_FLAGS, SECONDS

FIGURES = ("calls", "answered", "settled", "resolved", "repeat_contacts", "pending")


@dataclasses.dataclass
class OutcomeRow:
    """One period (or agent, or vendor): counts, cost and its ratios (see the module)."""

    start: date | None = None
    end: date | None = None
    calls: int | None = 0
    answered: int | None = 0
    settled: int | None = 0
    resolved: int | None = 0
    repeat_contacts: int | None = 0
    pending: int | None = 0
    vendor_costed: int | None = 0
    estimated: int | None = 0
    cost: Decimal | None = None
    cost_source: str | None = None
    currency: str | None = None
    cost_per_call: Decimal | None = None
    cost_per_answered: Decimal | None = None
    cost_per_resolved: Decimal | None = None
    repeat_contact_rate: float | None = None
    agent_external_id: str = ""
    environment_id: int | None = None
    vendor: str = ""

    def __post_init__(self) -> None:
        self._currencies: set[str] = set()  # working state, not a figure (not a field)

    def add(self, values: Sequence) -> None:
        (calls, answered, settled, repeats, pending, vendor_costed, vendor_cost, estimated,
         estimate, currencies) = values
        self.calls += calls
        self.answered += answered
        self.settled += settled
        self.repeat_contacts += repeats
        self.pending += pending
        self.vendor_costed += vendor_costed
        self.estimated += estimated
        if vendor_costed or estimated:
            self.cost = (self.cost or Decimal(0)) + vendor_cost + estimate
            self._currencies.update(c for c in (currencies or ()) if c)

    def finish(self) -> OutcomeRow:
        """Derive resolved, the source, currency and ratios from the sums."""
        self.resolved = self.settled - self.repeat_contacts
        self.repeat_contact_rate = (round(self.repeat_contacts / self.settled, 4)
                                    if self.settled else None)
        if self.cost is not None and len(self._currencies) > 1:
            self.cost = None  # no sum across currencies
        if self.cost is not None:
            self.cost_source = ("mixed" if self.vendor_costed and self.estimated
                                else "vendor" if self.vendor_costed else "estimate")
            self.currency = next(iter(self._currencies), None) or "USD"
            self.cost = self.cost.quantize(Decimal("0.000001"))
            for name, count in (("cost_per_call", self.calls),
                                ("cost_per_answered", self.answered),
                                ("cost_per_resolved", self.resolved)):
                setattr(self, name, (self.cost / count).quantize(Decimal("0.000001"))
                        if count else None)
        return self

    @classmethod
    def gap(cls, start: date, end: date) -> OutcomeRow:
        """A period holding a never-mirrored day: every figure null."""
        return cls(start, end, **dict.fromkeys(FIGURES), vendor_costed=None, estimated=None)


@dataclasses.dataclass
class OutcomeSummary:
    start: date
    end: date
    interval: str
    window_days: int
    totals: OutcomeRow
    series: list[OutcomeRow]
    agents: list[OutcomeRow]
    vendors: list[OutcomeRow]
    missing_days: list[date]


# The price in force for a call without the vendor's own cost: the agent's snapshot valid on
# the call's UTC day (`p`); a call's estimate is `p.per_minute` x its billed (else talk)
# seconds / 60 (`ESTIMATE`). Every face of a cost reads this rule: a call's page per call
# (`PRICE`), the report per group of calls of one agent and UTC day (`_SQL`).
PRICE_OF = """LEFT JOIN LATERAL (
        SELECT p.per_minute, p.currency, p.valid_from FROM sync_agentprice p
        WHERE {unpriced} AND p.environment_id = {row}.environment_id
          AND p.agent_external_id = {row}.agent_external_id AND p.valid_from <= {day}
        ORDER BY p.valid_from DESC LIMIT 1) p ON true"""
PRICE = PRICE_OF.format(unpriced="c.vendor_cost IS NULL", row="c",
                        day="(c.started_at AT TIME ZONE 'UTC')::date")
ESTIMATE = f"p.per_minute * {SECONDS} / 60"

# The statement: each call's flags computed once (`r`, `sync.outcomes.CALL_FLAGS`), summed
# per local day, environment, agent and UTC day (`g`: the price's day), then each such group
# priced once — one price probe per group, not per call (at 1M calls, 485,000 probes were two
# thirds of its time). `g` reads the calls (`_CALLS`) or the outcome rollup (`_ROLLUP`,
# `sync.outcomes`: THE ROLLUP): a day before the edge day is all settled, one after it all
# pending, the edge day corrected from its calls on one side of the edge (`_EDGE`).
_CALLS = """
        SELECT r.day, r.environment_id, r.agent_external_id, r.utc_day,
               count(*) AS calls,
               count(*) FILTER (WHERE r.answered) AS answered,
               count(*) FILTER (WHERE r.answered AND r.settled) AS settled,
               count(*) FILTER (WHERE r.answered AND r.settled
                                AND r.repeat_day <= %(window_days)s) AS repeats,
               count(*) FILTER (WHERE r.answered AND NOT r.settled) AS pending,
               count(r.vendor_cost) AS vendor_costed,
               coalesce(sum(r.vendor_cost), 0) AS vendor_cost,
               count(*) FILTER (WHERE r.vendor_cost IS NULL) AS unpriced,
               sum(r.seconds) FILTER (WHERE r.vendor_cost IS NULL) AS unpriced_seconds,
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
               CASE WHEN {settled} THEN sum(o.answered) ELSE 0 END AS settled,
               CASE WHEN {settled} THEN sum({repeats}) ELSE 0 END AS repeats,
               CASE WHEN {settled} THEN 0 ELSE sum(o.answered) END AS pending,
               sum(o.vendor_costed) AS vendor_costed, sum(o.vendor_cost) AS vendor_cost,
               sum(o.unpriced) AS unpriced, sum(o.unpriced_seconds) AS unpriced_seconds,
               string_agg(nullif(o.currencies, ''), ',') AS currencies
        FROM sync_outcomedayrollup o
        WHERE o.environment_id = ANY(%(envs)s) AND o.day >= %(first)s AND o.day <= %(last)s
              {teams} {narrow}
        GROUP BY 1, 2, 3, 4"""
# The edge day's correction, from its calls on one side of the edge (`now` - window): the
# rollup counts that day's answered calls all pending (`%(sign)s` 1: the calls up to the edge
# are read, and move to settled) or all settled (-1: the calls after it are read, and move
# to pending) — whichever side is the shorter part of the day.
_EDGE = """
        SELECT r.day, r.environment_id, r.agent_external_id, r.utc_day, 0, 0,
               %(sign)s * count(*) FILTER (WHERE r.answered),
               %(sign)s * count(*) FILTER (WHERE r.answered
                                           AND r.repeat_day <= %(window_days)s),
               -%(sign)s * count(*) FILTER (WHERE r.answered),
               0, 0, 0, NULL::numeric, NULL::text
        FROM (SELECT {flags} FROM sync_call c
              WHERE c.environment_id = ANY(%(envs)s) AND NOT c.is_testing
                AND c.started_at {from_op} %(lo)s AND c.started_at {to_op} %(hi)s
                {teams} {narrow}) r
        GROUP BY 1, 2, 3, 4"""
_SQL = """
    WITH g AS ({groups})
    SELECT g.day, g.environment_id, g.agent_external_id,
           sum(g.calls)::bigint, sum(g.answered)::bigint, sum(g.settled)::bigint,
           sum(g.repeats)::bigint, sum(g.pending)::bigint,
           sum(g.vendor_costed)::bigint, sum(g.vendor_cost),
           coalesce(sum(g.unpriced) FILTER (WHERE p.per_minute IS NOT NULL), 0)::bigint,
           coalesce(sum(p.per_minute * g.unpriced_seconds / 60), 0),
           string_agg(concat_ws(',', g.currencies, CASE WHEN p.per_minute IS NOT NULL
                                                       THEN p.currency END), ',')
    FROM g {price}
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
                      price=PRICE_OF.format(unpriced="g.unpriced > 0", row="g",
                                            day="g.utc_day"))
    # No JIT: at a million calls its cost estimate crossed jit_above_cost and compiling the
    # statement took ~400 ms, more than running it.
    connection = connection_for(Call)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        # The currencies come as one comma-joined text per row (a set: duplicates, blanks).
        return [(*row[:-1], [c for c in (row[-1] or "").split(",") if c])
                for row in cursor.fetchall()]


def _teams(alias: str, params: dict) -> str:
    """The team restriction's condition on `alias`'s rows, its parameters named into
    `params` (`portal.tenancy.restriction`)."""
    teams, values = sql_condition(f"{alias}.environment_id", f"{alias}.agent_external_id")
    for value in values:
        name = f"team{len(params)}"
        teams = teams.replace("%s", f"%({name})s", 1)
        params[name] = value
    return teams


def span_outcome(org, env_ids: Sequence[int], lo: datetime, hi: datetime, *,
                 now: datetime | None = None, agent_id: str = "") -> OutcomeRow:
    """The outcome report's totals of the calls started in [lo, hi): an alert's window
    (`reports.alerts.metrics`), with the report's own sums and ratios."""
    total = OutcomeRow()
    for _day, _env, _agent, *values in span_rows(
            org, env_ids, lo, hi, org.resolution_window_days, now or timezone.now(),
            agent_ids=[agent_id] if agent_id else None):
        total.add(values)
    return total.finish()


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
    missing = set(calls_coverage(envs, start, end).missing_days)
    provider = {e.pk: e.provider for e in envs}
    by_day: dict[date, OutcomeRow] = {}
    totals, agents, vendors = OutcomeRow(start, end), {}, {}
    for day, env_id, agent, *values in rows:
        by_day.setdefault(day, OutcomeRow()).add(values)
        if day in missing:
            continue
        totals.add(values)
        agents.setdefault((env_id, agent), OutcomeRow(
            agent_external_id=agent, environment_id=env_id)).add(values)
        vendors.setdefault(provider[env_id], OutcomeRow(vendor=provider[env_id])).add(values)
    series = []
    for first, last in periods(start, end, interval):
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        if any(d in missing for d in days):
            series.append(OutcomeRow.gap(first, last))
            continue
        point = OutcomeRow(first, last)
        for d in days:
            if d in by_day:
                point.add(_raw(by_day[d]))
        series.append(point.finish())
    return OutcomeSummary(
        start, end, interval, window, totals.finish(), series,
        sorted((a.finish() for a in agents.values()), key=lambda r: -r.calls),
        sorted((v.finish() for v in vendors.values()), key=lambda r: r.vendor),
        sorted(missing))


def _raw(row: OutcomeRow) -> tuple:
    """A day's sums as `OutcomeRow.add` takes them."""
    return (row.calls, row.answered, row.settled, row.repeat_contacts, row.pending,
            row.vendor_costed, row.cost or Decimal(0), row.estimated, Decimal(0),
            row._currencies)


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


def call_costs(calls: Sequence) -> dict[int, CallCost]:
    """Each call's cost (by call id), by the report's own price rule (`PRICE`, `ESTIMATE`);
    read per call's start (one month's partition each)."""
    if not calls:
        return {}
    sql = f"""SELECT c.id, c.vendor_cost, c.vendor_cost_currency, {ESTIMATE},
                     p.currency, p.valid_from
              FROM sync_call c {PRICE}
              WHERE c.id = ANY(%(ids)s) AND c.started_at = ANY(%(starts)s)"""
    with connection_for(Call).cursor() as cursor:
        cursor.execute(sql, {"ids": [c.pk for c in calls],
                             "starts": [c.started_at for c in calls]})
        rows = cursor.fetchall()
    costs = {}
    for pk, vendor_cost, vendor_currency, estimate, currency, valid_from in rows:
        if vendor_cost is not None:
            costs[pk] = CallCost(vendor_cost, "vendor", vendor_currency or "USD")
        elif estimate is not None:
            costs[pk] = CallCost(estimate, "estimate", currency, valid_from)
        else:
            costs[pk] = CallCost(None, None, None)
    # A call the statement did not find (a start at the calendar's edge, year 1 or 9999,
    # read back unlike it was written) has no cost known, as a call without a price.
    return {c.pk: costs.get(c.pk, CallCost(None, None, None)) for c in calls}
