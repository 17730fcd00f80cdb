"""Resolution: whether a caller had to call again (or be called again), kept as calls arrive.

THE RULE. A call's contact is the other party's number: the `to` of an outbound call, the
`from` of an inbound one, compared by its digits (`+55 11 98765-4321` is `5511987654321`);
test calls and calls of no direction are no one's contact, and so are the calls of a number
the organisation leaves out of resolution (`sync.excluded_numbers`: a trunk, a test line, its
own switchboard; `Call.contact_excluded`), which count as answered calls without a number.
An answered call is *resolved* when no contact of the same number (either direction, any
agent, any environment of the organisation, any provider) starts within the organisation's
window after it (`Organization.resolution_window_days`, 7 by default, 1 to 30); a *repeat
contact* when one does; *pending* while younger than the window (never counted either way).
An erased number reads as its keyed token in every call (`sync.privacy.keys.token_of`), the
same token for the same number: its calls still match each other, and nothing else.

THE STORE. Each call keeps `next_contact_at`: the start of the first later contact of its
number within `HORIZON_DAYS` (the longest window). Every window up to that is then one
comparison (`next_contact_at < started_at + window`), so a report sums flags over the
calls it reads and a change of window recomputes nothing.

THE ROLLUP. `OutcomeDayRollup` counts, per environment, local day, UTC day, agent and
direction, what does not depend on the time of reading: calls, answered calls with a number,
their repeat contacts by how many days after them the next contact came (`REPEAT_DAY`: a
window of `w` days reads the first `w` columns), the same of those the vendor judged
successful (the KPI report's), and the costs by source (`refresh_outcome_days`,
from the calls, with the other rollups: `sync.write.rollups.refresh_rollups`). A change of a
call's `next_contact_at` by `settle_written` moves its count between those columns in the
same statement (a day still to be refreshed is recounted from its calls then); a change of
window recomputes nothing.

THE COMPUTATION. Every write of calls hands its created or changed rows to `settle_written`
(next to the callback relink, in the write's transaction, reading the staging table the write
merged from): one statement moves the `next_contact_at` of the earlier contacts of those
numbers within the horizon to the new start where it is earlier (a new call settles its
predecessors), one gives each written call its own (a call mirrored late finds the contacts
after it already there). Both are index probes per written call, keyed on the batch's
contacts passed as arrays, over the callback rule's two partial indexes on the numbers'
digits (sync migration 0018_h38): no self-join over history, a batch's cost flat in the
environment's size. Each probe stops at its first entry (`_nearest`), and only the last
contact before a written call can take it as its next: a batch's cost is flat too in how many
calls share a number (a trunk, a test line).

Before the merge, `settle_staged` gives every staged call its own next contact, among the
calls mirrored (the same probes) and the staged rows themselves (one sort), in the staging
table: a new call is written once, with its final value. The merge writes it, so the
second statement is left with what the probes could not see: a write that changed mirrored
calls (their start may have moved) runs it as before, and a batch merged while the batch
before it was in flight (`sync.write.batch_writer`: its rows commit after these were
probed) joins its calls to that batch's staged contacts, found in Python. The first
statement is left out when every call within the horizon before the written ones is one
this write created (`_only_created`: a first back-fill, newest first). Before,
every call with a next contact was written twice, none of the rewrites HOT (no room on a
page just filled), every index taking the row again: a quarter of a back-fill's rows. Two
writers of one organisation's calls at once (two environments) can each miss the other's
calls while neither has committed, as they could before; the window now opens at the
merge rather than after it.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from portal.models import Environment
from sync.models.core import ANSWERED_STATUSES


def enabled() -> bool:
    """`settings.SYNC_RESOLUTION` (on by default): off, a write leaves `next_contact_at`
    alone — only a benchmark's baseline turns it off (bench/outcomes.py)."""
    return getattr(settings, "SYNC_RESOLUTION", True)


HORIZON_DAYS = 30
DEFAULT_WINDOW_DAYS = 7


