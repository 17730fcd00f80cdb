"""The KPI report's per-day rollup (`reports.queries.kpis`, kept by `sync.write.kpi_rollups`)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.tenancy.registry import TenantModel

# The counts of `KpiDayRollup`, each the number of the day's calls in the
# `reports.kpi_groups.KPI_CALLS` group of its name ("calls": every non-test call).
KPI_COUNT_COLUMNS: tuple[str, ...] = (
    "calls", "answered", "inbound", "abandoned", "voicemail", "transferred", "contained",
    "timed", "evaluated", "succeeded")


class KpiDayRollup(TenantModel):
    """The non-test calls of one environment, local day and agent: the KPI report's sums
    (`KPI_COUNT_COLUMNS`, the talk seconds of answered calls, the seconds to answer of timed
    ones) and the day's peak concurrency, of the environment and of the agent, read at the
    starts of the day's calls. A peak counts the calls in progress that started since the
    previous local day began (`peak`, `agent_peak`) or since this day began (`peak_own`,
    `agent_peak_own`: the first day of a report's range, whose calls from before it are not
    read)."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="kpi_rollups", verbose_name=_("environment"))
    day = models.DateField(verbose_name=_("day"))
    agent_external_id = models.CharField(max_length=255, blank=True, default="",
                                         verbose_name=_("agent external ID"))
    calls = models.PositiveIntegerField(default=0, verbose_name=_("calls"))
    answered = models.PositiveIntegerField(default=0, verbose_name=_("answered"))
    inbound = models.PositiveIntegerField(default=0, verbose_name=_("inbound"))
    abandoned = models.PositiveIntegerField(default=0, verbose_name=_("abandoned"))
    voicemail = models.PositiveIntegerField(default=0, verbose_name=_("voicemail"))
    transferred = models.PositiveIntegerField(default=0, verbose_name=_("transferred"))
    contained = models.PositiveIntegerField(default=0, verbose_name=_("contained"))
    timed = models.PositiveIntegerField(default=0, verbose_name=_("answered with an answer time"))
    evaluated = models.PositiveIntegerField(default=0, verbose_name=_("judged"))
    succeeded = models.PositiveIntegerField(default=0, verbose_name=_("judged successful"))
    handle_seconds = models.BigIntegerField(default=0, verbose_name=_("handle seconds"))
    # Exact (microseconds): summed per day as the calls' seconds were.
    answer_seconds = models.DecimalField(max_digits=24, decimal_places=6, default=0,
                                         verbose_name=_("seconds to answer"))
    peak = models.PositiveIntegerField(default=0, verbose_name=_("peak concurrency"))
    peak_own = models.PositiveIntegerField(default=0,
                                           verbose_name=_("peak concurrency of the day alone"))
    agent_peak = models.PositiveIntegerField(default=0,
                                             verbose_name=_("agent's peak concurrency"))
    agent_peak_own = models.PositiveIntegerField(
        default=0, verbose_name=_("agent's peak concurrency of the day alone"))

    class Meta:
        verbose_name = _("KPI day rollup")
        verbose_name_plural = _("KPI day rollups")
        constraints = [
            models.UniqueConstraint(fields=["environment", "day", "agent_external_id"],
                                    name="kpidayrollup_key")
        ]
        indexes = [models.Index(fields=["environment", "day"], name="kpirollup_env_day")]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day} {self.agent_external_id}"
