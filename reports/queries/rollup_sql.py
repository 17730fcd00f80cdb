"""The two grouped SQL statements behind the calls summary (figures per day, per agent).

Figures are summed in the database so that Python handles one row per day and one per agent,
whatever the number of calls or rollup rows. The statements are written out rather than built
with ORM expressions: some seventy aggregates per statement made the ORM's compilation and
result conversion cost more than the database's own work. Filter values travel as parameters.

Two sources give the same figure rows. `AgentDayRollup` (one row per day, agent and
direction, plain integer columns) answers every summary that does not filter by status; a
status filter needs `CallRollup` (one row per day, agent, direction and status, histogram
and hours in JSON arrays).

A figure row is laid out as `sync.models.core.FIGURE_COLUMNS`: total, one count per status,
inbound, outbound, talk time and longest talk (connected calls), then the connected calls'
duration histogram. Every figure is a Python `int`, never None: a filtered aggregate that saw
no row is 0 (COALESCE), and the sums of `bigint` columns (talk time, cost units), which
PostgreSQL widens to `numeric`, come back as `bigint` where that cannot overflow (talk time)
and as `numeric` where it might (cost units: 10^-10 of a currency unit), so the calls summary
adds rows up column by column without a None test or a `Decimal` in the loop.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache

from portal.replicas import connection_for
from portal.tenancy.restriction import sql_condition
from sync.models import Agent, AgentDayRollup, CallRollup
from sync.models.core import (
    ANSWERED_STATUSES,
    BUCKET_COUNT,
    FIGURE_COLUMNS,
    HOUR_COLUMNS,
    STATUS_COLUMNS,
    Direction,
)

# Positions in a figure row: the layout is `FIGURE_COLUMNS`, whichever table answers.
STATUSES: tuple[str, ...] = tuple(STATUS_COLUMNS)
STATUS_AT = {s: FIGURE_COLUMNS.index(column) for s, column in STATUS_COLUMNS.items()}
INBOUND, OUTBOUND, TALK, TALK_MAX, COSTED, COST, HIST = (
    FIGURE_COLUMNS.index(c) for c in ("inbound", "outbound", "talk_time", "talk_max", "costed",
                                      "cost_units", "hist_00"))
WIDTH = len(FIGURE_COLUMNS)
TABLE = CallRollup._meta.db_table
AGENT_DAY_TABLE = AgentDayRollup._meta.db_table
AGENT_TABLE = Agent._meta.db_table


def _literal(value: str) -> str:
    # Only our own enum values are inlined (never user input); keep that checkable.
    assert value.replace("-", "").replace("_", "").isalnum(), value
    return f"'{value}'"


def _json_item(column: str, index: int) -> str:
    return f'(("{column}" ->> {index})::integer)'


def _zero(aggregate: str) -> str:
    """A filtered aggregate that is 0 rather than NULL when its filter kept no row."""
    return f"COALESCE({aggregate}, 0)"


@cache
def _figures_sql() -> str:
    answered = f"status IN ({', '.join(_literal(str(s)) for s in ANSWERED_STATUSES)})"
    columns = ["SUM(count)"]
    columns += [_zero(f"SUM(count) FILTER (WHERE status = {_literal(s)})") for s in STATUSES]
    columns += [_zero(f"SUM(count) FILTER (WHERE direction = {_literal(d)})")
                for d in (Direction.INBOUND, Direction.OUTBOUND)]
    columns += [_zero(f"SUM(duration_sum) FILTER (WHERE {answered})::bigint"),
                _zero(f"MAX(duration_max) FILTER (WHERE {answered})"),
                "SUM(costed)", "SUM(cost_units)"]
    columns += [_zero(f"SUM({_json_item('duration_hist', i)}) FILTER (WHERE {answered})")
                for i in range(BUCKET_COUNT)]
    return ", ".join(columns)


@cache
def _hours_sql() -> str:
    return ", ".join(f"SUM({_json_item('hour_counts', i)}) FILTER (WHERE day >= %s)"
                     for i in range(24))


@cache
def _agent_day_figures_sql() -> str:
    # Plain columns over at least one row (a group): never NULL.
    return ", ".join("MAX(talk_max)" if c == "talk_max"
                     else "SUM(talk_time)::bigint" if c == "talk_time"
                     else f"SUM({c})" for c in FIGURE_COLUMNS)


@cache
def _agent_day_hours_sql() -> str:
    return ", ".join(f"SUM({c}) FILTER (WHERE day >= %s)" for c in HOUR_COLUMNS)


def _source(statuses: list[str] | None) -> tuple[str, str, str]:
    """(table, figure columns, hour columns) that answer these filters at the least cost."""
    if statuses:
        return TABLE, _figures_sql(), _hours_sql()
    return AGENT_DAY_TABLE, _agent_day_figures_sql(), _agent_day_hours_sql()


def _where(env_ids: Sequence[int], first: date, last: date, agent_ids: list[str] | None,
           directions: list[str] | None, statuses: list[str] | None,
           include_testing: bool) -> tuple[str, list]:
    clauses = [f"environment_id IN ({', '.join(['%s'] * len(env_ids))})",
               "day >= %s", "day <= %s"]
    params: list = [*env_ids, first, last]
    for column, values in (("agent_external_id", agent_ids), ("direction", directions),
                           ("status", statuses)):
        if values:
            clauses.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
            params.extend(values)
    if not include_testing:
        clauses.append("is_testing = %s")
        params.append(False)
    # A member restricted to teams: their agents' rows only (portal.tenancy.restriction).
    teams, team_params = sql_condition()
    return " AND ".join(clauses) + teams, params + team_params


def _rows(sql: str, params: list) -> list[tuple]:
    with connection_for(CallRollup).cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def figures_per_day(env_ids: Sequence[int], first: date, last: date, heatmap_from: date,
                    **filters) -> list[tuple]:
    """(day, *FIGURES, *24 hour counts) per day from `first` to `last`; hours from
    `heatmap_from` on only (None before)."""
    table, figures, hours = _source(filters["statuses"])
    where, params = _where(env_ids, first, last, **filters)
    sql = f"SELECT day, {figures}, {hours} FROM {table} WHERE {where} GROUP BY day"
    rows = _rows(sql, [*[heatmap_from] * 24, *params])
    return [(d if isinstance(d, date) else date.fromisoformat(d), *rest) for d, *rest in rows]


def figures_per_agent(env_ids: Sequence[int], first: date, last: date,
                      **filters) -> list[tuple]:
    """(environment_id, agent_external_id, *FIGURES, agent name) per agent from `first` to
    `last`; the name is the mirrored agent's ('' when never mirrored or without an id), joined
    in the same statement rather than read by a second query."""
    table, figures, _ = _source(filters["statuses"])
    where, params = _where(env_ids, first, last, **filters)
    sql = (f"SELECT per_agent.*, COALESCE(agent.name, '') FROM ("
           f"SELECT environment_id, agent_external_id, {figures} "
           f"FROM {table} WHERE {where} GROUP BY environment_id, agent_external_id) per_agent "
           f"LEFT JOIN {AGENT_TABLE} agent ON agent.environment_id = per_agent.environment_id "
           "AND agent.external_id = per_agent.agent_external_id "
           "AND per_agent.agent_external_id <> ''")
    return _rows(sql, params)
