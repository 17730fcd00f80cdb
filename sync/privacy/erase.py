"""`erase_caller`: a phone number's personal fields anonymised in every table and cache.

In order:

1. the tombstone (the number's keyed hash) is committed first, so every sync batch from then
   on anonymises that caller's calls on arrival (`sync.privacy.arrival`);
2. each environment in its own transaction, under the lock that makes its sync batches wait
   (`sync.privacy.locks`): the calls whose numbers, transcript or record mention the number
   (any partition: the calls are found by the number's pattern, PostgreSQL's regular
   expressions on the database side) are rewritten in place (`scrub.erase_call` for the
   caller's own calls, the number alone replaced elsewhere); their rows, statuses, times
   and durations stay, so rollups and every report keep their totals; the environment's data
   version moves, so no cached report of the old rows is reachable;
3. the personal fields outside the calls (`sync.privacy.fields`: quarantined records, runs'
   notes, alert snapshots, saved views, …) and the erasure's log row, in one transaction;
4. after the commits, the organisation's cached reports and pages are deleted from the
   cache (Redis or the database cache).

The number is never written anywhere: the log row holds its hash and the counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Max, Min, TextField, Value, When
from django.db.models.functions import Cast, Concat

from portal import redis_guard
from portal.models import Environment, Organization
from portal.phone import number_pattern, region_of_timezone, to_e164
from sync.models import Call, CallerTombstone, Erasure, RejectedRecord
from sync.outcomes import refresh_outcome_days
from sync.privacy.fields import personal_fields
from sync.privacy.locks import hold_exclusive
from sync.privacy.scrub import (
    CALL_COLUMNS,
    Subject,
    erase_call,
    row_columns,
    scrub_text,
    scrub_value,
)
from sync.quarantine import fingerprint
from sync.stored_record import record_of, stored
from sync.write.upsert import canonical


@dataclass
class Found:
    """What one environment's erasure changed."""

    calls: int = 0
    mentions: int = 0
    starts: list[Any] = field(default_factory=list)


def subject_of(organization: Organization, number: str) -> Subject:
    """The number as written by a user, read in the organisation's country (InvalidNumber)."""
    return Subject.of(to_e164(number, region_of_timezone(organization.timezone)))


def erase_caller(organization: Organization, number: str, *, actor=None,
                 source: str = "command") -> Erasure:
    """Erase `number` (any format) from the organisation's mirror; the log row it made."""
    subject = subject_of(organization, number)
    region = region_of_timezone(organization.timezone)
    with transaction.atomic():
        CallerTombstone.objects.get_or_create(organization=organization,
                                              number_hash=subject.hashed)
    per_env: dict[str, dict[str, Any]] = {}
    total = 0
    for env in Environment.objects.for_organization(organization).order_by("pk"):
        found = erase_environment(env, subject, region)
        per_env[str(env.pk)] = {"name": env.name, "calls": found.calls,
                                "mentions": found.mentions}
        total += found.calls
    with transaction.atomic():
        other = scrub_fields(organization, subject)
        erasure = Erasure.objects.create(
            organization=organization, number_hash=subject.hashed, actor=actor,
            source=source, environments=per_env, calls=total, other_rows=other)
    erasure.cache_purged = purge_cache(organization)
    Erasure.objects.for_organization(organization).filter(pk=erasure.pk).update(
        cache_purged=erasure.cache_purged)
    return erasure


def erase_environment(env: Environment, subject: Subject, region: str | None) -> Found:
    """One environment's calls that hold or mention the number, anonymised in one
    transaction (its sync batches wait)."""
    found, erased_starts = Found(), []
    with transaction.atomic():
        hold_exclusive(env.pk)
        for row in matching_calls(env, subject):
            columns = {c: row[c] for c in CALL_COLUMNS}
            record = record_of(row["raw"], row)
            if subject.holds(row["to_number"], region) or \
                    subject.holds(row["from_number"], region):
                columns, record = erase_call(columns, record, subject, region)
                found.calls += 1
            else:
                columns = {k: scrub_text(v, [subject]) for k, v in columns.items()}
                record = scrub_value(record, [subject])
                found.mentions += 1
            Call.objects.for_organization(env.organization_id).filter(
                pk=row["pk"], started_at=row["started_at"]).update(
                **columns, raw=stored(record, {**row, **columns}, env.spec.stored_form),
                payload_hash=canonical(record).digest)
            erased_starts.append(row["started_at"])
        if found.calls or found.mentions:
            Environment.objects.filter(pk=env.pk).update(data_version=F("data_version") + 1)
        # A number's token is what the outcome rollup's "answered with a number" reads now.
        tz = env.organization.tzinfo
        refresh_outcome_days(env, {start.astimezone(tz).date() for start in erased_starts})
    return found


def matching_calls(env: Environment, subject: Subject):
    """The environment's calls whose numbers, transcript or record hold the number written
    any way, matched by the database one month of calls at a time: each statement stays
    short (a web request's statements are bounded, `portal.db_deadline`) and, on
    PostgreSQL, reads one month partition."""
    text = Concat(*(part for c in CALL_COLUMNS for part in (F(c), Value(" "))),
                  Cast("raw", TextField()), output_field=TextField())
    calls = Call.objects.for_organization(env.organization_id).filter(environment=env)
    bounds = calls.aggregate(low=Min("started_at"), high=Max("started_at"))
    if bounds["low"] is None:
        return
    month = bounds["low"].astimezone(UTC).replace(day=1, hour=0, minute=0, second=0,
                                                  microsecond=0)
    while month <= bounds["high"]:
        following = (month + timedelta(days=32)).replace(day=1)
        yield from (calls.filter(started_at__gte=month, started_at__lt=following)
                    .annotate(personal_text=text)
                    .filter(personal_text__regex=number_pattern(subject.e164))
                    .values("pk", "raw", *row_columns()))
        month = following


def scrub_fields(organization: Organization, subject: Subject) -> int:
    """Every registered personal field of the organisation that mentions the number,
    rewritten; returns the rows changed."""
    changed = 0
    pattern = number_pattern(subject.e164)
    for personal in personal_fields():
        model = personal.model_class()
        rows = (model._default_manager.for_organization(organization)
                .annotate(personal_text=Cast(personal.field, TextField()))
                .filter(personal_text__regex=pattern)
                .values_list("pk", personal.field))
        for pk, value in list(rows):
            new = scrub_value(value, [subject])
            updates = {personal.field: new, **_derived(model, personal.field, value, new)}
            model._default_manager.for_organization(organization).filter(pk=pk).update(
                **updates)
            changed += 1
    return changed


def _derived(model, name: str, old: Any, new: Any) -> dict[str, Any]:
    """Columns computed from a rewritten field: a rejected record identified by its payload
    (no usable id) has the payload's digest as fingerprint, which would let a guessed number
    be tested against it; it becomes the digest of the scrubbed payload."""
    if model is RejectedRecord and name == "payload" and isinstance(old, str):
        return {"fingerprint": Case(
            When(fingerprint=fingerprint(None, old), then=Value(fingerprint(None, new))),
            default=F("fingerprint"))}
    return {}


def purge_cache(organization: Organization) -> bool:
    """Delete the organisation's cached reports and pages; False if the cache failed (the
    entries are unreachable already, their data versions moved, and expire on their own)."""
    try:
        redis_guard.purge_containing(f":org{organization.pk}:")
    except Exception:  # noqa: BLE001 - any cache failure: say so on the log row
        return False
    return True
