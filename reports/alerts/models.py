"""Alert rules and their history (models of the `reports` app, named in reports/models/)."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal import crypto
from portal.bounds import StorableDateTimeField
from portal.models import Environment, Organization
from portal.models.base import Timestamped, member_reference
from portal.tenancy import registry as tenancy
from portal.tenancy.registry import StrictTenantModel
from reports.alerts.counts import DEFAULT_MIN_EXPECTED


class Metric(models.TextChoices):
    CALLS = "calls", _("Calls")
    ANSWER_RATE = "answer_rate", _("Answer rate (%)")
    FAILED_RATE = "failed_rate", _("Failed rate (%)")
    NO_ANSWER_RATE = "no_answer_rate", _("No-answer rate (%)")
    AVG_TALK_TIME = "avg_talk_time", _("Average talk time (s)")
    CALLBACKS_UNMATCHED_RATE = "callbacks_unmatched_rate", _("Unmatched callbacks (%)")
    CALLBACKS_ANSWERED_RATE = "callbacks_answered_rate", _("Answered callbacks (%)")
    # The callback funnel (sync.callback_links): outbound calls not answered that were called
    # back, and the median time from such a call to its callback.
    CALLBACK_RATE = "callback_rate", _("Callback rate (%)")
    MEDIAN_TIME_TO_CALLBACK = "median_time_to_callback", _("Median time to callback (min)")
    # The outcome report (reports.queries.outcomes): the calls' cost, what a resolved call
    # costs, and the share of settled answered calls whose caller came back.
    COST = "cost", _("Cost")
    COST_PER_RESOLVED = "cost_per_resolved", _("Cost per resolved call")
    REPEAT_CONTACT_RATE = "repeat_contact_rate", _("Repeat-contact rate (%)")
    # The KPI report (reports.queries.kpis): the vendor's success judgement, transfers,
    # abandoned inbound calls and the most calls at once.
    SUCCESS_RATE = "success_rate", _("Success rate (%)")
    TRANSFER_RATE = "transfer_rate", _("Transfer rate (%)")
    ABANDON_RATE = "abandon_rate", _("Abandon rate (%)")
    PEAK_CONCURRENCY = "peak_concurrency", _("Peak concurrency")
    MINUTES_SINCE_SYNC = "minutes_since_sync", _("Minutes since the last sync")
    TOKEN_REJECTED = "token_rejected", _("Environments whose token was rejected")


# Figures that are shares of calls (or callbacks): judged only over `min_calls` or more.
RATE_METRICS = frozenset({
    Metric.ANSWER_RATE, Metric.FAILED_RATE, Metric.NO_ANSWER_RATE, Metric.AVG_TALK_TIME,
    Metric.CALLBACKS_UNMATCHED_RATE, Metric.CALLBACKS_ANSWERED_RATE, Metric.CALLBACK_RATE,
    Metric.MEDIAN_TIME_TO_CALLBACK, Metric.COST_PER_RESOLVED, Metric.REPEAT_CONTACT_RATE,
    Metric.SUCCESS_RATE, Metric.TRANSFER_RATE, Metric.ABANDON_RATE,
})
# Read from the KPI report over the window's local days (daily windows only).
KPI_METRICS = frozenset({Metric.SUCCESS_RATE, Metric.TRANSFER_RATE, Metric.ABANDON_RATE,
                         Metric.PEAK_CONCURRENCY})
CALLBACK_METRICS = frozenset({Metric.CALLBACKS_UNMATCHED_RATE, Metric.CALLBACKS_ANSWERED_RATE,
                              Metric.CALLBACK_RATE, Metric.MEDIAN_TIME_TO_CALLBACK})
# Read from the callback funnel's links (the others of CALLBACK_METRICS: the vendor's stats).
FUNNEL_METRICS = frozenset({Metric.CALLBACK_RATE, Metric.MEDIAN_TIME_TO_CALLBACK})
# Read from the outcome report's sums over the window's calls.
OUTCOME_METRICS = frozenset({Metric.COST, Metric.COST_PER_RESOLVED, Metric.REPEAT_CONTACT_RATE})
# Judged on calls whose outcome is known: their window ends the organisation's resolution
# window ago (a call younger than that is pending, counted neither way), and `min_calls`
# counts settled answered calls.
SETTLED_METRICS = frozenset({Metric.COST_PER_RESOLVED, Metric.REPEAT_CONTACT_RATE})
# About the mirror itself: judged on every evaluation, never "not mirrored".
HEALTH_METRICS = frozenset({Metric.MINUTES_SINCE_SYNC, Metric.TOKEN_REJECTED})


class Window(models.TextChoices):
    HOUR = "1h", _("Last hour")
    DAY_ROLLING = "24h", _("Last 24 hours")
    WEEK = "7d", _("Last 7 complete days")
    DAY = "day", _("Last complete day")


# Windows read from the daily rollups; the others from indexed calls.
DAILY_WINDOWS = frozenset({Window.WEEK, Window.DAY})


class Condition(models.TextChoices):
    ABOVE = "above", _("above")
    BELOW = "below", _("below")
    CHANGE_ABOVE_PCT = "change_above_pct", _("rises by more than (%)")
    CHANGE_BELOW_PCT = "change_below_pct", _("falls by more than (%)")
    ANOMALY = "anomaly", _("is unusual for the hour of the week")


CHANGE_CONDITIONS = frozenset({Condition.CHANGE_ABOVE_PCT, Condition.CHANGE_BELOW_PCT})
# The metrics the `anomaly` condition judges: those the hourly rollups hold (see
# reports.alerts.hourly); talk time and callbacks have no hourly figures.
ANOMALY_METRICS = frozenset({Metric.CALLS, Metric.ANSWER_RATE, Metric.FAILED_RATE,
                             Metric.NO_ANSWER_RATE})


class Sensitivity(models.TextChoices):
    LOW = "low", _("Low: only striking departures")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High: smaller departures too")


class AnomalyDirection(models.TextChoices):
    BELOW = "below", _("lower than usual")
    ABOVE = "above", _("higher than usual")


class CompareTo(models.TextChoices):
    PREVIOUS = "previous", _("the window before")
    WEEK_AGO = "week_ago", _("the same window a week earlier")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class WebhookFormat(models.TextChoices):
    JSON = "json", _("JSON, signed (X-Switchboard-Signature)")
    SLACK = "slack", _("Slack-compatible")


class Language(models.TextChoices):
    EN = "en", "English"
    PT_BR = "pt-br", "Português (Brasil)"


def default_min_calls(metric: str, condition: str) -> int:
    """`min_calls` when the rule does not say: an expected count for an anomaly on calls,
    a sample size for everything else (the field's default)."""
    if metric == Metric.CALLS and condition == Condition.ANOMALY:
        return DEFAULT_MIN_EXPECTED
    return AlertRule.min_calls.field.default


class RuleState(models.TextChoices):
    OK = "ok", _("OK")
    FIRING = "firing", _("Firing")


class AlertRule(Timestamped, StrictTenantModel):
    """One rule: a metric over a window of some environments, a condition and channels.

    `state` and `state_seq` move only through a conditional UPDATE
    (`WHERE state = <read> AND state_seq = <read>`, see `evaluate.transition`), so two
    evaluators never record (or announce) the same change twice.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE,
                                     related_name="alert_rules", verbose_name=_("organization"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    environments = models.ManyToManyField(Environment, related_name="+",
                                          verbose_name=_("environments"))
    # An upstream agent id; empty: every agent.
    agent_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("agent ID"))
    # A team: the rule watches its agents and notifies its leads (docs/teams.md).
    team = models.ForeignKey("portal.Team", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="alert_rules", verbose_name=_("team"))
    # Fan-out: one state per team of the organisation, each notifying its leads.
    each_team = models.BooleanField(default=False, verbose_name=_("each team"))
    # A fan-out rule's child for one team (kept by the evaluator, never edited).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="team_rules", editable=False,
                               verbose_name=_("parent rule"))
    metric = models.CharField(max_length=32, choices=Metric.choices, verbose_name=_("metric"))
    window = models.CharField(max_length=8, choices=Window.choices, default=Window.DAY,
                              verbose_name=_("window"))
    condition = models.CharField(max_length=20, choices=Condition.choices,
                                 verbose_name=_("condition"))
    # None only for the `anomaly` condition: no cold-start threshold (the hours of its first
    # 3 weeks are then not judged); every other condition needs one (`validation`).
    threshold = models.FloatField(null=True, blank=True, verbose_name=_("threshold"))
    compare_to = models.CharField(max_length=10, choices=CompareTo.choices, blank=True,
                                  default="", verbose_name=_("compare to"))
    # The `anomaly` condition: how far from the usual band an hour must be, and which way.
    # `threshold` is its cold-start fallback (fewer than 3 weeks of history), in the same
    # direction.
    sensitivity = models.CharField(max_length=8, choices=Sensitivity.choices,
                                   default=Sensitivity.MEDIUM, verbose_name=_("sensitivity"))
    anomaly_direction = models.CharField(max_length=8, choices=AnomalyDirection.choices,
                                         default=AnomalyDirection.BELOW,
                                         verbose_name=_("anomaly direction"))
    # Rates: the fewest calls (or callbacks) judged. The `anomaly` condition on calls: the
    # fewest calls a window usually holds to be judged (an expected count; an hour usually
    # quieter is judged within a run of hours), 5 unless told (`default_min_calls`).
    min_calls = models.PositiveIntegerField(
        default=20, help_text=_("Rates are not judged over fewer calls (or callbacks); an "
                                "anomaly on calls judges hours that usually have at least "
                                "this many, alone or over a run of up to 6 hours."),
        verbose_name=_("min calls"))
    severity = models.CharField(max_length=10, choices=Severity.choices,
                                default=Severity.WARNING, verbose_name=_("severity"))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                     verbose_name=_("members"))
    # Extra addresses (people without an account), lower-cased, unique.
    emails = models.JSONField(default=list, blank=True, verbose_name=_("emails"))
    webhook_url = models.URLField(max_length=500, blank=True, default="",
                                  verbose_name=_("webhook URL"))
    webhook_format = models.CharField(max_length=8, choices=WebhookFormat.choices,
                                      default=WebhookFormat.JSON, verbose_name=_("webhook format"))
    # HMAC key of the generic JSON webhook, encrypted like upstream tokens; shown once.
    webhook_secret_ciphertext = models.TextField(blank=True, default="", editable=False,
                                                 verbose_name=_("webhook secret ciphertext"))
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN,
                                help_text=_("Language of the emails and webhook text."),
                                verbose_name=_("language"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))

    state = models.CharField(max_length=8, choices=RuleState.choices, default=RuleState.OK,
                             editable=False, verbose_name=_("state"))
    state_seq = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("state seq"))
    state_changed_at = models.DateTimeField(null=True, blank=True, editable=False,
                                            verbose_name=_("state changed at"))
    last_evaluated_at = models.DateTimeField(null=True, blank=True, editable=False,
                                             verbose_name=_("last evaluated at"))
    last_value = models.FloatField(null=True, blank=True, editable=False,
                                   verbose_name=_("last value"))
    # What the last evaluation said, e.g. "not judged: day 2026-03-10 not mirrored".
    last_note = models.CharField(max_length=300, blank=True, default="", editable=False,
                                 verbose_name=_("last note"))
    # The same evaluation as data (reason code and figures): `wording.describe` puts it in
    # words in the reader's language; empty until the first evaluation.
    last_reading = models.JSONField(default=dict, blank=True, editable=False,
                                    verbose_name=_("last reading"))
    snoozed_until = StorableDateTimeField(null=True, blank=True, verbose_name=_("snoozed until"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, editable=False,
                                           verbose_name=_("acknowledged at"))
    acknowledged_by = member_reference(_("acknowledged by"), editable=False)
    created_by = member_reference(_("created by"), editable=False)

    class Meta:
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["organization__name", "name", "id"]
        indexes = [models.Index(fields=["enabled", "organization"], name="alertrule_enabled")]
        constraints = [
            models.CheckConstraint(condition=~Q(condition__in=sorted(CHANGE_CONDITIONS))
                                   | ~Q(compare_to=""), name="alertrule_change_compares"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization})"

    # What a health metric (minutes since the last sync, token rejected) never reads: saved
    # as their neutral defaults, so a rule never stores (nor shows) a window or agent it
    # ignores.
    IGNORED_BY_HEALTH = ("agent_id", "compare_to", "window", "min_calls")

    def save(self, *args, **kwargs) -> None:
        if self.is_health:
            for name in self.IGNORED_BY_HEALTH:
                # A change condition (refused for these metrics by the form and the API)
                # keeps its comparison, so the constraint below never turns it into a 500.
                if name != "compare_to" or self.condition not in CHANGE_CONDITIONS:
                    setattr(self, name, self._meta.get_field(name).get_default())
        super().save(*args, **kwargs)

    @property
    def is_health(self) -> bool:
        return self.metric in HEALTH_METRICS

    def new_webhook_secret(self) -> str:
        """Generate, store (encrypted) and return a new secret: the caller shows it once."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        self.webhook_secret_ciphertext = crypto.encrypt(secret)
        return secret

    def webhook_hint(self) -> str:
        """What anyone may see of the webhook URL (its path is a credential): host/…last4."""
        return crypto.url_hint(self.webhook_url)

    def settle_webhook(self, renew: bool = False) -> str:
        """Before saving: forget the secret of a removed webhook; make one for a webhook that
        has none (or when `renew`). The new secret, for the caller to show once, or ""."""
        if not self.webhook_url:
            self.webhook_secret_ciphertext = ""
        elif renew or not self.webhook_secret_ciphertext:
            return self.new_webhook_secret()
        return ""

    def webhook_secret(self) -> str:
        return crypto.decrypt(self.webhook_secret_ciphertext) if \
            self.webhook_secret_ciphertext else ""

    def is_snoozed(self, now) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > now

    def recipient_emails(self) -> list[str]:
        """Members' addresses (still members of the organisation), the team's leads', then
        extra addresses."""
        found = [u.email.lower() for u in
                 tenancy.scope(self.members.all(), self.organization_id)
                 .exclude(email="").order_by("email")]
        if self.team_id is not None:  # a team's rule notifies the team's leads too
            for lead in tenancy.scope(self.team.leads.all(), self.organization_id).exclude(
                    email="").order_by("email"):
                if lead.email.lower() not in found:
                    found.append(lead.email.lower())
        for address in self.emails:
            if address.lower() not in found:
                found.append(address.lower())
        return found


class EventState(models.TextChoices):
    FIRING = "firing", _("Firing")
    RESOLVED = "resolved", _("Resolved")


class NotifyStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Will retry")
    FAILED = "failed", _("Failed")
    SNOOZED = "snoozed", _("Not sent: snoozed")
    ACKNOWLEDGED = "acked", _("Not sent: acknowledged")
    NONE = "none", _("No channel")


class AlertEvent(StrictTenantModel):
    """One state change of a rule, with the figures that caused it and its notification.

    Unique on (rule, seq): the transition that created it is the only one that can. The
    notification moves pending → sending → sent through conditional UPDATEs; `recipients`
    maps each channel ("email:…", "webhook") to {"status", "error", "at"}, saved "sending"
    before a message leaves, so a crash never leads to a second message.
    """

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="events",
                             verbose_name=_("rule"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("organization"))
    seq = models.PositiveIntegerField(verbose_name=_("seq"))
    state = models.CharField(max_length=10, choices=EventState.choices, verbose_name=_("state"))
    metric = models.CharField(max_length=32, choices=Metric.choices, verbose_name=_("metric"))
    value = models.FloatField(null=True, blank=True, verbose_name=_("value"))
    compare_value = models.FloatField(null=True, blank=True, verbose_name=_("compare value"))
    threshold = models.FloatField(null=True, blank=True, verbose_name=_("threshold"))
    calls = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("calls"))
    window_start = models.DateTimeField(null=True, blank=True, verbose_name=_("window start"))
    window_end = models.DateTimeField(null=True, blank=True, verbose_name=_("window end"))
    coverage = models.CharField(max_length=300, blank=True, default="", verbose_name=_("coverage"))
    # The `anomaly` condition's band (expected = the median of the same hour in past weeks)
    # and the figures its explanation and chart are drawn from (`reports.alerts.explain`).
    expected = models.FloatField(null=True, blank=True, verbose_name=_("expected"))
    low = models.FloatField(null=True, blank=True, verbose_name=_("low"))
    high = models.FloatField(null=True, blank=True, verbose_name=_("high"))
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    notify_status = models.CharField(max_length=10, choices=NotifyStatus.choices,
                                     default=NotifyStatus.PENDING, verbose_name=_("notify status"))
    recipients = models.JSONField(default=dict, blank=True, verbose_name=_("recipients"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    notified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("notified at"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))

    class Meta:
        verbose_name = _("alert event")
        verbose_name_plural = _("alert events")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "seq"], name="alertevent_once_per_change"),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="alertevent_org_created"),
            models.Index(fields=["notify_status"], name="alertevent_notify"),
        ]

    def __str__(self) -> str:
        return _("%(rule)s: %(state)s at %(when)s") % {
            "rule": self.rule.name, "state": self.get_state_display(),
            "when": f"{self.created_at:%Y-%m-%d %H:%M}"}


class BannerDismissal(StrictTenantModel):
    """A member hid a rule's banner for one firing (`state_seq`): it stays hidden for them
    until the rule changes state again, on every page and device (not a browser cookie)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("rule"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("user"))
    state_seq = models.PositiveIntegerField(verbose_name=_("state seq"))
    dismissed_at = models.DateTimeField(auto_now=True, verbose_name=_("dismissed at"))

    class Meta:
        verbose_name = _("banner dismissal")
        verbose_name_plural = _("banner dismissals")
        constraints = [models.UniqueConstraint(fields=["rule", "user"],
                                               name="alertbanner_once_per_member")]

    def __str__(self) -> str:
        return f"{self.user_id} hid rule {self.rule_id} at change {self.state_seq}"
