"""Origins AI streams: the configured agents, and every call record of each agent.

There is no list-agents endpoint: the agents are the environment's configured ids. The calls
endpoint returns an agent's whole history as one array on every run, so memory must not
follow the history and unchanged records must be cheap: the client parses the body as it
arrives (one record at a time) and each record goes to a spool file on disk (its canonical
JSON, one per line) while its id is counted. Nothing is written until the whole answer was
read within its caps, so an answer cut by its deadline, size or record cap writes nothing,
and every copy of an id repeated anywhere in the answer is quarantined (not only within one
chunk). Then each chunk of CHUNK spooled records is compared with the stored hashes of just
that chunk (one query), and only new or changed rows go to the shared upsert.

Values outside the documented sets (a status, a hang-up cause, a direction) are stored as
sent and noted once per run under "unknown_values".

Rollups: the local days of changed records are kept in the stream's cursor in the same
transaction as the rows, and refreshed once when every agent is done, so a killed run
refreshes them on the next one.

Writes: the new or changed rows go to a `BatchWriter` (as Talkover's pages do), whose batches
are merged and committed by threads of their own while the next chunks are parsed, checked
and compared: the database's work and the client's overlap. Each batch saves the cursor (the
dirty days) with its rows.

Planner statistics: the history arrives oldest first, a month after another, so each batch's
resolution and callback probes by number run against the month being filled. A month's leaf
without statistics was planned as a walk of the whole month per probe (a back-fill's chunks
slowing as the month grew: 66 records a second over 50,000); the month's first batch gives it
statistics once committed (`backfilled.first_statistics`), as the other providers'
back-fills do.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from datetime import date
from functools import partial
from itertools import islice
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from sync import quarantine
from sync.analysis import thresholds
from sync.callback_links import utc_day
from sync.fast_json import canonical_text
from sync.models import Agent, Call
from sync.partitions import backfilled
from sync.partitions.ddl import month_of
from sync.providers.errors import NotFound
from sync.providers.origins.array_reader import Oversized
from sync.providers.origins.records import (
    ORIGINS_CALL_UPDATE_FIELDS,
    call_key,
    origins_call,
    unknown_values,
)
from sync.providers.origins.shape import queued_at
from sync.providers.records import AGENT_UPDATE_FIELDS, Rejected
from sync.providers.validation import moment
from sync.run_context import RunContext
from sync.write.batch_writer import BatchWriter
from sync.write.rollups import local_days_of, refresh_rollups, utc_days_overlapping
from sync.write.upsert import CanonicalJSON, Counts, Row, payload_hash, upsert

CHUNK = 500
# Rows of a batch the writer merges and commits while the next chunks are read: two in
# flight, each record about 2 KB of JSON (memory stays flat in the history's length).
BATCH_ROWS = 1000


def ensure_agents(ctx: RunContext) -> tuple[dict[int, int], Counts]:
    """An Agent row per configured id (no names: Origins does not describe agents)."""
    env = ctx.environment
    seen_at = timezone.now()
    rows = [dict(environment_id=env.pk, external_id=str(i), raw={"agent_id": i},
                 payload_hash=payload_hash({"agent_id": i}), last_seen_at=seen_at)
            for i in env.agent_ids]
    fields = [f for f in AGENT_UPDATE_FIELDS if f in ("raw", "payload_hash")]
    counts = upsert(Agent, env, rows, key="external_id", update_fields=fields)
    pks = dict(Agent.objects.filter(environment=env, external_id__in=[r["external_id"]
                                                                      for r in rows])
               .values_list("external_id", "pk"))
    return {i: pks[str(i)] for i in env.agent_ids}, counts


def sync_agents(ctx: RunContext) -> None:
    """Agent rows for the configured ids (no request: Origins cannot list agents)."""
    with ctx.page_transaction():
        _, counts = ensure_agents(ctx)
        ctx.save_cursor({"agent_ids": ctx.environment.agent_ids})
        ctx.record(counts, pages=0)


class _CallsRun:
    """What one run of the calls stream carries from chunk to chunk and agent to agent: the
    local days with changed calls (`dirty`), the unknown values already noted, the cursor's
    coverage kept until the run finishes, the writer, and the months met (each asks for
    planner statistics once its first batch has committed)."""

    def __init__(self, ctx: RunContext, cursor: dict[str, Any]) -> None:
        self.ctx = ctx
        self.dirty: set[str] = set(cursor.get("dirty_days", []))
        self.noted: set[str] = set()
        self.kept = {k: cursor[k] for k in ("read_at",) if k in cursor}
        self.months: set[date] = set()
        self.staged = False  # rows or writes handed to the writer since its last batch
        # Nothing mirrored when the run began (a first back-fill): no stored hash to compare
        # with, and the merge classifies an id met twice (another agent's) all the same.
        self.empty = not Call.objects.filter(environment=ctx.environment).exists()
        self.writer = BatchWriter(ctx, Call, key="external_id",
                                  update_fields=ORIGINS_CALL_UPDATE_FIELDS, rows=BATCH_ROWS)

    def add(self, fresh: list[Row], actions: list[Any]) -> None:
        """Stage a chunk's new or changed rows (and its quarantine writes); hand a batch to
        the writer when one is due."""
        tz = self.ctx.environment.organization.tzinfo
        if fresh:
            # Queue time too: a queued call's start moves to its initiation time later.
            moments = [r["started_at"] for r in fresh]
            moments += [q for q in (queued_at(r["raw"].value) for r in fresh) if q]
            self.dirty |= {d.isoformat() for d in local_days_of(moments, tz)}
            for day in sorted({utc_day(r["started_at"]) for r in fresh}):
                if month_of(day) not in self.months:
                    self.months.add(month_of(day))
                    actions.append(partial(transaction.on_commit, partial(
                        backfilled.first_statistics, self.ctx, [day])))
        self.writer.add(fresh, actions=actions)
        self.staged = True
        if self.writer.due:
            self.flush()

    def flush(self) -> None:
        """Hand what is staged over as a batch, with the cursor it completes."""
        if self.staged:
            self.writer.flush({**self.kept, "dirty_days": sorted(self.dirty)})
            self.staged = False


def sync_calls(ctx: RunContext) -> None:
    """Each configured agent's call_stats, upserted in chunks; a 404 marks the agent missing."""
    env = ctx.environment
    if not env.agent_ids:
        ctx.run.details["warning"] = "no agent ids configured for this environment"
        return
    with ctx.page_transaction():
        agents, _ = ensure_agents(ctx)
    cursor = ctx.cursor()
    first_read = "read_at" not in cursor  # a back-fill: no whole read finished before
    run = _CallsRun(ctx, cursor)
    ctx.progress.begin(f"{env.name}: calls", len(agents))
    try:
        for agent_id, agent_pk in agents.items():
            try:
                records = ctx.client.call_stats(agent_id)
            except NotFound:
                Agent.objects.filter(pk=agent_pk).update(missing=True)
                ctx.note("missing_agents", agent_id)
                ctx.progress.step()
                continue
            Agent.objects.filter(pk=agent_pk, missing=True).update(missing=False)
            _write_records(run, records, agent_id, agent_pk)
            ctx.progress.step()
        run.flush()
        run.writer.wait()
    finally:
        run.writer.close()
    dirty = run.dirty
    with ctx.page_transaction():
        if dirty:
            refresh_rollups(env, {date.fromisoformat(d) for d in dirty})
            ctx.bump_data_version()
        # Every agent's whole history was read: the Quality report's coverage ends here, and
        # a rejection this run did not repeat was corrected (or removed) upstream.
        ctx.save_cursor({"read_at": ctx.now.isoformat()})
        quarantine.clear(ctx)
    if first_read and dirty:
        backfilled.settle(ctx, utc_days_overlapping(
            {date.fromisoformat(d) for d in dirty}, env.organization.tzinfo))
    ctx.progress.end()


