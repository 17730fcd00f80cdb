"""Bulk upserts that classify every row as created, updated or unchanged.

One SELECT fetches the stored hashes of a batch's keys; only new and changed rows are
written, in one `INSERT … ON CONFLICT DO UPDATE` per batch. Never a query per row.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from portal.models import Environment


def payload_hash(payload: Any) -> str:
    """A stable digest of a JSON value (key order does not matter)."""
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.md5(raw.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Counts:
    """Rows created / updated / unchanged / rejected by one or more writes."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected += other.rejected
        return self

    @property
    def changed(self) -> int:
        return self.created + self.updated


def upsert(model: type[models.Model], environment: Environment, objs: list[Any], *,
           key: str, update_fields: list[str]) -> tuple[Counts, list[Any]]:
    """Write `objs` (unsaved instances carrying `payload_hash`) keyed by (environment, key).

    Returns the counts and the objects actually written. Later duplicates of a key win.
    """
    unique: dict[Any, Any] = {}
    for obj in objs:
        unique[getattr(obj, key)] = obj
    counts = Counts()
    if not unique:
        return counts, []
    stored = dict(
        model.objects.filter(environment=environment, **{f"{key}__in": list(unique)})
        .values_list(key, "payload_hash")
    )
    now = timezone.now()
    write = []
    for k, obj in unique.items():
        old = stored.get(k)
        if old is None:
            counts.created += 1
        elif old != obj.payload_hash:
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        if hasattr(obj, "last_changed_at"):
            obj.last_changed_at = now
        write.append(obj)
    if write:
        model.objects.bulk_create(
            write, batch_size=500, update_conflicts=True,
            unique_fields=["environment", key], update_fields=update_fields,
        )
    return counts, write
