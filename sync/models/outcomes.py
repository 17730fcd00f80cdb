"""The outcome report's per-day rollup (`reports.queries.outcomes`, kept by `sync.outcomes`) and
the numbers an organisation leaves out of resolution (`sync.excluded_numbers`)."""
from __future__ import annotations

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from portal.models import Environment, Organization
from portal.tenancy.registry import TenantModel

# A settled answered call is a repeat contact for window `w` days when its next contact
# starts less than `w` days after it: `repeat_NN` counts the calls whose next contact is
# NN-1 to NN days after them (NN = 1..30, `sync.outcomes.HORIZON_DAYS`), so any window reads
# the sum of its first `w` columns and a change of window recomputes nothing.
REPEAT_COLUMNS = tuple(f"repeat_{d:02d}" for d in range(1, 31))
# The same of the answered calls with a number the vendor judged successful (`succeeded`):
# the KPI report's "successful, then came back" (`reports.queries.kpis`).
SUCCEEDED_REPEAT_COLUMNS = tuple(f"succeeded_repeat_{d:02d}" for d in range(1, 31))


class OutcomeDayRollup(TenantModel):
    """The non-test calls of one environment, local day, UTC day (the price's day), agent and
    direction: what the outcome report sums for every day older than the window (whose
    calls are all settled) or younger (all pending); the day the window's edge falls in is
    read from the calls. Counts that do not depend on the time of reading only."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="outcome_rollups",
                                    verbose_name=_("environment"))
    day = models.DateField(verbose_name=_("day"))
    utc_day = models.DateField(verbose_name=_("UTC day"))
    agent_external_id = models.CharField(max_length=255, blank=True, default="",
                                         verbose_name=_("agent external ID"))
    direction = models.CharField(max_length=32, blank=True, default="",
                                 verbose_name=_("direction"))
    calls = models.PositiveIntegerField(default=0, verbose_name=_("calls"))
    # Answered (or completed) with a number to match: settled or pending, never neither.
    answered = models.PositiveIntegerField(default=0, verbose_name=_("answered"))
    # Answered (or completed) with no number to match (a web call): answered in every report,
    # never settled nor pending.
    answered_no_number = models.PositiveIntegerField(
        default=0, verbose_name=_("answered without a number"))
    # Of those, the ones the vendor judged successful.
    succeeded = models.PositiveIntegerField(default=0, verbose_name=_("judged successful"))
    vendor_costed = models.PositiveIntegerField(default=0,
                                                verbose_name=_("calls with a vendor cost"))
    vendor_cost = models.DecimalField(max_digits=30, decimal_places=10, default=0,
                                      verbose_name=_("vendor cost"))
    # Calls without the vendor's cost, and their billed (else talk) seconds: priced when read.
    unpriced = models.PositiveIntegerField(default=0, verbose_name=_("calls without a vendor cost"))
    unpriced_seconds = models.DecimalField(max_digits=40, decimal_places=12, default=0,
                                           verbose_name=_("seconds without a vendor cost"))
    currencies = models.CharField(max_length=255, blank=True, default="",
                                  verbose_name=_("currencies"))

    class Meta:
        verbose_name = _("outcome day rollup")
        verbose_name_plural = _("outcome day rollups")
        constraints = [
            models.UniqueConstraint(fields=["environment", "day", "utc_day",
                                            "agent_external_id", "direction"],
                                    name="outcomedayrollup_key")
        ]
        indexes = [models.Index(fields=["environment", "day"], name="outcomerollup_env_day")]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day} {self.agent_external_id}"


for _number, _column in enumerate(REPEAT_COLUMNS, start=1):
    # Signed: a call written since its day was last counted moves between these columns
    # before its day is recounted (`sync.outcomes`: THE ROLLUP).
    OutcomeDayRollup.add_to_class(_column, models.IntegerField(
        default=0, verbose_name=format_lazy(_("next contact on day {}"), _number)))
    OutcomeDayRollup.add_to_class(SUCCEEDED_REPEAT_COLUMNS[_number - 1], models.IntegerField(
        default=0, verbose_name=format_lazy(_("next contact of a successful call on day {}"),
                                            _number)))


# At most this many numbers an organisation leaves out, each at most this many digits (an
# E.164 number has 15; a trunk's or an extension's prefix a few more).
MAX_EXCLUDED_NUMBERS = 200
MAX_EXCLUDED_DIGITS = 20


class ExcludedNumber(TenantModel):
    """A number an organisation leaves out of resolution (a test line, a trunk, a withheld
    caller id with digits, its own switchboard): its calls have no number to match, as a
    web call has none, and are nobody's next contact (`sync.excluded_numbers`). Stored as
    its digits, the contact's own normalisation (`sync.outcomes.contact_key`)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="excluded_numbers",
                                     verbose_name=_("organization"))
    digits = models.CharField(_("number (digits)"), max_length=MAX_EXCLUDED_DIGITS)
    label = models.CharField(_("label"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("number left out of resolution")
        verbose_name_plural = _("numbers left out of resolution")
        ordering = ["organization", "digits"]
        constraints = [models.UniqueConstraint(fields=["organization", "digits"],
                                               name="excludednumber_org_digits")]

    def __str__(self) -> str:
        return f"{self.digits} {self.label}".strip()
