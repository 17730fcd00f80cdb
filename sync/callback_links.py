"""The callback rule, written once, and the sync's set-based computation of it.

THE RULE. An inbound call to a callback agent (an agent the /callback-agents listing names:
`Agent.is_callback`) answers the most recent outbound call that

- was made by one of that callback agent's source agents (`Agent.source_agent_ids`),
- is not a test call,
- went to the callback's caller: the outbound call's `to` and the callback's `from` have the
  same digits (E.164 as Talkover sends it; `+55 11 98765-4321` and `+5511987654321` are one
  number),
- started strictly before the callback and no earlier than UTC midnight of the day
  `Environment.callback_match_days` (default 7) days before the callback's UTC day: the
  vendor's stats, as the simulator draws them, match "on the N UTC days before the callback's
  day, or earlier that day" — a window of whole UTC days, not N × 24 hours;

ties on the start go to the greater call id (byte order). No such call: the callback is
unmatched. Calls are only ever compared within one environment (hence one organisation).
The simulator's rule
(`sync.providers.talkover.simulator.data.Profile.callback_day`) takes the most recent
non-test outbound call of ANY agent and then routes the callback to a line whose sources
hold that agent; on its data every non-test outbound call is a source agent's, so both
rules give the same link (tests/sync/test_callback_links.py checks it day by day). They
would differ only if a non-source agent dialled the number more recently: the vendor would
then count the callback under that agent, we under the most recent source agent's call.

THE COMPUTATION. Every write of calls (`sync.write.upsert.upsert_keys`) hands its created or
changed rows to `relink_written`, inside the write's transaction and after the writes before
it committed (`sync.write.batch_writer`): one statement relinks the callbacks those rows can
change — the rows that are callbacks, the callbacks from a number a changed outbound call
dialled within the window after it, and those linked to a changed outbound call — and
deletes the links of rows that are no longer callbacks. A late outbound call therefore
relinks the callbacks after it, and a late status moves the funnel's answered figures. A
change of an environment's callback agents or match window relinks the environment whole
(`relink_environment`, one statement). It runs in SQL over two partial indexes on the
numbers' digits, reading the written rows from the staging table the write merged from
(sending each row's values again cost more Python than the statement's database time), and
reads old links only for calls that existed before (a call just created is nobody's source).
Every statement that writes links also recounts the funnel's
days it touched (`CallbackFunnelDay`, by the link table's triggers: sync.models.callbacks).
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q

from portal.models import Environment
from sync.models import Agent, Call, CallbackLink

LINK_FIELDS = [
    "callback_started_at", "callback_day", "callback_agent_external_id", "callback_answered",
    "is_testing", "source_external_id", "source_agent_external_id", "source_started_at",
    "source_day", "source_answered", "seconds_to_callback",
]


def _of(model: type, environment: Environment):
    """The environment's rows of a mirrored model, scoped to its organisation (this also
    runs inside requests: a settings change relinks)."""
    return model.objects.for_organization(environment.organization_id).filter(
        environment=environment)


def callback_sources(environment: Environment, *, cached: bool = False
                     ) -> dict[str, set[str]]:
    """Callback agent id → its source agent ids, as mirrored for the environment.
    `cached`: read once per environment object (a run's batches share its object; the agents
    stream's `config_changed` reads them fresh and keeps that)."""
    if cached and hasattr(environment, "_callback_sources"):
        return environment._callback_sources
    rows = _of(Agent, environment).filter(is_callback=True)
    found = {ext: {str(s) for s in (sources or [])}
             for ext, sources in rows.values_list("external_id", "source_agent_ids")}
    environment._callback_sources = found
    return found


def window_start(callback_start: datetime, days: int) -> datetime:
    """The earliest start of an outbound call the callback may answer (see THE RULE)."""
    day = callback_start.astimezone(UTC).date() - timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=UTC)


