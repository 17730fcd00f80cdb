"""How fresh each environment's mirror is: shown next to every report."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from portal.models import Environment, EnvironmentStatus


@dataclasses.dataclass(frozen=True)
class Freshness:
    """One environment's last sync. `stale` once two sync intervals passed without one."""

    environment_id: int
    name: str
    status: str
    last_synced_at: datetime | None
    data_version: int
    stale: bool


def freshness(
    environments: Iterable[Environment] | QuerySet[Environment],
    now: datetime | None = None,
) -> list[Freshness]:
    """Last sync per environment (no query beyond evaluating a queryset)."""
    now = now or timezone.now()
    result = []
    for env in environments:
        limit = timedelta(minutes=2 * max(env.sync_interval_minutes, 1))
        stale = (
            env.last_synced_at is None
            or now - env.last_synced_at > limit
            or env.status != EnvironmentStatus.ACTIVE
        )
        result.append(Freshness(env.pk, env.name, env.status, env.last_synced_at,
                                env.data_version, stale))
    return result