def as_of(now: datetime | None = None) -> datetime:
    """The moment outcomes are read as of: `now` (default: the clock), to the hour. Whether an
    answered call is settled moves with the clock; every face (the outcome report's pages,
    API, emails, and the explorer's `resolution` filter its doors open) reads it as of the
    same hour, so a figure and the calls behind it agree."""
    from django.utils import timezone

    return (now or timezone.now()).replace(minute=0, second=0, microsecond=0)

# A call with a number to match: only these are settled, resolved, repeats or pending.
# (`contact_key(c) <> ''`, said without building the digits: the number has a digit; and
# not one its organisation leaves out, `sync.excluded_numbers`.)
PHONE = ("c.direction IN ('inbound', 'outbound') AND CASE WHEN c.direction = 'outbound' "
         "THEN c.to_number ELSE c.from_number END ~ '\\d' AND NOT c.contact_excluded")
# Answered, as every report counts it (`sync.models.core.ANSWERED_STATUSES`).
CONNECTED = "c.status IN ({})".format(", ".join(f"'{s}'" for s in ANSWERED_STATUSES))
ANSWERED = f"{CONNECTED} AND {PHONE}"
# The day after a call its next contact came in: 1 when less than a day after it, ..., 30;
# null when none within the horizon. A repeat contact for a window of `w` days is
# `REPEAT_DAY <= w` (next contact before start + w days; the session's zone is UTC).
REPEAT_DAY = ("CASE WHEN {c}.next_contact_at < {c}.started_at + make_interval(days => "
              f"{HORIZON_DAYS}) THEN floor(extract(epoch FROM {{c}}.next_contact_at - "
              "{c}.started_at) / 86400)::int + 1 END")
SECONDS = "coalesce(c.billed_duration::numeric, c.duration)"

_DIGITS = r"regexp_replace({}, '\D', '', 'g')"


def digits(expression: str) -> str:
    """The digits of a text `expression`, as a contact is compared by."""
    return _DIGITS.format(expression)


def contact_key(alias: str) -> str:
    """A call's contact digits (the other party's number)."""
    return (f"CASE WHEN {alias}.direction = 'outbound' THEN {_DIGITS.format(alias + '.to_number')}"
            f" ELSE {_DIGITS.format(alias + '.from_number')} END")


def _contacts(alias: str) -> str:
    """The calls that are someone's contact (a number left out of resolution is nobody's)."""
    return (f"{alias}.direction IN ('inbound', 'outbound') AND NOT {alias}.is_testing "
            f"AND NOT {alias}.contact_excluded")


def _span(after: str, *, latest: bool) -> str:
    """Starts strictly after `after` within the horizon (`latest` False), or strictly before
    it within the horizon (`latest` True); within the batch's whole span as constants (`lo`,
    `hi`): partitions pruned when planning."""
    if latest:
        span = (f"p.started_at < {after} "
                f"AND p.started_at >= {after} - make_interval(days => {HORIZON_DAYS})")
    else:
        span = (f"p.started_at > {after} "
                f"AND p.started_at <= {after} + make_interval(days => {HORIZON_DAYS})")
    return span + " AND p.started_at BETWEEN %(lo)s AND %(hi)s"


def _probe(key: str, span: str, envs: str = "ANY(%(envs)s)", order: str = "") -> str:
    """The contacts of number `key` whose start is within `span`: one probe of each of the
    two partial indexes (environment, digits, start), outbound and inbound (each ordered by
    start and cut by `order`, e.g. "ORDER BY p.started_at LIMIT 1")."""
    return f"""
        (SELECT p.id, p.started_at, p.next_contact_at FROM sync_call p
        WHERE p.environment_id = {envs} AND p.direction = 'outbound'
          AND NOT p.is_testing AND NOT p.contact_excluded
          AND {_DIGITS.format('p.to_number')} = {key} AND {span} {order})
        UNION ALL
        (SELECT p.id, p.started_at, p.next_contact_at FROM sync_call p
        WHERE p.environment_id = {envs} AND p.direction = 'inbound'
          AND NOT p.is_testing AND NOT p.contact_excluded
          AND {_DIGITS.format('p.from_number')} = {key} AND {span} {order})"""