def _day_of(item: Any, tz: Any) -> date | None:
    """The local day a refused record was made, when its initiation time says so."""
    try:
        started = moment(item.get("initiation_time"), "initiation_time")
    except (Rejected, AttributeError):
        return None
    return started.astimezone(tz).date() if started else None


def _stored_hashes(env: Any, keys: list[str]) -> dict[str, str]:
    """external_id → payload_hash of the stored calls among `keys` (one query per chunk)."""
    return dict(Call.objects.filter(environment=env, external_id__in=keys)
                .values_list("external_id", "payload_hash"))


def _spool(ctx: RunContext, records: Iterator[Any], spool: IO[str],
           oversized: list[Oversized]) -> dict[str, int]:
    """Read the whole answer into `spool`, one canonical JSON record per line; return
    id → copies for the ids that appear more than once in it. A record over the size cap
    goes to `oversized` instead (its head only: at most max_bytes / max_record of them).

    Nothing is written to the database while the answer is read: an answer that fails its
    deadline, size or record cap (or breaks off for good) raises here and leaves the mirror
    as it was, and an id repeated anywhere in the answer is known before any copy is
    written. Memory holds one record and the ids (a few dozen bytes each), not the history.
    """
    copies: dict[str, int] = {}
    read = 0
    for item in records:
        if isinstance(item, Oversized):
            oversized.append(item)
            continue
        key = call_key(item)
        if key:
            copies[key] = copies.get(key, 0) + 1
        # ensure_ascii (json's default): a record's text never holds a line break.
        spool.write(canonical_text(item))  # its digest is taken when read back
        spool.write("\n")
        read += 1
        if read % CHUNK == 0:
            ctx.record(Counts(), pages=0)  # beats the heart on a long read
    spool.seek(0)
    return {key: n for key, n in copies.items() if n > 1}