def window_end(outbound_start: datetime, days: int) -> datetime:
    """The first instant past every callback that may answer an outbound call at this start."""
    day = outbound_start.astimezone(UTC).date() + timedelta(days=days + 1)
    return datetime.combine(day, time.min, tzinfo=UTC)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


# --- after a write -------------------------------------------------------------------------

def relink_written(environment: Environment, rows: Sequence[dict[str, Any]], *,
                   staged: str, updated: Collection[str] = (), every_staged: bool = True
                   ) -> None:
    """Relink what these just-written call rows (created or changed) can change.

    `updated`: the ids of those rows that existed before (only they can have links to read
    and drop: a created call is nobody's source yet). `staged`: the staging table the write
    merged from, holding these rows (`every_staged`: and no others), which the statement
    reads itself rather than being sent every row's values again."""
    if not rows:
        return
    sources = callback_sources(environment, cached=True)
    if not sources:
        return
    every_source = set().union(*sources.values())
    written = _Written(environment.callback_match_days)
    for row in rows:
        written.add(row, sources, every_source, row["external_id"] in updated)
    if not (written.callbacks or written.dialled or written.updated_outbound
            or written.updated_other):
        return  # no callback, no source agent's outbound call, no link to drop: nothing
    linked, stale = written.old_links(environment)
    _relink_sql(environment, sources, _targets_staged(staged, every_staged),
                written.staged_params(linked, [r["external_id"] for r in rows]
                                      if not every_staged else None))
    if stale:
        _of(CallbackLink, environment).filter(pk__in=stale).delete()


class _Written:
    """What one write's rows hold for the rule: one pass, no per-row SQL values (the
    statement reads numbers and windows from the staging table)."""

    def __init__(self, days: int) -> None:
        self.days = days
        self.callbacks = 0  # rows that are callbacks
        self.dialled = 0  # non-test outbound rows of a source agent
        self.updated_outbound: list[str] = []  # their old links as a source are relinked
        self.updated_other: list[str] = []  # no longer callbacks: their old links go
        self.lo: datetime | None = None  # the span of the callbacks' and dialled calls' starts
        self.hi: datetime | None = None
        self.dialled_hi: datetime | None = None

    def _span(self, start: datetime, dialled: bool) -> None:
        if self.lo is None or start < self.lo:
            self.lo = start
        if dialled:
            if self.dialled_hi is None or start > self.dialled_hi:
                self.dialled_hi = start
        elif self.hi is None or start > self.hi:
            self.hi = start

    def add(self, row: dict[str, Any], sources: dict[str, set[str]], every_source: set[str],
            updated: bool) -> None:
        direction, agent = row.get("direction"), row.get("agent_external_id") or ""
        if direction == "inbound" and agent in sources:
            self.callbacks += 1
            self._span(row["started_at"], False)
            return
        if direction == "outbound":
            if agent in every_source and not row.get("is_testing") and row.get("to_number"):
                self.dialled += 1
                self._span(row["started_at"], True)
            if updated:
                self.updated_outbound.append(row["external_id"])
        if updated:  # not a callback now: a link of it as a callback goes
            self.updated_other.append(row["external_id"])

    def old_links(self, environment: Environment) -> tuple[list[tuple[str, datetime]],
                                                            list[int]]:
        """(id, start) of the callbacks linked to an updated outbound call (relinked), and
        the pks of the links of updated calls that are no longer callbacks (dropped): one
        query, only when the write updated calls."""
        if not (self.updated_outbound or self.updated_other):
            return [], []
        gone = set(self.updated_other)
        linked, stale = [], []
        for pk, callback, start, source in _links_of(environment, self.updated_outbound,
                                                     self.updated_other):
            if callback in gone:
                stale.append(pk)
            elif source:
                linked.append((callback, start))
        return linked, stale

    def bounds(self, linked: list[tuple[str, datetime]]) -> tuple[datetime, datetime,
                                                                  datetime, datetime]:
        """(t_lo, t_hi, o_lo, o_hi): the callbacks' starts and the outbound calls' starts
        the statement can touch, as constants (the planner prunes the other months)."""
        starts = [s for s in (self.lo, self.hi, *(k[1] for k in linked)) if s is not None]
        highs = [*starts]
        if self.dialled_hi is not None:
            highs.append(window_end(self.dialled_hi, self.days))
        lo, hi = min(starts), max(highs)
        return lo, hi, window_start(lo, self.days), hi

    def staged_params(self, linked: list[tuple[str, datetime]], only: list[str] | None
                      ) -> dict[str, Any] | None:
        """The statement's parameters (None: nothing to relink, only links to drop)."""
        if not (self.callbacks or self.dialled or linked):
            return None
        t_lo, t_hi, o_lo, o_hi = self.bounds(linked)
        return {"k_id": [k[0] for k in linked], "k_start": [k[1] for k in linked],
                "only": only, "t_lo": t_lo, "t_hi": t_hi, "o_lo": o_lo, "o_hi": o_hi}