def _nearest(key: str, after: str, *, latest: bool) -> str:
    """The start of the first contact of number `key` after `after` within the horizon
    (`latest` False), or of the last before it (`latest` True): the first entry of each
    index probe, per environment of the organisation. Its cost does not follow how many
    calls share the number (a trunk, a test line, a withheld caller id with digits): taking
    the min of every contact within the horizon read them all, and a back-fill of calls
    sharing one number was quadratic (10,000 such calls: 25 times Talkover's time a call)."""
    order = f"ORDER BY p.started_at {'DESC' if latest else ''} LIMIT 1"
    probe = _probe(key, _span(after, latest=latest), "e.id", order)
    return f"""(SELECT {'max' if latest else 'min'}(x.started_at)
        FROM unnest(%(envs)s::bigint[]) AS e(id) CROSS JOIN LATERAL ({probe}) x)"""


def organisation_environments(environment: Environment) -> list[int]:
    """The ids of every environment of the environment's organisation (cached on the object:
    a run's batches share it)."""
    found = getattr(environment, "_outcome_envs", None)
    if found is None:
        found = list(Environment.objects.filter(
            organization_id=environment.organization_id).values_list("pk", flat=True))
        environment._outcome_envs = found
    return found


def _written(stage: str, every: bool) -> str:
    only = "" if every else " AND s.external_id = ANY(%(only)s)"
    return (f"SELECT s.external_id, s.started_at, {contact_key('s')} AS k FROM {stage} s "
            f"WHERE {_contacts('s')}{only}")


# The written contacts, passed back as arrays: probes keyed on an unnested array are planned
# as index probes of the digits indexes; keyed on the staging table's expression, the planner
# (partitions not analysed) scanned each partition's rows of the environment per written call.
_BATCH = """SELECT * FROM unnest(%(w_id)s::text[], %(w_start)s::timestamptz[],
                                 %(w_key)s::text[]) AS w(external_id, started_at, k)"""


class Settling:
    """One write of calls' resolution on either side of its merge (see THE COMPUTATION):
    the contacts `settle_staged` found in the staging table, and the write just before this
    one (`before`), whose rows the staged probes may not have seen: a batch writer merges a
    batch while the batch before it is still in flight (`sync.write.batch_writer`)."""

    def __init__(self, before: Settling | None = None) -> None:
        self.before = before
        self.contacts: tuple[list[str], list[datetime], list[str]] | None = None


def _read_batch(cursor: Any, staged: str, every: bool, ids: list[str] | None = None
                ) -> tuple[list[str], list[datetime], list[str]] | None:
    """The staged contacts (ids, starts, digits) as arrays (`_BATCH`), None when none."""
    cursor.execute(f"SELECT * FROM ({_written(staged, every)}) w WHERE w.k <> ''",
                   {"only": None if every else ids})
    batch = cursor.fetchall()
    if not batch:
        return None
    w_id, w_start, w_key = (list(column) for column in zip(*batch, strict=True))
    return w_id, w_start, w_key


def _params(environment: Environment,
            contacts: tuple[list[str], list[datetime], list[str]]) -> dict[str, Any]:
    """The statements' parameters: the contacts' arrays, and the bounds of every start the
    statements read or write as constants: the planner prunes the partitions outside them
    (planning them over every month's partition cost more than running them: ~150 ms a
    batch of 200)."""
    w_id, w_start, w_key = contacts
    horizon = timedelta(days=HORIZON_DAYS)
    return {"envs": organisation_environments(environment), "env": environment.pk,
            "w_id": w_id, "w_start": w_start, "w_key": w_key, "lo": min(w_start) - horizon,
            "hi": max(w_start) + horizon, "w_lo": min(w_start), "w_hi": max(w_start),
            "tz": environment.organization.timezone}


