"""Writing one answer's calls, for a provider whose listing hands back whole records: the
records compared with their stored hash first (most of a re-read is unchanged), values
outside the documented sets noted, the rest mapped by the provider's `to_row` and upserted
in one batch, a record that breaks the shape quarantined, and the
local days written remembered in the cursor until their rollups are refreshed (so a killed
run refreshes them on the next)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sync import quarantine
from sync.analysis import thresholds
from sync.models import Agent, Call
from sync.providers.records import Rejected
from sync.run_context import RunContext
from sync.write.rollups import local_days_of
from sync.write.upsert import Counts, canonical, upsert

# (environment, item, agent pks by external id, canonical raw, thresholds) → Call row.
ToRow = Callable[..., dict[str, Any]]


class CallPageWriter:
    """Writes each answer's new and changed calls; remembers the local days they touch."""

    def __init__(self, ctx: RunContext, cursor: dict[str, Any], dirty: set[str], *,
                 to_row: ToRow,
                 key_of: Callable[[Any], str],
                 unknown_values: Callable[[Any], list[tuple[str, str]]],
                 started_of: Callable[[Any], datetime | None],
                 update_fields: list[str]) -> None:
        self.ctx, self.cursor = ctx, cursor
        self.to_row, self.key_of, self.unknown_values = to_row, key_of, unknown_values
        self.started_of, self.update_fields = started_of, update_fields
        env = ctx.environment
        self.tz = env.organization.tzinfo
        self.agents = dict(Agent.objects.filter(environment=env)
                           .values_list("external_id", "pk"))
        self.thresholds = thresholds(env.pk)
        # The local days written and not yet refreshed (the caller's set: it refreshes them).
        self.dirty = dirty

    def __call__(self, items: list[Any]) -> None:
        ctx, env = self.ctx, self.ctx.environment
        keyed = [(item, self.key_of(item), canonical(item)) for item in items]
        stored = dict(Call.objects.filter(
            environment=env, external_id__in=[k for _, k, _ in keyed if k])
            .values_list("external_id", "payload_hash"))
        rows, refused, unchanged = [], [], 0
        for item, key, raw in keyed:
            for name, value in self.unknown_values(item):
                ctx.count_unknown(name, value, key)
            if key and stored.get(key) == raw.digest:
                unchanged += 1
                continue
            try:
                rows.append(self.to_row(env, item, self.agents, raw, self.thresholds))
            except Rejected as exc:
                refused.append((item, str(exc)))
        with ctx.page_transaction():
            for item, reason in refused:
                began = self.started_of(item)
                quarantine.reject(ctx, item, reason, upstream_id=self.key_of(item) or None,
                                  day=began.astimezone(self.tz).date() if began else None)
            counts: Counts = upsert(Call, env, rows, key="external_id",
                                    update_fields=self.update_fields,
                                    run_keys=ctx.call_keys) if rows else Counts()
            counts.unchanged += unchanged
            if rows:
                quarantine.clear(ctx, upstream_id__in=[r["external_id"] for r in rows])
                days = {d.isoformat()
                        for d in local_days_of([r["started_at"] for r in rows], self.tz)}
                if not days <= self.dirty:
                    self.dirty |= days
                    ctx.save_cursor({**self.cursor, "dirty_days": sorted(self.dirty)})
            ctx.record(counts)