def _links_of(environment: Environment, sources: list[str], callbacks: list[str]) -> list:
    """(pk, callback id, callback start, source id) of the links from these outbound calls
    or of these callbacks (one query)."""
    wanted = Q(source_external_id__in=sources) | Q(callback_external_id__in=callbacks)
    return list(_of(CallbackLink, environment).filter(wanted).values_list(
        "pk", "callback_external_id", "callback_started_at", "source_external_id"))


def relink_environment(environment: Environment) -> None:
    """Relink every callback of the environment (its callback agents or window changed),
    drop links of calls no longer callbacks, and refresh its outbound days."""
    first_last = _of(Call, environment).order_by("started_at")
    first = first_last.values_list("started_at", flat=True).first()
    last = first_last.reverse().values_list("started_at", flat=True).first()
    if first is None or last is None:
        # No calls (an environment's first agents sync): nothing to link, no link stands.
        # Not the statement below: unbounded, it planned every month partition for nothing.
        _of(CallbackLink, environment).delete()
        return
    sources = callback_sources(environment)
    if sources:
        # The environment's calls lie within [first, last]: bounded so, the planner reads
        # only the months that hold them (an outbound call precedes its callback, so
        # `< last` holds every source).
        _relink_sql(environment, sources, _TARGETS_ALL, {
            "t_lo": first, "t_hi": last, "o_lo": first, "o_hi": last})
    kept = _of(Call, environment).filter(direction="inbound",
                                         agent_external_id__in=list(sources))
    stale = _of(CallbackLink, environment).exclude(
        callback_external_id__in=kept.values("external_id"))
    stale.delete()
    if sources:
        span = (utc_day(last) - utc_day(first)).days
        refresh_outbound_days(environment, [utc_day(first) + timedelta(days=i)
                                            for i in range(span + 1)])


def config_changed(environment: Environment, before: dict[str, set[str]]) -> bool:
    """After the agents were written: whether the environment must be relinked whole — its
    callback agents or their sources changed, or it has callback agents and calls but no
    link yet (a mirror from before the funnel heals on its next agents sync)."""
    now = callback_sources(environment)
    if now != before:
        return True
    return bool(now) and not _of(CallbackLink, environment).exists() and _of(
        Call, environment).filter(direction="inbound", agent_external_id__in=list(now)).exists()


# --- one statement ----------------------------------------------------------------------
#
# Every read of calls is a LATERAL probe with its keys as parameters (`OFFSET 0` keeps the
# planner from turning it back into a join): an index probe per row, whatever the planner
# thinks of partitions a back-fill has just filled and nobody has analysed yet (a hash join
# over "1 estimated row" read every callback of the month: 7.4 s for one batch, now 22 ms).
# Each also carries constant bounds on `started_at`, so the planner prunes the months it
# cannot touch (planning every month partition cost 75 ms a batch, now 15 ms).