def settle_staged(environment: Environment, staged: str, settling: Settling) -> None:
    """Give each staged call (the rows a write is about to merge) the first later contact of
    its number within the horizon, among the calls mirrored and the staged rows themselves
    (see THE COMPUTATION): the rule's comparison, strictly after, at most `HORIZON_DAYS` on.
    A call mirrored already and staged again is probed under its mirrored start: a write
    that changes a mirrored call settles its calls after the merge (`settle_written`)."""
    with connection.cursor() as cursor:
        settling.contacts = _read_batch(cursor, staged, True)
        if settling.contacts is None:
            return
        cursor.execute(f"""
            WITH w AS ({_BATCH}),
            own AS (
                SELECT w.external_id, least(
                    {_nearest('w.k', 'w.started_at', latest=False)},
                    min(w.started_at) OVER (
                        PARTITION BY w.k ORDER BY w.started_at
                        RANGE BETWEEN '1 microsecond'::interval FOLLOWING
                                  AND '{HORIZON_DAYS} days'::interval FOLLOWING)) AS t
                FROM w)
            UPDATE {staged} s SET next_contact_at = own.t FROM own
            WHERE s.external_id = own.external_id AND own.t IS NOT NULL""",
                       _params(environment, settling.contacts))


def settle_written(environment: Environment, ids: list[str], *, staged: str,
                   every_staged: bool = True, updated: Collection[str] = (),
                   settling: Settling | None = None,
                   created: Collection[datetime] = ()) -> None:
    """Settle what these just-written calls change (see THE COMPUTATION). `staged`: the
    staging table the write merged from, holding these rows (`every_staged`: and no others);
    `updated`: those of them that were mirrored already; `settling`: what `settle_staged`
    did before the merge (None: nothing); `created`: the starts of the calls it created."""
    if not ids:
        return
    with connection.cursor() as cursor:
        if settling is not None and settling.contacts is not None and every_staged:
            batch = settling.contacts  # read before the merge: the same rows
        else:
            batch = _read_batch(cursor, staged, every_staged, ids)
        if batch is None:
            return
        params = _params(environment, batch)
        given = settling is not None and settling.contacts is not None
        if not (given and _only_created(cursor, params, created)):
            _settle_earlier(cursor, params)
        if not given or updated:
            _settle_own(cursor, params)
        elif settling.before is not None and settling.before.contacts is not None:
            _settle_from(cursor, params, settling.before.contacts)


def _only_created(cursor: Any, params: dict[str, Any], created: Collection[datetime]) -> bool:
    """Whether every call of the organisation that could be an earlier contact of a written
    one (a start within the horizon before the latest written start) is one this write
    created: those were given their next contact before the merge, among this write's
    rows, so the earlier contacts' statement would change nothing. A first back-fill,
    newest first, finds only its own batch there (its older days are still to come): the
    statement's probes, a fifth of its database CPU, are spared. Counted up to one more."""
    lo, hi = params["lo"], params["w_hi"]
    ours = sum(lo <= start < hi for start in created)
    cursor.execute("SELECT count(*) FROM (SELECT 1 FROM sync_call c "
                   "WHERE c.environment_id = ANY(%(envs)s) AND c.started_at >= %(lo)s "
                   "AND c.started_at < %(w_hi)s LIMIT %(more)s) x",
                   {**params, "more": ours + 1})
    return cursor.fetchone()[0] == ours


def _settle_earlier(cursor: Any, params: dict[str, Any]) -> None:
    """The earlier contacts: each takes the earliest written start after it. Only the last
    contact before a written call (the calls at that start) can: any earlier one has its
    next contact at or before that last one already, the store's own rule. So each written
    call reads the calls at one start, however many calls share its number."""
    cursor.execute(_moved(f"""
        WITH w AS ({_BATCH}),
        hits AS (
            SELECT p.id, p.started_at, min(w.started_at) AS t,
                   min(p.next_contact_at) AS old
            FROM w CROSS JOIN LATERAL (
                SELECT {_nearest('w.k', 'w.started_at', latest=True)} AS at) l
            CROSS JOIN LATERAL ({_probe('w.k', 'p.started_at = l.at AND p.started_at '
                                               'BETWEEN %(lo)s AND %(hi)s')}
                                OFFSET 0) p
            WHERE p.next_contact_at IS NULL OR p.next_contact_at > w.started_at
            GROUP BY p.id, p.started_at)
        UPDATE sync_call c SET next_contact_at = hits.t FROM hits
        WHERE c.id = hits.id AND c.started_at = hits.started_at
          AND c.started_at BETWEEN %(lo)s AND %(w_hi)s
          AND (c.next_contact_at IS NULL OR c.next_contact_at > hits.t)""", "hits.old"),
        params)


