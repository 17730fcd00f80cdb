"""Agents' price snapshots: Talkover's `GET /agents/{id}/pricing`, read once a UTC day per agent.

The vendor serves only the current plan's prices, so the only way to price a past call is to
have kept what was served on its day: one `AgentPrice` row per price change (`valid_from`:
the first UTC day read at that price), `checked_on` moved forward while it stays the same.
Read after the agents stream, through the environment's client (its request budget paces
the reads like any other); an agent whose pricing cannot be read keeps its last snapshot and
is read again on the next agents sync.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.models import Environment
from sync.models import AgentPrice
from sync.providers.errors import StreamDeadlinePassed, UpstreamError

log = logging.getLogger(__name__)


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
             now: datetime | None = None) -> int:
    """Read the pricing of every agent not read yet today and keep it; returns how many
    prices changed (new rows: the caller bumps the data version, cached pages show them)."""
    if not enabled():
        return 0
    today = (now or timezone.now()).astimezone(UTC).date()
    changed = 0
    for agent_id in due(environment, agent_ids, today):
        try:
            body = client.get(f"agents/{agent_id}/pricing")
        except StreamDeadlinePassed:
            raise  # the stream's time is up: the run ends, not just this agent's price
        except UpstreamError as exc:
            log.info("pricing of agent %s not read: %s", agent_id, exc)
            continue
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and keep(environment, agent_id, data, today) == "new":
            changed += 1
    return changed


def keep(environment: Environment, agent_id: str, data: dict[str, Any], today: date) -> str:
    """Keep one pricing answer read on `today`: a new row when the price differs from the
    latest kept ("new"), else the latest is confirmed ("same"); "" when the answer has no
    usable price."""
    try:
        per_minute = Decimal(str(data["estimated_cost_per_minute"]))
    except (KeyError, InvalidOperation, TypeError):
        return ""
    currency = str(data.get("currency") or "USD")[:3].upper()
    components = {k: data.get(k) for k in ("components", "transport") if k in data}
    calculated = data.get("calculated_at")
    calculated_at = parse_datetime(calculated) if isinstance(calculated, str) else None
    rows = AgentPrice.objects.for_organization(environment.organization_id).filter(
        environment=environment, agent_external_id=agent_id)
    latest = rows.filter(valid_from__lte=today).order_by("-valid_from").first()
    if latest is not None and latest.per_minute == per_minute and latest.currency == currency:
        if latest.checked_on < today:
            rows.filter(pk=latest.pk).update(checked_on=today)
        return "same"
    AgentPrice.objects.update_or_create(
        environment=environment, agent_external_id=agent_id, valid_from=today,
        defaults={"checked_on": today, "currency": currency, "per_minute": per_minute,
                  "components": components, "calculated_at": calculated_at})
    return "new"
