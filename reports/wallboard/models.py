"""Where a wallboard tile turns amber or red: one row per organisation, edited by its admins
(`/o/<slug>/live/thresholds/`). Without a row the defaults below hold, so a new
organisation's board colours itself from the first day."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Organization
from portal.tenancy.registry import StrictTenantModel

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class WallboardThresholds(StrictTenantModel):
    organization = models.OneToOneField(Organization, on_delete=models.CASCADE,
                                        related_name="wallboard_thresholds",
                                        verbose_name=_("organization"))
    answer_rate_amber = models.PositiveSmallIntegerField(
        _("answer rate: amber below (%)"), default=80, validators=PERCENT)
    answer_rate_red = models.PositiveSmallIntegerField(
        _("answer rate: red below (%)"), default=60, validators=PERCENT)
    waiting_amber = models.PositiveIntegerField(_("callbacks waiting: amber from"), default=5)
    waiting_red = models.PositiveIntegerField(_("callbacks waiting: red from"), default=15)
    oldest_wait_amber = models.PositiveIntegerField(
        _("oldest wait: amber from (minutes)"), default=30)
    oldest_wait_red = models.PositiveIntegerField(
        _("oldest wait: red from (minutes)"), default=120)
    # An answer rate of fewer calls than this colours nothing: one unanswered call of two
    # is not a red agent.
    min_calls = models.PositiveIntegerField(
        _("fewest calls for an answer rate's colour"), default=5,
        validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("wallboard thresholds")
        verbose_name_plural = _("wallboard thresholds")

    def __str__(self) -> str:
        return str(_("Wallboard thresholds"))

    def clean(self) -> None:
        if self.answer_rate_red > self.answer_rate_amber:
            raise ValidationError({"answer_rate_red": _(
                "Red must be at or below amber: a lower answer rate is worse.")})
        if self.waiting_red < self.waiting_amber:
            raise ValidationError({"waiting_red": _("Red must be at or above amber.")})
        if self.oldest_wait_red < self.oldest_wait_amber:
            raise ValidationError({"oldest_wait_red": _("Red must be at or above amber.")})

    @classmethod
    def of(cls, organization: Organization) -> WallboardThresholds:
        """The organisation's thresholds, or the defaults (not saved)."""
        found = cls.objects.for_organization(organization).first()
        return found or cls(organization=organization)

    def rate_state(self, rate: float | None, calls: int) -> str:
        """"ok", "amber" or "red" for an answer rate (0–1) of `calls` calls; "" when there
        are too few calls to judge."""
        if rate is None or calls < self.min_calls:
            return ""
        percent = 100 * rate
        if percent < self.answer_rate_red:
            return "red"
        return "amber" if percent < self.answer_rate_amber else "ok"

    def waiting_state(self, waiting: int | None, oldest_minutes: int | None) -> str:
        """The worse of the count's and the oldest wait's colours."""
        if waiting is None:
            return ""
        minutes = oldest_minutes or 0
        if waiting >= self.waiting_red or (waiting and minutes >= self.oldest_wait_red):
            return "red"
        if waiting >= self.waiting_amber or (waiting and minutes >= self.oldest_wait_amber):
            return "amber"
        return "ok"