_CALL = "sync_call"
_DIGITS = r"regexp_replace({}, '\D', '', 'g')"
_TARGET_COLUMNS = (f"c.external_id, c.started_at, {_DIGITS.format('c.from_number')} AS digits, "
                   "c.agent_external_id AS agent, c.status, c.is_testing")
_INBOUND = ("c.environment_id = %(env)s AND c.direction = 'inbound' "
            "AND c.agent_external_id = ANY(%(cb_agents)s) "
            "AND c.started_at >= %(t_lo)s AND c.started_at <= %(t_hi)s")
_LINKED = f"""
    SELECT c.external_id, c.started_at, c.digits, c.agent, c.status, c.is_testing
    FROM unnest(%(k_id)s::text[], %(k_start)s::timestamptz[]) AS k(external_id, started_at)
    CROSS JOIN LATERAL (
        SELECT {_TARGET_COLUMNS}, c.direction FROM {_CALL} c
        WHERE c.environment_id = %(env)s AND c.external_id = k.external_id
          AND c.started_at = k.started_at AND c.started_at >= %(t_lo)s
          AND c.started_at <= %(t_hi)s OFFSET 0) c
    WHERE c.direction = 'inbound' AND c.agent = ANY(%(cb_agents)s)"""


# The call columns `_targets_staged` reads from a write's staging table: the write copies
# them even where every row leaves them to their default (`sync.write.upsert.fill_defaults`).
STAGED_COLUMNS = ("external_id", "started_at", "from_number", "to_number", "agent_external_id",
                  "status", "is_testing", "direction")


def _targets_staged(stage: str, every: bool) -> str:
    """The callbacks a write can change, read from its staging table (`every`: the table
    holds only written rows; else the written ids are `only`): the staged callbacks, the
    callbacks from a number a staged source agent's outbound call dialled within the window
    after it (a probe each), and those linked to an updated outbound call (`_LINKED`)."""
    only = "" if every else " AND s.external_id = ANY(%(only)s)"
    dialled = _DIGITS.format("s.to_number")
    return f"""
    SELECT s.external_id, s.started_at, {_DIGITS.format('s.from_number')} AS digits,
           s.agent_external_id AS agent, s.status, s.is_testing
    FROM {stage} s
    WHERE s.direction = 'inbound' AND s.agent_external_id = ANY(%(cb_agents)s){only}
    UNION ALL
    SELECT c.* FROM (
        SELECT {dialled} AS digits, s.started_at AS after,
               date_trunc('day', s.started_at, 'UTC') + make_interval(days => %(days)s + 1)
                   AS before
        FROM {stage} s
        WHERE s.direction = 'outbound' AND NOT s.is_testing
          AND s.agent_external_id = ANY(%(src_agents)s) AND {dialled} <> ''{only}) d
    CROSS JOIN LATERAL (
        SELECT {_TARGET_COLUMNS} FROM {_CALL} c
        WHERE {_INBOUND} AND {_DIGITS.format('c.from_number')} = d.digits
          AND c.started_at > d.after AND c.started_at < d.before OFFSET 0) c
    UNION ALL {_LINKED}"""


_TARGETS_ALL = f"SELECT {_TARGET_COLUMNS} FROM {_CALL} c WHERE {_INBOUND}"
_ANSWERED_SQL = "('answered', 'completed')"
_SET = ", ".join(f"{f} = EXCLUDED.{f}" for f in LINK_FIELDS)
_CHANGED = " OR ".join(f"l.{f} IS DISTINCT FROM EXCLUDED.{f}" for f in LINK_FIELDS)


