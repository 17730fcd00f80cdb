"""Test data written straight into the mirror (no sync, no HTTP), with rollups refreshed.

Values are realistic: mostly completed calls with log-normal talk time, some failed / busy /
no-answer with zero seconds, a few testing calls, both directions, several agents.
"""
from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.utils.timezone import now as django_now

from portal.models import Environment, Provider
from reports.models import ReportSubscription
from sync.models import Agent, Call, CallbackDay, CallbackSourceDay, StreamState
from sync.models.core import CallStatus
from sync.partitions import ddl as partitions
from sync.stream_names import Stream
from sync.write.rollups import local_days_of, refresh_rollups

STATUS_WEIGHTS = {
    CallStatus.COMPLETED: 62, CallStatus.ANSWERED: 8, CallStatus.FAILED: 8,
    CallStatus.BUSY: 6, CallStatus.NO_ANSWER: 12, CallStatus.INITIATED: 2,
    CallStatus.RINGING: 1, CallStatus.QUEUED: 1,
}


def make_agents(env: Environment, count: int = 3, prefix: str = "agent") -> list[Agent]:
    """`count` mirrored agents named 'Agent 1'…, external ids '<prefix>-<env>-<n>'."""
    return Agent.objects.bulk_create([
        Agent(environment=env, external_id=f"{prefix}-{env.pk}-{i}", name=f"Agent {i}",
              direction="outbound" if i % 2 else "inbound")
        for i in range(1, count + 1)
    ])


def random_duration(rng: random.Random, status: str) -> int:
    if status in (CallStatus.ANSWERED, CallStatus.COMPLETED):
        return max(1, min(5400, int(rng.lognormvariate(4.6, 0.9))))
    return 0


def build_call(env: Environment, started_at: datetime, *, agent: Agent | None = None,
               status: str = CallStatus.COMPLETED, direction: str = "outbound",
               duration: int | None = None, is_testing: bool = False,
               rng: random.Random | None = None, **fields) -> Call:
    """An unsaved Call with upstream-looking identifiers and raw record; `fields` override any
    column (the one Call factory: `make_call`, `make_calls` and `save_calls` build on it)."""
    rng = rng or random.Random(0)
    ext = str(uuid.UUID(int=rng.getrandbits(128)))
    if duration is None:
        duration = random_duration(rng, status)
    to_number = f"+1555{rng.randrange(10**7):07d}"
    from_number = f"+1444{rng.randrange(10**7):07d}"
    raw = {"id": ext, "sid": f"CA{ext[:8]}", "to": to_number, "from": from_number,
           "is_testing": is_testing, "direction": direction, "status": status,
           "duration": duration, "created_at": started_at.isoformat()}
    values = dict(
        environment=env, external_id=ext, sid=f"CA{ext[:8]}", agent=agent,
        agent_external_id=agent.external_id if agent else "", to_number=to_number,
        to_formatted=to_number, from_number=from_number, from_formatted=from_number,
        direction=direction, status=status, duration=duration, is_testing=is_testing,
        started_at=started_at, raw=raw,
    )
    values.update(fields)
    for column in ("ended_at", "upstream_updated_at"):
        if column not in values:  # computed only when not given (year 9999 has no "+ 60 s")
            values[column] = started_at + timedelta(seconds=duration)
    return Call(**values)


def make_call(env: Environment, agent: Agent | None, n: int, **fields) -> Call:
    """One saved call, rollups untouched; `n` makes its ids, numbers and start time unique
    within the environment (`raw` is `{"id": n, ...}` with some markup to escape)."""
    started_at = fields.pop("started_at", django_now() - timedelta(minutes=n))
    columns = dict(
        external_id=f"{env.pk}-{n}", sid=f"CA{env.pk:04d}{n:06d}",
        from_number=f"+551199{n:07d}", to_number="+5511000000000", direction="inbound",
        status=CallStatus.COMPLETED, duration=60, raw={"id": n, "note": "<b>raw</b>"},
    )
    columns.update(fields)
    call = build_call(env, started_at, agent=agent, **columns)
    call.save()
    return call


def mark_read(env: Environment, start: date, end: date) -> None:
    """Record in the calls cursor that the local days start..end were read, as a sync would
    (sync/coverage.py): the read window grows to hold them, up to now at the latest."""
    tz = env.organization.tzinfo
    first = datetime.combine(start, time.min, tzinfo=tz)
    after = min(datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
                django_now())
    state, _ = StreamState.objects.get_or_create(environment=env, stream=Stream.CALLS)
    cursor = dict(state.cursor)
    if env.provider == Provider.ORIGINS:
        known = cursor.get("read_at")
        cursor["read_at"] = max(after, datetime.fromisoformat(known) if known else after
                                ).isoformat()
    else:
        oldest = first.astimezone(UTC).date()
        if cursor.get("oldest"):
            oldest = min(oldest, date.fromisoformat(cursor["oldest"]))
        known = cursor.get("read_through")
        through = max(after, datetime.fromisoformat(known)) if known else after
        cursor.update(oldest=oldest.isoformat(), read_through=through.isoformat(),
                      synced_through=through.astimezone(UTC).date().isoformat())
    state.cursor = cursor
    state.save(update_fields=["cursor"])