# A written call's next contact before a statement changes it (`_moved`'s `old`), probed by
# its natural key.
_OLD = """(SELECT o.next_contact_at FROM sync_call o
           WHERE o.environment_id = %(env)s AND o.external_id = w.external_id
             AND o.started_at = w.started_at
             AND o.started_at BETWEEN %(w_lo)s AND %(w_hi)s)"""


def _settle_own(cursor: Any, params: dict[str, Any]) -> None:
    """The written calls themselves: the first contact after each, already mirrored."""
    cursor.execute(_moved(f"""
        WITH w AS ({_BATCH}),
        own AS (
            SELECT w.external_id, w.started_at,
                   {_nearest('w.k', 'w.started_at', latest=False)} AS t,
                   {_OLD} AS old
            FROM w)
        UPDATE sync_call c SET next_contact_at = own.t FROM own
        WHERE c.environment_id = %(env)s AND c.external_id = own.external_id
          AND c.started_at = own.started_at AND c.started_at BETWEEN %(w_lo)s AND %(w_hi)s
          AND c.next_contact_at IS DISTINCT FROM own.t""", "own.old"), params)


def _settle_from(cursor: Any, params: dict[str, Any],
                 before: tuple[list[str], list[datetime], list[str]]) -> None:
    """The written calls (all new, their next contact given before the merge) whose first
    later contact is one the write before staged (in flight when this one's were probed):
    found here, by number and start (the rule's comparison), no probe; only those go to the
    database. Its calls also written here are left out (this write holds their start).
    Materialised: on a month not analysed yet the planner may loop over the month's rows
    outside, and the lookups of the old values then ran once per row of the month."""
    ours = set(params["w_id"])
    later: dict[str, list[datetime]] = {}
    for call, start, key in zip(*before, strict=True):
        if call not in ours:
            later.setdefault(key, []).append(start)
    for starts in later.values():
        starts.sort()
    horizon = timedelta(days=HORIZON_DAYS)
    fix: list[tuple[str, datetime, datetime]] = []
    for call, start, key in zip(params["w_id"], params["w_start"], params["w_key"],
                                strict=True):
        starts = later.get(key, [])
        first = bisect_right(starts, start)  # the first strictly after it
        if first < len(starts) and starts[first] <= start + horizon:
            fix.append((call, start, starts[first]))
    if not fix:
        return
    f_id, f_start, f_t = (list(column) for column in zip(*fix, strict=True))
    cursor.execute(_moved(f"""
        WITH fix AS MATERIALIZED (
            SELECT w.external_id, w.started_at, w.t, {_OLD} AS old
            FROM unnest(%(f_id)s::text[], %(f_start)s::timestamptz[],
                        %(f_t)s::timestamptz[]) AS w(external_id, started_at, t))
        UPDATE sync_call c SET next_contact_at = fix.t FROM fix
        WHERE c.environment_id = %(env)s AND c.external_id = fix.external_id
          AND c.started_at = fix.started_at AND c.started_at BETWEEN %(w_lo)s AND %(w_hi)s
          AND (c.next_contact_at IS NULL OR c.next_contact_at > fix.t)""", "fix.old"),
        {**params, "f_id": f_id, "f_start": f_start, "f_t": f_t})


def settle_organisation(organization_id: int) -> int:
    """Recompute `next_contact_at` for every call of the organisation. Returns the calls
    changed."""
    return settle_environments(list(Environment.objects.filter(
        organization_id=organization_id).values_list("pk", flat=True)), connection)


