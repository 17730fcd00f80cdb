"""How fresh each environment's mirror is: shown next to every report.

`as_of` is what "data as of" says: the last sync, or, when the figures were read from a read
replica (`portal.replicas`), the older of that and the moment the replica holds every commit
to — figures never look fresher than the database they came from."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus
from portal.replicas import replica_as_of


@dataclasses.dataclass(frozen=True)
class Freshness:
    """One environment's last sync. `stale` once two sync intervals passed without one."""

    environment_id: int
    name: str
    status: str
    last_synced_at: datetime | None
    data_version: int
    stale: bool
    as_of: datetime | None = None


def freshness(
    environments: Iterable[Environment] | QuerySet[Environment],
    now: datetime | None = None,
) -> list[Freshness]:
    """Last sync per environment (no query beyond evaluating a queryset)."""
    now = now or timezone.now()
    replayed = replica_as_of()
    result = []
    for env in environments:
        limit = timedelta(minutes=2 * max(env.sync_interval_minutes, 1))
        stale = (
            env.last_synced_at is None
            or now - env.last_synced_at > limit
            or env.status != EnvironmentStatus.ACTIVE
        )
        as_of = env.last_synced_at
        if as_of is not None and replayed is not None:
            as_of = min(as_of, replayed)
        result.append(Freshness(env.pk, env.name, env.status, env.last_synced_at,
                                env.data_version, stale, as_of))
    return result
