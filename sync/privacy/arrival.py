"""Anonymise on arrival: what a sync writes already obeys the tombstones and retention.

Every call the sync writes goes through `sync.write.upsert.upsert_keys`, which hands its rows here
first (incremental, webhook, reconciliation, back-fill and full re-read alike): a call of an
erased caller (its to or from number hashes to a tombstone of the organisation) is written
anonymised, and a call older than a kind's retention is written without that kind. Its
`payload_hash` is the anonymised record's, so the next sync finds it unchanged and writes
nothing. The row itself is written, so the completeness ledger still counts it. Rejected
records are scrubbed the same way before they are kept (`scrub_rejected`).

Cost: nothing for an organisation without tombstones or retention settings (two indexed reads
per batch); with them, the numbers of each row are normalised and hashed once.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from portal.models import Environment
from portal.phone import region_of_timezone, stored_e164
from sync.models.privacy import CallerTombstone, PrivacyRetention
from sync.privacy.keys import number_hash
from sync.privacy.locks import hold_shared
from sync.privacy.scrub import (
    CALL_COLUMNS,
    Subject,
    erase_call,
    retention_token,
    scrub_value,
    strip_call,
)

# A string that may be a phone number somewhere in a rejected record.
_NUMBER_LIKE = re.compile(r"\+?[0-9][0-9 ()+.\-]{6,22}[0-9]")


def tombstones(organization_id: int) -> frozenset[str]:
    return frozenset(CallerTombstone.objects.for_organization(organization_id)
                     .values_list("number_hash", flat=True))


def retention_days(organization_id: int) -> dict[str, int]:
    policy = PrivacyRetention.objects.for_organization(organization_id).first()
    return policy.days() if policy is not None else {}


def on_calls(environment: Environment, rows: list[dict[str, Any]],
             canonical: Callable[[Any], Any]) -> int:
    """Anonymise, in place, the rows of erased callers and the kinds past their retention;
    `canonical` makes a row's `raw` (and its digest) from the new record. Returns the rows
    changed. Called inside the batch's transaction."""
    hold_shared(environment.pk)
    org_id = environment.organization_id
    hashes = tombstones(org_id)
    days = retention_days(org_id)
    if not rows or not (hashes or days):
        return 0
    region = region_of_timezone(environment.organization.timezone)
    now = timezone.now()
    cutoffs = {kind: now - timedelta(days=n) for kind, n in days.items()}
    changed = 0
    for row in rows:
        subject = _subject(row, hashes, region) if hashes else None
        kinds = frozenset(k for k, cut in cutoffs.items()
                          if row.get("started_at") is not None and row["started_at"] < cut)
        if subject is None and not kinds:
            continue
        raw = getattr(row.get("raw"), "value", row.get("raw"))
        columns = {c: row[c] for c in CALL_COLUMNS if c in row}
        if subject is not None:
            columns, raw = erase_call(columns, raw, subject, region)
        if kinds:
            columns, raw = strip_call(columns, raw, kinds,
                                      lambda value: retention_token(value, region))
        row.update(columns)
        made = canonical(raw)
        row["raw"], row["payload_hash"] = made, made.digest
        changed += 1
    return changed


def _subject(row: dict[str, Any], hashes: frozenset[str], region: str | None
             ) -> Subject | None:
    for column in ("from_number", "to_number"):
        e164 = stored_e164(row.get(column) or "", region)
        if e164 is not None and number_hash(e164) in hashes:
            return Subject.of(e164)
    return None


def scrub_rejected(environment: Environment, payload: Any) -> Any:
    """A record about to be quarantined, with every erased number in it replaced."""
    hashes = tombstones(environment.organization_id)
    if not hashes:
        return payload
    region = region_of_timezone(environment.organization.timezone)
    subjects: dict[str, Subject] = {}
    for text in _strings(payload):
        for found in _NUMBER_LIKE.findall(text):
            e164 = stored_e164(found.strip(), region)
            if e164 is not None and e164 not in subjects and number_hash(e164) in hashes:
                subjects[e164] = Subject.of(e164)
    return scrub_value(payload, list(subjects.values())) if subjects else payload


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                yield key
            yield from _strings(item)
