"""The completeness ledger: per environment and UTC day, what the mirror holds against what
the upstream said at the last check, and when the day was last read whole.

Written by the Talkover calls stream (`sync.write.ledger`): each cheap check of a day (one
`pagination.total`) and each whole read of it. Coverage and the sync page read it: a day
whose counts disagree is named as being re-read; an agreeing day says when it was
reconciled.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.tenancy.registry import TenantModel


class CallDayLedger(TenantModel):
    """One environment's calls of one upstream (UTC) day: mirrored vs upstream counts."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="call_day_ledger", verbose_name=_("environment"))
    day = models.DateField(_("day"))
    # Calls in the mirror, and records of the day kept in quarantine (read, not stored).
    mirrored = models.PositiveIntegerField(_("mirrored"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # The upstream's `pagination.total` for the day at the last check (None: never checked),
    # and when that count was taken: after the run's last listing of the day.
    upstream = models.PositiveIntegerField(_("upstream"), null=True, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    # The last time every page of the day was read (a back-fill, a re-read, a reconciliation).
    reconciled_at = models.DateTimeField(_("reconciled at"), null=True, blank=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "day"], name="calldayledger_key"),
        ]
        verbose_name = _("call day ledger")
        verbose_name_plural = _("call day ledger")

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day}: {self.mirrored}/{self.upstream}"

    @property
    def agrees(self) -> bool:
        """The mirror accounts for exactly the calls the upstream counted at the last check. A
        mirror holding more agrees with nothing: the count is stale, or calls left."""
        return self.upstream is None or self.mirrored + self.rejected == self.upstream