def settle_environments(envs: list[int], db: Any, *, rollup: bool = True) -> int:
    """`settle_organisation` over these environments (all of one organisation) on the
    connection `db` (a migration passes its own: a mirror from before outcomes were kept),
    then their outcome rollup rebuilt (`rollup`; the migration before that table existed
    leaves it to the one that makes it).

    Set-based, not probes: the contacts sorted once by number and start, each taking the
    first start strictly after its own (a microsecond on: the column's resolution) within the
    horizon — the rule's own comparison. Probing per call, keyed on an expression over
    partitions not yet analysed, was planned as a scan per call (20,000 calls: 614 s); so
    was this statement's join back to the calls while the planner took each partition for
    one row: joins here are hash joins (`enable_nestloop` off for this transaction only)."""
    if not envs:
        return 0
    with transaction.atomic(using=db.alias), db.cursor() as cursor:
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(f"""
            WITH contacts AS (
                SELECT c.id, c.started_at, {contact_key('c')} AS k FROM sync_call c
                WHERE c.environment_id = ANY(%(envs)s) AND {_contacts('c')}),
            nexts AS (
                SELECT id, started_at, min(started_at) OVER (
                    PARTITION BY k ORDER BY started_at
                    RANGE BETWEEN '1 microsecond'::interval FOLLOWING
                              AND '{HORIZON_DAYS} days'::interval FOLLOWING) AS t
                FROM contacts WHERE k <> ''),
            own AS (
                SELECT c.id, c.started_at, n.t FROM sync_call c
                LEFT JOIN nexts n ON n.id = c.id AND n.started_at = c.started_at
                WHERE c.environment_id = ANY(%(envs)s))
            UPDATE sync_call c SET next_contact_at = own.t FROM own
            WHERE c.id = own.id AND c.started_at = own.started_at
              AND c.next_contact_at IS DISTINCT FROM own.t""", {"envs": envs})
        changed = cursor.rowcount
        cursor.execute("SET LOCAL enable_nestloop = on")
        if rollup:
            rebuild_outcome_days(envs, db)
        return changed


def _repeat_columns() -> tuple[str, ...]:
    from sync.models.outcomes import REPEAT_COLUMNS
    return REPEAT_COLUMNS


def _succeeded_repeat_columns() -> tuple[str, ...]:
    from sync.models.outcomes import SUCCEEDED_REPEAT_COLUMNS
    return SUCCEEDED_REPEAT_COLUMNS


# A call the vendor judged successful (`sync.models.core.Judgement.SUCCEEDED`).
SUCCEEDED = "c.judgement = 'succeeded'"


# Each non-test call's rollup key and contributions (`c`: sync_call), as the report reads
# the calls of the day the window's edge falls in (`reports.queries.outcomes`).
CALL_FLAGS = (f"c.environment_id, (c.started_at AT TIME ZONE %(tz)s)::date AS day, "
              f"(c.started_at AT TIME ZONE 'UTC')::date AS utc_day, c.agent_external_id, "
              f"c.direction, {ANSWERED} AS answered, "
              f"{CONNECTED} AND NOT coalesce({PHONE}, false) AS answered_no_number, "
              f"{REPEAT_DAY.format(c='c')} AS repeat_day, "
              f"c.vendor_cost, c.vendor_cost_currency, {SECONDS} AS seconds")


def _refresh_sql(by_day: bool) -> str:
    repeats, succeeded = _repeat_columns(), _succeeded_repeat_columns()
    days = ("AND c.started_at >= %(lo)s AND c.started_at < %(hi)s" if by_day else "")
    return f"""
        INSERT INTO sync_outcomedayrollup (
            environment_id, day, utc_day, agent_external_id, direction, calls, answered,
            succeeded, answered_no_number, vendor_costed, vendor_cost, unpriced,
            unpriced_seconds, currencies, {', '.join(repeats)}, {', '.join(succeeded)})
        SELECT r.environment_id, r.day, r.utc_day, r.agent_external_id, r.direction,
               count(*), count(*) FILTER (WHERE r.answered),
               count(*) FILTER (WHERE r.answered AND r.succeeded),
               count(*) FILTER (WHERE r.answered_no_number), count(r.vendor_cost),
               coalesce(sum(r.vendor_cost), 0),
               count(*) FILTER (WHERE r.vendor_cost IS NULL),
               coalesce(sum(r.seconds) FILTER (WHERE r.vendor_cost IS NULL), 0),
               coalesce(string_agg(DISTINCT r.vendor_cost_currency, ',')
                        FILTER (WHERE r.vendor_cost IS NOT NULL), ''),
               {', '.join(f'count(*) FILTER (WHERE r.answered AND r.repeat_day = {d})'
                          for d in range(1, len(repeats) + 1))},
               {', '.join(f'count(*) FILTER (WHERE r.answered AND r.succeeded '
                          f'AND r.repeat_day = {d})' for d in range(1, len(succeeded) + 1))}
        FROM (SELECT {CALL_FLAGS}, {SUCCEEDED} AS succeeded FROM sync_call c
              WHERE c.environment_id = %(env)s AND NOT c.is_testing {days} OFFSET 0) r
        {'WHERE r.day = ANY(%(days)s)' if by_day else ''}
        GROUP BY 1, 2, 3, 4, 5"""


