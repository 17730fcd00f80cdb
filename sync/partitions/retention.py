"""Per-organisation call retention: whole partitions dropped, never rows deleted (PostgreSQL).

Partitions are months across every organisation, so a month cannot be dropped for one
organisation alone. Each month is therefore split by retention tier (`CallRetention`: keep
forever, 36, 24, 12 or 6 months; `sync.partitions.ddl`): an organisation's calls live in its
tier's leaves, and a tier's month is dropped whole once it is older than the tier keeps
(`drop_expired`). The number of partitions follows months × tiers in use — about 200 after
ten years whatever the number of organisations — not the organisations.

Changing an organisation's tier is the one place call rows move (`move_organization`): its
calls are moved to the new tier's leaves in batches of `CALL_RETENTION_MOVE_BATCH`, each its
own short transaction, while the environments' sync locks are held (a sync must not write
the old tier meanwhile). Shortening the retention moves old months into leaves that are
already expired; the next `drop_expired` drops them. Moving is resumable: the organisation
stays `call_retention_pending` until a pass finds nothing left to move.

Before a leaf is dropped, the environments with calls in it are marked
(`Environment.calls_dropped_before`) and their rollups, callback links and callback funnel
days of those days are removed, in one transaction: reports then name the days as not
mirrored (sync.coverage), never as zero, and no total counts calls that are gone.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from portal.models import Environment, Organization
from sync.locks import environment_lock
from sync.models import (
    AgentDayRollup,
    CallbackFunnelDay,
    CallbackLink,
    CallRollup,
    KpiDayRollup,
    OutcomeDayRollup,
    QualityDayRollup,
)
from sync.partitions import ddl as partitions

logger = logging.getLogger("sync.partitions.retention")


def first_kept_month(tier: int, now: datetime | None = None) -> date | None:
    """The oldest month a tier keeps (None: forever): the current month and `tier` before."""
    if not tier:
        return None
    return partitions.add_months(partitions.month_of(now or timezone.now()), -int(tier))


def _mark_dropped(env_ids: list[int], before: datetime) -> None:
    """Name the environments' days before `before` as dropped and remove what was derived
    from their calls: the rollups, the callback links of the callbacks dropped and the
    callback funnel's days (UTC) before `before` — kept, they held ids and times of calls the
    organisation no longer keeps. The vendor's own callback stats stay: they are not calls."""
    for env in Environment.objects.filter(pk__in=env_ids).select_related("organization"):
        last_day = before.astimezone(env.organization.tzinfo).date()
        if datetime.combine(last_day, time.min, tzinfo=env.organization.tzinfo) == before:
            last_day -= timedelta(days=1)  # `before` is that local midnight: a whole day kept
        for model in (CallRollup, AgentDayRollup, QualityDayRollup, OutcomeDayRollup,
                      KpiDayRollup):
            model.objects.filter(environment=env, day__lte=last_day).delete()
    # Links first: their triggers recount the funnel days they leave, then those days go.
    CallbackLink.objects.filter(environment_id__in=env_ids,
                                callback_started_at__lt=before).delete()
    CallbackFunnelDay.objects.filter(environment_id__in=env_ids,
                                     day__lt=before.astimezone(UTC).date()).delete()
    Environment.objects.filter(pk__in=env_ids).filter(
        Q(calls_dropped_before__isnull=True) | Q(calls_dropped_before__lt=before)
    ).update(calls_dropped_before=before, data_version=F("data_version") + 1)


def drop_expired(now: datetime | None = None) -> list[tuple[date, int]]:
    """Drop every leaf whose month its tier no longer keeps; returns the (month, tier) dropped."""
    dropped = []
    for month, tier in sorted(partitions.leaves()):
        kept_from = first_kept_month(tier, now)
        if kept_from is None or month >= kept_from:
            continue
        env_ids = partitions.environments_in(month, tier)
        end = partitions.add_months(month, 1)
        with transaction.atomic():
            _mark_dropped(env_ids, datetime.combine(end, time.min, tzinfo=UTC))
        partitions.detach_and_drop(month, tier)
        logger.info("retention: dropped calls of %s (tier %s months, %d environments)",
                    f"{month:%Y-%m}", tier, len(env_ids))
        dropped.append((month, tier))
    return dropped


def _move_batch(month: date, old: int, new: int, env_ids: list[int], limit: int) -> int:
    leaf = connection.ops.quote_name(partitions.leaf_table(month, old))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {partitions.TABLE} SET retention_months = %s "
            f"WHERE started_at >= %s AND started_at < %s AND retention_months = %s "
            f"AND id IN (SELECT id FROM {leaf} WHERE environment_id = ANY(%s) LIMIT %s)",
            [new, partitions._instant(month), partitions._instant(partitions.add_months(month, 1)),
             old, env_ids, limit])
        return cursor.rowcount


def move_organization(org: Organization, *, batch: int | None = None) -> int | None:
    """Move the organisation's calls into its tier's leaves; returns the calls moved, or None
    when one of its environments is syncing (try again later)."""
    batch = batch or settings.CALL_RETENTION_MOVE_BATCH
    tier = int(org.call_retention_months)
    env_ids = list(org.environments.values_list("pk", flat=True))
    moved = 0
    with ExitStack() as locks:
        for pk in env_ids:
            if locks.enter_context(environment_lock(pk)) is None:
                return None
        for month, old in sorted(partitions.leaves(), reverse=True):
            if old == tier or not env_ids:
                continue
            partitions.ensure([(month, tier)])
            while count := _move_batch(month, old, tier, env_ids, batch):
                moved += count
    Organization.objects.filter(pk=org.pk, call_retention_months=tier).update(
        call_retention_pending=False)
    if moved:
        Environment.objects.filter(pk__in=env_ids).update(data_version=F("data_version") + 1)
    return moved


def maintain(now: datetime | None = None) -> dict:
    """The daily maintenance: months ahead, pending tier moves, expired months dropped."""
    created = partitions.ensure_ahead(now)
    moved, waiting = 0, []
    for org in Organization.objects.filter(call_retention_pending=True):
        got = move_organization(org)
        if got is None:
            waiting.append(org.slug)
        else:
            moved += got
    dropped = drop_expired(now)
    months, leaves = partitions.partition_count()
    return {"created": [f"{m:%Y-%m}/t{t}" for m, t in created],
            "moved": moved, "waiting": waiting,
            "dropped": [f"{m:%Y-%m}/t{t}" for m, t in dropped],
            "months": months, "leaves": leaves}


def apply(org_id: int) -> dict:
    """An owner changed the organisation's tier: move its calls now and drop what the new
    tier no longer keeps."""
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        return {"organization": org_id, "skipped": True}
    moved = move_organization(org)
    dropped = drop_expired() if moved is not None else []
    return {"organization": org_id, "moved": moved, "waiting": moved is None,
            "dropped": [f"{m:%Y-%m}/t{t}" for m, t in dropped]}