def save_calls(env: Environment, calls: list[Call], *, read: bool = True) -> list[Call]:
    """Bulk insert and refresh the rollups of every local day the calls fall on; with `read`,
    those days count as mirrored (`mark_read` from the first to the last)."""
    # PostgreSQL: the months' partitions, as the sync makes them before it writes.
    partitions.ensure((c.started_at, c.retention_months) for c in calls)
    Call.objects.bulk_create(calls, batch_size=2000)
    days = local_days_of((c.started_at for c in calls), env.organization.tzinfo)
    refresh_rollups(env, days)
    if read and days:
        mark_read(env, min(days), max(days))
    return calls


def make_calls(env: Environment, count: int, start: date, end: date, *, seed: int = 0,
               agents: list[Agent] | None = None, testing_share: float = 0.05) -> list[Call]:
    """`count` random calls between local midnight of `start` and the end of `end`."""
    rng = random.Random(seed)
    tz = env.organization.tzinfo
    first = datetime.combine(start, time.min, tzinfo=tz)
    span = (datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz) - first)
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    calls = []
    for _ in range(count):
        status = rng.choices(statuses, weights)[0]
        calls.append(build_call(
            env, first + timedelta(seconds=rng.randrange(int(span.total_seconds()))),
            agent=rng.choice(agents) if agents else None, status=status,
            direction=rng.choice(("inbound", "outbound", "outbound")),
            is_testing=rng.random() < testing_share, rng=rng,
        ))
    saved = save_calls(env, calls, read=False)
    mark_read(env, start, end)
    return saved


def make_callback_days(env: Environment, days: Iterable[date], *, seed: int = 0,
                       sources: int = 2) -> list[CallbackDay]:
    """Callback stats for `days`, with per-source rows that add up to the matched count."""
    rng = random.Random(seed)
    rows, source_rows = [], []
    for day in days:
        received = rng.randrange(0, 40)
        unmatched = rng.randrange(0, received // 4 + 1)
        answered = rng.randrange(0, received + 1)
        split = [rng.randrange(0, received - unmatched + 1) for _ in range(sources - 1)]
        split.sort()
        counts = [b - a for a, b in zip([0, *split], [*split, received - unmatched],
                                        strict=True)]
        by_source = [{"source_agent_id": f"src-{i}", "name": f"Source {i}", "count": n}
                     for i, n in enumerate(counts, start=1)]
        rows.append(CallbackDay(
            environment=env, day=day, total_received=received, answered=answered,
            unmatched=unmatched,
            raw={"total_callbacks_received": received, "callbacks_answered": answered,
                 "callbacks_unmatched": unmatched, "callbacks_by_source_agent": by_source},
        ))
        source_rows.extend(
            CallbackSourceDay(environment=env, day=day, source_agent_id=s["source_agent_id"],
                              name=s["name"], count=s["count"])
            for s in by_source
        )
    CallbackSourceDay.objects.bulk_create(source_rows)
    return CallbackDay.objects.bulk_create(rows)


def make_subscription(org, *, members=(), addresses=(), next_run_at: datetime | None = None,
                      **fields) -> ReportSubscription:
    """A saved subscription of `org` (its members set after the save)."""
    sub = ReportSubscription(organization=org, addresses=list(addresses), **fields)
    sub.next_run_at = next_run_at
    sub.save()
    if members:
        sub.members.set(members)
    return sub


def field_values(obj) -> dict:
    """Every concrete field's value of a model instance, by attribute name: what two ways of
    reading the same row must agree on (editable or not, foreign keys as ids)."""
    return {field.attname: getattr(obj, field.attname) for field in obj._meta.concrete_fields}


_BULK_CALLS = """
INSERT INTO sync_call (environment_id, external_id, sid, agent_id, agent_external_id, to_number,
  to_formatted, from_number, from_formatted, direction, status, provider_status, duration,
  is_testing, started_at, hangup_cause, hangup_source, raw, payload_hash, first_seen_at,
  last_changed_at)
SELECT %(env)s, md5('x' || g), 'CA' || md5(g::text), NULL, %(agent)s, '+1555' ||
  lpad((g * 7919 %% 10000000)::text, 7, '0'), '', '+14440000000', '', 'outbound',
  (ARRAY['completed','completed','completed','busy','no-answer'])[1 + g %% 5], '', 30,
  false, %(end)s - (g * 97 || ' seconds')::interval, '', '', '{}', '', now(), now()
FROM generate_series(1, %(n)s) AS g
"""


def insert_bulk_calls(env: Environment, agent_external_id: str, end: datetime, n: int) -> None:
    """`n` calls generated by the database, one every 97 seconds back from `end`, then the
    search index's pending lists merged and statistics taken, as after a back-fill: the
    planner then chooses as over a large mirror, not a table it could read in one page."""
    with connection.cursor() as cursor:
        cursor.execute(_BULK_CALLS, {"env": env.pk, "agent": agent_external_id, "end": end,
                                     "n": n})
        for leaf in partitions.leaf_indexes("call_env_search_gin"):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [leaf])
        cursor.execute("ANALYZE sync_call")
