"""An organisation's holidays: local days whose calls are a Sunday's, not their weekday's.

The anomaly alerts on calls read them (`reports.alerts.anomaly` → `counts.CountSeries`): an
hour of a holiday is judged against the same hour of past Sundays, and a past holiday is left
out of every baseline. Owners and admins keep the list on Settings → Holidays
(`reports.holidays.views`) or in the admin.
"""
from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Organization
from portal.tenancy.registry import StrictTenantModel

# Years of one country's public holidays (about a dozen a year) with room for local ones.
MAX_HOLIDAYS = 400
MAX_NAME = 100


class Holiday(StrictTenantModel):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="holidays", verbose_name=_("organization"))
    day = models.DateField(_("day"))
    name = models.CharField(_("name"), max_length=MAX_NAME)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["organization", "day"]
        constraints = [models.UniqueConstraint(fields=["organization", "day"],
                                               name="holiday_org_day")]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name}"


def holidays_of(organization: Organization) -> frozenset[date]:
    """The organisation's holidays (local days), as the count model takes them."""
    return frozenset(Holiday.objects.for_organization(organization)
                     .values_list("day", flat=True))