def refresh_outcome_days(environment: Environment, days: Iterable[date]) -> None:
    """Recount the outcome rollup of these local days from the calls: replace, not increment
    (`sync.write.rollups.refresh_rollups` and an erasure call it)."""
    days = sorted(set(days))
    if not days:
        return
    tz = environment.organization.tzinfo
    lo = datetime.combine(days[0], time.min, tzinfo=tz)
    hi = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sync_outcomedayrollup "
                       "WHERE environment_id = %s AND day = ANY(%s)", [environment.pk, days])
        cursor.execute(_refresh_sql(True), {
            "env": environment.pk, "tz": environment.organization.timezone, "days": days,
            "lo": lo, "hi": hi})


def rebuild_outcome_days(envs: list[int], db: Any) -> None:
    """Recount the whole outcome rollup of these environments (on connection `db`)."""
    with db.cursor() as cursor:
        cursor.execute("SELECT e.id, o.timezone FROM portal_environment e "
                       "JOIN portal_organization o ON o.id = e.organization_id "
                       "WHERE e.id = ANY(%s)", [envs])
        for env, tz in cursor.fetchall():
            cursor.execute("DELETE FROM sync_outcomedayrollup WHERE environment_id = %s",
                           [env])
            cursor.execute(_refresh_sql(False), {"env": env, "tz": tz})


def _moved(update: str, old: str) -> str:
    """A statement running `update` (an UPDATE of `sync_call c`'s next_contact_at, its
    previous value `old`) that moves each changed answered call's count between the outcome
    rollup's repeat columns: `settle_written`'s two statements."""
    repeats, succeeded = _repeat_columns(), _succeeded_repeat_columns()
    old_day = REPEAT_DAY.format(c="m").replace("m.next_contact_at", "m.old")
    deltas = ", ".join(
        f"count(*) FILTER (WHERE m.new_day = {d}) - count(*) FILTER (WHERE m.old_day = {d})"
        f" AS d{d}, count(*) FILTER (WHERE m.succeeded AND m.new_day = {d}) - "
        f"count(*) FILTER (WHERE m.succeeded AND m.old_day = {d}) AS s{d}"
        for d in range(1, len(repeats) + 1))
    sets = [f"{col} = o.{col} + d.d{d}" for d, col in enumerate(repeats, 1)]
    sets += [f"{col} = o.{col} + d.s{d}" for d, col in enumerate(succeeded, 1)]
    return f"""
        WITH moved AS ({update}
            RETURNING c.environment_id, c.started_at, c.agent_external_id, c.direction,
                      {ANSWERED} AND NOT c.is_testing AS answered,
                      {SUCCEEDED} AS succeeded,
                      {REPEAT_DAY.format(c='c')} AS new_day, {old} AS old),
        m AS (SELECT m.*, {old_day} AS old_day FROM moved m WHERE m.answered),
        d AS (SELECT m.environment_id, (m.started_at AT TIME ZONE %(tz)s)::date AS day,
                     (m.started_at AT TIME ZONE 'UTC')::date AS utc_day,
                     m.agent_external_id, m.direction, {deltas}
              FROM m WHERE m.new_day IS DISTINCT FROM m.old_day GROUP BY 1, 2, 3, 4, 5)
        UPDATE sync_outcomedayrollup o
        SET {', '.join(sets)}
        FROM d WHERE o.environment_id = d.environment_id AND o.day = d.day
          AND o.utc_day = d.utc_day AND o.agent_external_id = d.agent_external_id
          AND o.direction = d.direction"""
