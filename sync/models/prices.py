"""An agent's prices as the vendor served them, kept with their dates.

A provider that serves only the current plan's prices has its price source read them once a
UTC day per agent (`sync.agent_prices`; Talkover's source: `sync.providers.talkover.prices`),
keeping a row per price change, so a past call is priced with the snapshot in force on its
day (the outcome report's `estimate`).
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.tenancy.registry import TenantModel


class AgentPrice(TenantModel):
    """One agent's price from `valid_from` (the UTC day it was first read at this price) until
    the next row's; `checked_on`: the last day it was read unchanged."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="agent_prices", verbose_name=_("environment"))
    agent_external_id = models.CharField(max_length=255, verbose_name=_("agent external ID"))
    valid_from = models.DateField(verbose_name=_("valid from"))
    checked_on = models.DateField(verbose_name=_("checked on"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    # The vendor's `estimated_cost_per_minute`, exact as sent.
    per_minute = models.DecimalField(max_digits=14, decimal_places=8,
                                     verbose_name=_("estimated cost per minute"))
    components = models.JSONField(default=dict, blank=True, verbose_name=_("components"))
    calculated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("calculated at"))

    class Meta:
        verbose_name = _("agent price")
        verbose_name_plural = _("agent prices")
        ordering = ["environment", "agent_external_id", "-valid_from"]
        constraints = [models.UniqueConstraint(
            fields=["environment", "agent_external_id", "valid_from"], name="agent_price_day")]

    def __str__(self) -> str:
        return f"{self.agent_external_id} {self.per_minute} {self.currency} from {self.valid_from}"
