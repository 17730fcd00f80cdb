"""Rejected upstream records: what the sync read but could not store as sent, kept whole.

One row per (environment, stream, fingerprint): the fingerprint is the upstream id when the
record has a usable one (so a record rejected again on each run stays one row), else the
day (callback stats) or a digest of the payload. A later run that reads the record in a
storable shape deletes its row (`sync.quarantine`).
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.tenancy.registry import TenantModel
from sync.stream_names import Stream


class RejectedRecord(TenantModel):
    """One upstream record the sync refused, with why and when."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="rejected_records", verbose_name=_("environment"))
    stream = models.CharField(_("stream"), max_length=16, choices=Stream.choices)
    # The UTC day the record was read for (Talkover calls and callback stats), if any.
    day = models.DateField(_("day"), null=True, blank=True)
    upstream_id = models.CharField(_("upstream id"), max_length=255, blank=True, default="")
    fingerprint = models.CharField(max_length=32, verbose_name=_("fingerprint"))
    # The record as JSON text with ASCII escapes: a NUL stays "\u0000", which neither a
    # PostgreSQL text nor a JSONB column could hold as a character.
    payload = models.TextField(_("payload"))
    reason = models.CharField(_("reason"), max_length=500)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    run = models.ForeignKey("sync.SyncRun", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="rejected_records", verbose_name=_("run"))

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "stream", "fingerprint"],
                                    name="rejectedrecord_key"),
        ]
        indexes = [models.Index(fields=["environment", "stream", "day"],
                                name="rejectedrecord_env_day")]
        verbose_name = _("rejected record")
        verbose_name_plural = _("rejected records")

    def __str__(self) -> str:
        return (f"{self.get_stream_display()} {self.upstream_id or self.day or self.fingerprint}: "
                f"{self.reason}")
