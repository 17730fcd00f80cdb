"""Erased callers and per-kind retention: what the privacy side of the sync keeps.

None of these holds a phone number: a tombstone and an erasure hold its keyed hash
(`sync.privacy.keys`), never the number, so the log of an erasure is not itself personal data.
"""
from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Organization
from portal.models.base import member_reference
from portal.tenancy.registry import TenantModel


class CallerTombstone(TenantModel):
    """An erased number of an organisation: every later sync anonymises its calls on arrival
    (`sync.privacy.arrival`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="caller_tombstones",
                                     verbose_name=_("organization"))
    number_hash = models.CharField(_("number hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("caller tombstone")
        verbose_name_plural = _("caller tombstones")
        constraints = [models.UniqueConstraint(fields=["organization", "number_hash"],
                                               name="callertombstone_once")]

    def __str__(self) -> str:
        return self.number_hash[:16]


class Erasure(TenantModel):
    """One erasure: who, when, how many calls per environment, the number's hash."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="erasures", verbose_name=_("organization"))
    number_hash = models.CharField(_("number hash"), max_length=64, db_index=True)
    actor = member_reference(_("erased by"))
    # "portal", "api" or "command".
    source = models.CharField(_("source"), max_length=16, default="command")
    created_at = models.DateTimeField(_("erased at"), default=timezone.now)
    # {"<environment id>": {"name": …, "calls": n, "mentions": n}}: the caller's calls, and
    # other calls whose text only mentioned the number.
    environments = models.JSONField(_("calls per environment"), default=dict, blank=True)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    # Rows outside the calls that held the number (rejected records, alerts, saved views…).
    other_rows = models.PositiveIntegerField(_("other rows"), default=0)
    # Whether the organisation's cached reports and pages were deleted (else they expire).
    cache_purged = models.BooleanField(_("cache purged"), default=False)

    class Meta:
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.number_hash[:16]} ({self.calls})"


class PrivacyRetention(TenantModel):
    """How many days an organisation keeps each kind of personal data (None: as long as the
    call). Set only by an owner; older calls lose that kind in place (`sync.privacy.retention`).

    `done` remembers, per environment and kind, the start before which calls are anonymised
    already: {"<environment id>": {"transcripts": "2026-…", …}}.
    """

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE,
                                        related_name="privacy_retention",
                                        verbose_name=_("organization"))
    transcripts_days = models.PositiveIntegerField(_("keep transcripts for (days)"), null=True,
                                                   blank=True)
    recordings_days = models.PositiveIntegerField(_("keep recording links for (days)"),
                                                  null=True, blank=True)
    numbers_days = models.PositiveIntegerField(_("keep phone numbers for (days)"), null=True,
                                               blank=True)
    done = models.JSONField(_("anonymised up to"), default=dict, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("privacy retention")
        verbose_name_plural = _("privacy retention")

    def __str__(self) -> str:
        return str(self.organization)

    def days(self) -> dict[str, int]:
        """{kind: days} for the kinds with a limit."""
        found = {"transcripts": self.transcripts_days, "recordings": self.recordings_days,
                 "numbers": self.numbers_days}
        return {kind: days for kind, days in found.items() if days is not None}
