"""The personal fields outside the call rows: every text or JSON column that may hold a
caller's number, in any app. An erasure rewrites each mention in them (`scrub_value`).

The list is open: an app adds its own fields in its `AppConfig.ready` with `register`
(`reports` adds alert snapshots and saved views; a callback link table adds its number
columns the same way, e.g. `register("sync.CallbackLink", "caller_number")`). The call rows
themselves are erased by `sync.privacy.erase` (they keep their counting columns).

Rows are read through `Model.objects.for_organization` (the tenancy registry says how each
model reaches its organisation), so an erasure only touches the erasing organisation's rows.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models


@dataclass(frozen=True)
class PersonalField:
    model: str  # "app_label.Model"
    field: str

    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)


PERSONAL_FIELDS: list[PersonalField] = [
    # Quarantined records keep the upstream payload whole, and their reason may quote a value.
    PersonalField("sync.RejectedRecord", "payload"),
    PersonalField("sync.RejectedRecord", "reason"),
    PersonalField("sync.RejectedRecord", "upstream_id"),
    # A run's error and notes may quote a value the upstream sent.
    PersonalField("sync.SyncRun", "error"),
    PersonalField("sync.SyncRun", "details"),
]


def register(model: str, field: str) -> None:
    """Add a personal field (idempotent): any text or JSON column of a tenant model."""
    entry = PersonalField(model, field)
    if entry not in PERSONAL_FIELDS:
        PERSONAL_FIELDS.append(entry)


def personal_fields() -> list[PersonalField]:
    return list(PERSONAL_FIELDS)
