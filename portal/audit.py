"""One helper to write the audit log, so every caller records the same fields."""
from __future__ import annotations

from typing import Any

from django.db import models

from portal.models import AuditLog, Organization


def record(
    action: str,
    *,
    actor=None,
    organization: Organization | None = None,
    target: models.Model | None = None,
    **details: Any,
) -> AuditLog:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditLog.objects.create(
        action=action,
        actor=actor,
        organization=organization,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:200] if target is not None else "",
        details=details,
    )
