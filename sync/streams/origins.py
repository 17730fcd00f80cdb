"""Origins AI streams: the configured agents, and every call record of each agent.

There is no list-agents endpoint: the agents are the environment's configured ids. The calls
endpoint returns an agent's whole history as one array on every run, so unchanged records
must be cheap: each chunk of CHUNK records is upserted through the shared path, whose
`payload_hash` comparison leaves unchanged rows unwritten. The parsed array is consumed
from the front, so processed records are freed while the rest are written.

Rollups: the local days of changed records are kept in the stream's cursor in the same
transaction as the rows, and refreshed once when every agent is done, so a killed run
refreshes them on the next one.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from sync.clients.errors import NotFound
from sync.engine import RunContext
from sync.models import Agent, Call
from sync.rollups import local_days_of, refresh_rollups
from sync.streams.origins_records import ORIGINS_CALL_UPDATE_FIELDS, origins_call, queued_at
from sync.streams.records import AGENT_UPDATE_FIELDS, Rejected
from sync.upsert import Counts, payload_hash, upsert

CHUNK = 500


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


def sync_calls(ctx: RunContext) -> None:
    """Each configured agent's call_stats, upserted in chunks; a 404 marks the agent missing."""
    env = ctx.environment
    if not env.agent_ids:
        ctx.run.details["warning"] = "no agent ids configured for this environment"
        return
    with ctx.page_transaction():
        agents, _ = ensure_agents(ctx)
    cursor = ctx.cursor()
    dirty: set[str] = set(cursor.get("dirty_days", []))
    ctx.progress.begin(f"{env.name}: calls", len(agents))
    for agent_id, agent_pk in agents.items():
        try:
            records = ctx.client.call_stats(agent_id)
        except NotFound:
            Agent.objects.filter(pk=agent_pk).update(missing=True)
            ctx.note("missing_agents", agent_id)
            ctx.progress.step()
            continue
        Agent.objects.filter(pk=agent_pk, missing=True).update(missing=False)
        _write_records(ctx, records, agent_id, agent_pk, dirty)
        ctx.progress.step()
    if dirty:
        with ctx.page_transaction():
            refresh_rollups(env, {date.fromisoformat(d) for d in dirty})
            ctx.bump_data_version()
            ctx.save_cursor({"read_at": ctx.now.isoformat()})
    ctx.progress.end()


def _changed(env: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows whose record is new or differs from the stored one (one query per chunk).

    The whole history is re-read every run, so most rows are unchanged: comparing hashes
    first keeps them off the write path entirely and says which local days need rollups.
    """
    stored = dict(Call.objects.filter(environment=env,
                                      external_id__in=[r["external_id"] for r in rows])
                  .values_list("external_id", "payload_hash"))
    return [r for r in rows if stored.get(r["external_id"]) != r["payload_hash"]]


def _write_records(ctx: RunContext, records: list[Any], agent_id: int, agent_pk: int,
                   dirty: set[str]) -> None:
    """Upsert one agent's records CHUNK at a time, freeing each chunk once written."""
    env, tz = ctx.environment, ctx.environment.organization.tzinfo
    reasons: dict[str, int] = ctx.run.details.setdefault("rejected_reasons", {})
    while records:
        chunk = records[:CHUNK]
        del records[:CHUNK]
        rows, rejected = [], 0
        for item in chunk:
            try:
                rows.append(origins_call(env, item, agent_id, agent_pk))
            except Rejected as exc:
                rejected += 1
                reasons[str(exc)] = reasons.get(str(exc), 0) + 1
        fresh = _changed(env, rows)
        with ctx.page_transaction():
            counts: Counts = upsert(Call, env, fresh, key="external_id",
                                    update_fields=ORIGINS_CALL_UPDATE_FIELDS)
            counts.unchanged += len({r["external_id"] for r in rows}) - len(
                {r["external_id"] for r in fresh})
            counts.rejected = rejected
            if fresh:
                # Queue time too: a queued call's start moves to its initiation time later.
                moments = [r["started_at"] for r in fresh]
                moments += [q for q in (queued_at(r["raw"]) for r in fresh) if q]
                dirty |= {d.isoformat() for d in local_days_of(moments, tz)}
                ctx.save_cursor({"dirty_days": sorted(dirty)})
            ctx.record(counts)
        del chunk, rows
    if not reasons:
        ctx.run.details.pop("rejected_reasons", None)