def _spooled(spool: IO[str]) -> Iterator[tuple[Any, CanonicalJSON]]:
    """The spooled records with their canonical form (the line is that text already)."""
    for line in spool:
        text = line.rstrip("\n")
        value = json.loads(text)
        yield value, CanonicalJSON(value, text,
                                   hashlib.md5(text.encode(), usedforsecurity=False).hexdigest())


def _write_records(run: _CallsRun, records: Iterator[Any], agent_id: int, agent_pk: int
                   ) -> None:
    """Read one agent's whole answer to a spool file, then upsert it CHUNK at a time.

    Every copy of an id repeated anywhere in the answer is quarantined (none is written, so
    the mirrored call keeps its last good values); an answer that fails before its end
    writes nothing. Memory holds one chunk whatever the length of the history; the spool
    (a temporary file, gone when closed) holds the rest.
    """
    ctx = run.ctx
    with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="origins-spool-") as spool:
        oversized: list[Oversized] = []
        repeated = _spool(ctx, records, spool, oversized)
        _reject_oversized(ctx, oversized)
        _write_spooled(run, _spooled(spool), repeated, agent_id, agent_pk)
    quarantine.note_duplicates(ctx, repeated)


def _reject_oversized(ctx: RunContext, oversized: list[Oversized]) -> None:
    """Quarantine each record over the size cap with its reason: its head is the payload
    (the whole was never held), its id and day as far as the head tells."""
    if not oversized:
        return
    tz = ctx.environment.organization.tzinfo
    reasons: dict[str, int] = ctx.run.details.setdefault("rejected_reasons", {})
    with ctx.page_transaction():
        for record in oversized:
            reasons[record.reason] = reasons.get(record.reason, 0) + 1
            call_id = record.field("call_id")
            quarantine.reject(ctx, {"head": record.head, "call_id": call_id},
                              record.reason, upstream_id=call_id,
                              day=_day_of({"initiation_time": record.field("initiation_time")},
                                          tz))


def _write_spooled(run: _CallsRun, spooled: Iterator[tuple[Any, CanonicalJSON]],
                   repeated: dict[str, int], agent_id: int, agent_pk: int) -> None:
    ctx = run.ctx
    env, tz = ctx.environment, ctx.environment.organization.tzinfo
    reasons: dict[str, int] = ctx.run.details.setdefault("rejected_reasons", {})
    threshold = thresholds(env.pk).get(str(agent_id))
    while chunk := list(islice(spooled, CHUNK)):
        # The whole history is re-read every run, so most records are unchanged: their hash
        # is compared with the stored one before anything else is made of them, and they
        # never reach the write path (nor the rollups' dirty days).
        hashed = [(item, call_key(item), raw) for item, raw in chunk]
        if repeated:  # every copy of an id repeated in the answer: quarantined, not written
            quarantine.quarantine_repeated(ctx, [item for item, key, _ in hashed
                                                 if key in repeated],
                                           call_key, repeated, day=lambda item: _day_of(item, tz))
            hashed = [entry for entry in hashed if entry[1] not in repeated]
        del chunk
        stored = {} if run.empty else _stored_hashes(env, [key for _, key, _ in hashed if key])
        fresh, unchanged, refused = [], 0, []
        for item, key, raw in hashed:
            for value in unknown_values(item):
                if value not in run.noted:
                    run.noted.add(value)
                    ctx.note("unknown_values", value)
            if key and stored.get(key) == raw.digest:
                unchanged += 1
                continue
            try:
                fresh.append(origins_call(env, item, agent_id, agent_pk, raw, threshold))
            except Rejected as exc:
                reasons[str(exc)] = reasons.get(str(exc), 0) + 1
                refused.append(partial(
                    quarantine.reject, ctx, item, str(exc), day=_day_of(item, tz),
                    upstream_id=item.get("call_id") if isinstance(item, dict) else None))
        del hashed
        # The unchanged are counted here (the batch counts what it merges), the chunk as a page.
        ctx.record(Counts(unchanged=unchanged), pages=0 if fresh or refused else 1)
        if fresh or refused:
            run.add(fresh, refused)
        del fresh
    if not reasons:
        ctx.run.details.pop("rejected_reasons", None)
