"""Agents' price snapshots, kept from a provider's price source, read once a UTC day per agent.

A vendor that serves only the current plan's prices can price a past call only with what was
served on its day: one `AgentPrice` row per price change (`valid_from`: the first UTC day read
at that price), `checked_on` moved forward while it stays the same. The provider's agents
stream calls `snapshot` with its price source (`PriceReader`: Talkover's is
`sync.providers.talkover.prices.read_price`), through the environment's client (its request
budget paces the reads like any other); an agent whose price cannot be read keeps its last
snapshot and is read again on the next agents sync.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from portal.models import Environment
from sync.models import AgentPrice
from sync.providers.errors import StreamDeadlinePassed, UpstreamError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedPrice:
    """One agent's price as its provider served it."""

    per_minute: Decimal
    currency: str  # ISO 4217
    components: dict[str, Any] = field(default_factory=dict)  # the vendor's breakdown, kept
    calculated_at: datetime | None = None


# A provider's price source: (client, agent id) → its price, None when the answer has no
# usable price; an UpstreamError when it cannot be read.
PriceReader = Callable[[Any, str], ServedPrice | None]


def enabled() -> bool:
    """`settings.SYNC_AGENT_PRICES` (on by default)."""
    return getattr(settings, "SYNC_AGENT_PRICES", True)


def due(environment: Environment, agent_ids: Iterable[str], today: date) -> list[str]:
    """The agents whose price was not read yet today (one query)."""
    wanted = sorted(set(agent_ids))
    checked = set(AgentPrice.objects.for_organization(environment.organization_id).filter(
        environment=environment, agent_external_id__in=wanted, checked_on__gte=today
    ).values_list("agent_external_id", flat=True))
    return [a for a in wanted if a not in checked]


def snapshot(environment: Environment, client: Any, agent_ids: Iterable[str],
             read: PriceReader, now: datetime | None = None) -> int:
    """Read with `read` the price of every agent not read yet today and keep it; returns how
    many prices changed (new rows: the caller bumps the data version, cached pages show
    them)."""
    if not enabled():
        return 0
    today = (now or timezone.now()).astimezone(UTC).date()
    changed = 0
    for agent_id in due(environment, agent_ids, today):
        try:
            price = read(client, agent_id)
        except StreamDeadlinePassed:
            raise  # the stream's time is up: the run ends, not just this agent's price
        except UpstreamError as exc:
            log.info("pricing of agent %s not read: %s", agent_id, exc)
            continue
        if price is not None and keep(environment, agent_id, price, today) == "new":
            changed += 1
    return changed


def keep(environment: Environment, agent_id: str, price: ServedPrice, today: date) -> str:
    """Keep one price read on `today`: a new row when it differs from the latest kept
    ("new"), else the latest is confirmed ("same")."""
    rows = AgentPrice.objects.for_organization(environment.organization_id).filter(
        environment=environment, agent_external_id=agent_id)
    latest = rows.filter(valid_from__lte=today).order_by("-valid_from").first()
    if latest is not None and latest.per_minute == price.per_minute \
            and latest.currency == price.currency:
        if latest.checked_on < today:
            rows.filter(pk=latest.pk).update(checked_on=today)
        return "same"
    AgentPrice.objects.update_or_create(
        environment=environment, agent_external_id=agent_id, valid_from=today,
        defaults={"checked_on": today, "currency": price.currency,
                  "per_minute": price.per_minute, "components": price.components,
                  "calculated_at": price.calculated_at})
    return "new"
