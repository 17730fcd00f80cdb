"""Per-kind retention: transcripts, recording links and numbers anonymised in place once
older than an owner's setting (`PrivacyRetention`), by the daily maintenance.

Nothing happens without a setting (the default keeps everything as long as the call). Each
environment and kind remembers where it got to (`PrivacyRetention.done`), so a day's pass
reads only the calls that aged out since the last one; a first pass (or a shorter setting)
walks the older calls in batches, one transaction each. Calls the sync writes again later
are anonymised on arrival by the same rule (`sync.privacy.arrival`), so a re-read never
brings an aged-out transcript back. The rows stay: reports keep their totals.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal.models import Environment
from portal.phone import region_of_timezone
from sync.models import Call, PrivacyRetention
from sync.privacy.scrub import CALL_COLUMNS, retention_token, row_columns, strip_call
from sync.stored_record import record_of, stored
from sync.write.upsert import canonical


def batch_size() -> int:
    return int(getattr(settings, "PRIVACY_RETENTION_BATCH", 1000))


def apply_retention(now: datetime | None = None) -> dict[str, int]:
    """Every organisation's settings applied; {organisation slug: calls anonymised}."""
    now = now or timezone.now()
    done: dict[str, int] = {}
    for policy in (PrivacyRetention.objects.across_organizations()
                   .select_related("organization").order_by("pk")):
        if policy.days():
            done[policy.organization.slug] = apply_policy(policy, now)
    return done


def apply_policy(policy: PrivacyRetention, now: datetime) -> int:
    org = policy.organization
    region = region_of_timezone(org.timezone)
    cutoffs = {kind: now - timedelta(days=days) for kind, days in policy.days().items()}
    changed = 0
    for env in Environment.objects.for_organization(org).order_by("pk"):
        reached = policy.done.get(str(env.pk), {})
        starts = {kind: _moment(reached.get(kind)) for kind in cutoffs}
        pending = {k for k in cutoffs if starts[k] is None or starts[k] < cutoffs[k]}
        if not pending:
            continue
        changed += _environment(env, {k: (starts[k], cutoffs[k]) for k in pending}, region)
        policy.done[str(env.pk)] = {**reached,
                                    **{k: cutoffs[k].isoformat() for k in pending}}
    PrivacyRetention.objects.across_organizations().filter(pk=policy.pk).update(
        done=policy.done)
    return changed


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _environment(env: Environment, windows: dict[str, tuple[datetime | None, datetime]],
                 region: str | None) -> int:
    """Anonymise each kind over its [start, cutoff) window, in batches by start time."""
    low = None if any(s is None for s, _ in windows.values()) else \
        min(s for s, _ in windows.values())
    high = max(cut for _, cut in windows.values())
    changed, after = 0, None
    while True:
        calls = Call.objects.for_organization(env.organization_id).filter(
            environment=env, started_at__lt=high)
        if low is not None:
            calls = calls.filter(started_at__gte=low)
        if after is not None:
            calls = calls.filter(started_at__gt=after[0]) | calls.filter(
                started_at=after[0], pk__gt=after[1])
        rows = list(calls.order_by("started_at", "pk")
                    .values("pk", "raw", *row_columns())[:batch_size()])
        if not rows:
            return changed
        with transaction.atomic():
            for row in rows:
                changed += _row(row, windows, region, env.spec.stored_form)
        after = (rows[-1]["started_at"], rows[-1]["pk"])


def _row(row: dict[str, Any], windows: dict[str, tuple[datetime | None, datetime]],
         region: str | None, form: str) -> int:
    kinds = frozenset(kind for kind, (start, cut) in windows.items()
                      if row["started_at"] < cut and (start is None or row["started_at"] >= start))
    if not kinds:
        return 0
    columns = {c: row[c] for c in CALL_COLUMNS}
    record = record_of(row["raw"], row)
    new_columns, new_record = strip_call(columns, record, kinds,
                                         lambda value: retention_token(value, region))
    if new_columns == columns and new_record == record:
        return 0
    Call.objects.filter(pk=row["pk"], started_at=row["started_at"]).update(
        **new_columns, raw=stored(new_record, {**row, **new_columns}, form),
        payload_hash=canonical(new_record).digest)
    return 1