def _relink_statement(targets: str) -> str:
    # LATERAL … LIMIT 1: one probe of the outbound partial index per callback.
    return f"""
    WITH pairs(cb_agent, src_agent) AS (
        SELECT * FROM unnest(%(pair_cb)s::text[], %(pair_src)s::text[])),
    targets AS (
        SELECT DISTINCT ON (external_id) * FROM ({targets}) t ORDER BY external_id),
    ranked AS (
        SELECT t.*, o.external_id AS src_id, o.started_at AS src_start,
               o.agent_external_id AS src_agent, o.status AS src_status
        FROM targets t LEFT JOIN LATERAL (
            SELECT o.external_id, o.started_at, o.agent_external_id, o.status
            FROM {_CALL} o
            WHERE o.environment_id = %(env)s AND o.direction = 'outbound'
              AND NOT o.is_testing AND t.digits <> ''
              AND {_DIGITS.format('o.to_number')} = t.digits
              AND o.started_at >= %(o_lo)s AND o.started_at < %(o_hi)s
              AND o.started_at < t.started_at
              AND o.started_at >= date_trunc('day', t.started_at, 'UTC')
                                   - make_interval(days => %(days)s)
              AND o.agent_external_id IN (SELECT src_agent FROM pairs
                                          WHERE cb_agent = t.agent)
            ORDER BY o.started_at DESC, o.external_id COLLATE "C" DESC
            LIMIT 1) o ON true)
    INSERT INTO sync_callbacklink AS l (environment_id, callback_external_id,
        {", ".join(LINK_FIELDS)})
    SELECT %(env)s, external_id, started_at, (started_at AT TIME ZONE 'UTC')::date, agent,
           status IN {_ANSWERED_SQL}, is_testing, coalesce(src_id, ''),
           coalesce(src_agent, ''), src_start, (src_start AT TIME ZONE 'UTC')::date,
           CASE WHEN src_id IS NULL THEN NULL ELSE src_status IN {_ANSWERED_SQL} END,
           extract(epoch FROM started_at - src_start)::int
    FROM ranked
    ON CONFLICT (environment_id, callback_external_id) DO UPDATE SET {_SET}
    WHERE {_CHANGED}"""


def _relink_sql(environment: Environment, sources: dict[str, set[str]],
                targets: str, params: dict[str, Any] | None) -> None:
    if params is None:
        return
    pairs = [(cb, src) for cb, srcs in sources.items() for src in sorted(srcs)]
    params.update(env=environment.pk, days=environment.callback_match_days,
                  cb_agents=list(sources), src_agents=sorted(set().union(*sources.values())),
                  pair_cb=[p[0] for p in pairs],
                  pair_src=[p[1] for p in pairs])
    with connection.cursor() as cursor:
        cursor.execute(_relink_statement(targets), params)


# --- the funnel's outbound side per UTC day ------------------------------------------------

def refresh_outbound_days(environment: Environment, days: Sequence[date]) -> None:
    """Recompute the non-test outbound calls not answered of these UTC days (replace, never
    increment); only for environments with callback agents (the funnel's only users). A new
    day's link figures start at zero: a day with links to count has its row already (the
    link table's triggers made it). The rollups pass the UTC days their
    local days overlap (`sync.write.rollups.utc_days_overlapping`)."""
    if not days or not _of(Agent, environment).filter(
            is_callback=True).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO sync_callbackfunnelday (environment_id, day, outbound_unanswered,
                callbacks_received, callbacks_answered, callbacks_by_source,
                seconds_to_callback, called_back)
            SELECT %(env)s, d, (SELECT count(*) FROM {_CALL} c
                WHERE c.environment_id = %(env)s AND c.direction = 'outbound'
                  AND c.started_at >= d::timestamp AT TIME ZONE 'UTC'
                  AND c.started_at < (d + 1)::timestamp AT TIME ZONE 'UTC'
                  AND NOT c.is_testing AND c.status NOT IN {_ANSWERED_SQL}),
                0, 0, '{{}}'::jsonb, ''::bytea, 0
            FROM unnest(%(days)s::date[]) AS d
            ON CONFLICT (environment_id, day) DO UPDATE
            SET outbound_unanswered = EXCLUDED.outbound_unanswered""",
                       {"env": environment.pk, "days": list(days)})
