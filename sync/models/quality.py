"""The voice-quality rollup of Origins AI calls: one row per environment, local day and agent.

Written by `sync.write.quality_rollups` in the same transaction as the call rollups, for exactly the
days the sync touched, so the Quality report's cost grows with the days in range, not with
the calls. Every figure keeps how many calls reported it, so a report can say "not reported"
instead of 0: latency is a fixed histogram (`LATENCY_BUCKETS`, mergeable across agents and
days: p50 / p90 are read from the sum), the breakdowns are {value as sent: calls} maps.
"""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.tenancy.registry import TenantModel

# Upper bounds (inclusive, milliseconds) of the latency histogram; the last bucket is open.
# 100 ms steps where voice agents live (a p50 within 100 ms), wider above 2 s.
LATENCY_BUCKETS: tuple[int, ...] = (
    *range(100, 2001, 100), 2500, 3000, 4000, 5000, 7500, 10000,
)
LATENCY_BUCKET_COUNT = len(LATENCY_BUCKETS) + 1


class QualityDayRollup(TenantModel):
    """Voice-quality figures of one agent's Origins calls on one local day."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="quality_rollups", verbose_name=_("environment"))
    day = models.DateField(verbose_name=_("day"))
    agent_external_id = models.CharField(max_length=255, blank=True, default="",
                                         verbose_name=_("agent external ID"))
    calls = models.PositiveIntegerField(default=0, verbose_name=_("calls"))
    # Calls whose latency was reported, their histogram and their largest value.
    latency_calls = models.PositiveIntegerField(default=0, verbose_name=_("latency calls"))
    latency_hist = models.JSONField(default=list, verbose_name=_("latency hist"))
    latency_max = models.PositiveIntegerField(default=0, verbose_name=_("latency max"))
    # Calls whose billed duration was reported, and its sum in seconds.
    billed_calls = models.PositiveIntegerField(default=0, verbose_name=_("billed calls"))
    billed_seconds = models.FloatField(default=0.0, verbose_name=_("billed seconds"))
    # {value as sent: calls}; calls that did not report the field are not in the map.
    hangup_sources = models.JSONField(default=dict, verbose_name=_("hangup sources"))
    hangup_causes = models.JSONField(default=dict, verbose_name=_("hangup causes"))
    sentiments = models.JSONField(default=dict, verbose_name=_("sentiments"))
    insights = models.JSONField(default=dict, verbose_name=_("insights"))

    class Meta:
        verbose_name = _("quality day rollup")
        verbose_name_plural = _("quality day rollups")
        constraints = [
            models.UniqueConstraint(fields=["environment", "day", "agent_external_id"],
                                    name="qualitydayrollup_key")
        ]
        indexes = [models.Index(fields=["environment", "day"], name="qualityrollup_env_day")]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day} {self.agent_external_id}"
