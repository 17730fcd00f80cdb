"""Scheduled emailed summaries: who gets which report when, and what was sent for each period."""
from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Environment, Organization, validate_timezone
from portal.models.base import Timestamped, member_reference
from portal.tenancy import registry as tenancy
from portal.tenancy.registry import StrictTenantModel
from reports.summaries.schedule import Cadence, next_run_for


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Language(models.TextChoices):
    EN = "en", "English"
    PT_BR = "pt-br", "Português (Brasil)"


class ReportSubscription(Timestamped, StrictTenantModel):
    """A summary emailed on a cadence, at a local hour, to members and/or plain addresses.

    `next_run_at` (UTC) is the next scheduled send; the dispatcher moves it with a conditional
    UPDATE before it sends, so two dispatchers never claim the same run.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="report_subscriptions",
        verbose_name=_("organization"),
    )
    name = models.CharField(max_length=200, default="Weekly summary", verbose_name=_("name"))
    all_environments = models.BooleanField(
        default=True, help_text=_("Include every environment, also ones added later."),
        verbose_name=_("all environments"),
    )
    environments = models.ManyToManyField(Environment, blank=True, related_name="+",
                                          verbose_name=_("environments"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="report_subscriptions",
        verbose_name=_("members"),
    )
    # Plain addresses (people without an account), lower-cased, unique.
    addresses = models.JSONField(default=list, blank=True, verbose_name=_("addresses"))
    # The team whose figures plain addresses get (none: the whole organisation); members get
    # their own scope, as themselves (reports.summaries.recipients, docs/teams.md).
    team = models.ForeignKey("portal.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("team"))
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.WEEKLY,
                               verbose_name=_("cadence"))
    weekday = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY, help_text=_("Weekly summaries only."),
        verbose_name=_("weekday"),
    )
    hour = models.PositiveSmallIntegerField(
        default=8, help_text=_("Local hour (0–23) in the subscription's timezone."),
        verbose_name=_("hour"),
    )
    # Empty: the organisation's timezone (followed if the organisation changes it).
    timezone = models.CharField(max_length=64, blank=True, default="", verbose_name=_("timezone"))
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN,
                                verbose_name=_("language"))
    attach_csv = models.BooleanField(default=True, verbose_name=_("attach CSV"))
    skip_if_no_calls = models.BooleanField(default=False, verbose_name=_("skip if no calls"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                       verbose_name=_("next run at"))
    created_by = member_reference(_("created by"))

    class Meta:
        verbose_name = _("report subscription")
        verbose_name_plural = _("report subscriptions")
        ordering = ["organization__name", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hour__gte=0, hour__lte=23), name="subscription_hour"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="subscription_weekday"
            ),
        ]
        indexes = [models.Index(fields=["active", "next_run_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    def save(self, *args, **kwargs) -> None:
        if self.timezone:
            validate_timezone(self.timezone)
        if self.active and self.next_run_at is None:
            self.reschedule()
        super().save(*args, **kwargs)

    def reschedule(self, now: datetime | None = None) -> None:
        """Set `next_run_at` from the current cadence, hour and timezone (None if inactive)."""
        self.next_run_at = next_run_for(self, now or timezone.now()) if self.active else None

    @property
    def tz_name(self) -> str:
        return self.timezone or self.organization.timezone

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.tz_name)

    def selected_environments(self) -> list[Environment]:
        """The environments this summary covers, in display order."""
        envs = Environment.objects.for_organization(self.organization)
        if not self.all_environments:
            envs = envs.filter(pk__in=self.environments.values("pk"))
        return list(envs.select_related("organization").order_by("name"))

    def recipient_emails(self) -> list[str]:
        """Members' addresses (still members of the organisation) then plain addresses."""
        emails = [
            u.email.lower()
            for u in tenancy.scope(self.members.all(), self.organization)
            .exclude(email="")
            .order_by("email")
        ]
        for address in self.addresses:
            if address.lower() not in emails:
                emails.append(address.lower())
        return emails


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Will retry")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class ReportDelivery(StrictTenantModel):
    """One summary for one period: recorded before anything is sent, unique per period.

    `recipients` maps each address to {"status", "error", "at"}: a recipient is marked
    "sending" before its message goes out, so after a crash we know whom not to send again.
    Test sends (`is_test`) are outside the uniqueness rule.
    """

    subscription = models.ForeignKey(
        ReportSubscription, on_delete=models.CASCADE, related_name="deliveries",
        verbose_name=_("subscription"),
    )
    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(help_text=_("Last day included."), verbose_name=_("period end"))
    scheduled_for = models.DateTimeField(null=True, blank=True, verbose_name=_("scheduled for"))
    is_test = models.BooleanField(default=False, verbose_name=_("is test"))
    requested_by = member_reference(_("requested by"))
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
        verbose_name=_("status"),
    )
    recipients = models.JSONField(default=dict, blank=True, verbose_name=_("recipients"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("report delivery")
        ordering = ["-created_at", "-id"]
        verbose_name_plural = _("report deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=Q(is_test=False),
                name="delivery_once_per_period",
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        kind = f"{_('test')} " if self.is_test else ""
        period = f"{self.period_start}–{self.period_end}"
        return f"{kind}{self.subscription.name} {period}: {self.get_status_display()}"

