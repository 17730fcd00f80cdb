"""Admin for alert rules (with their history inline) and events, scoped by the tenant mixin:
staff see only organisations they administer; events are read-only records."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal.admin.base import ReadOnlyTenantInline, TenantModelAdmin
from reports.alerts.forms import AlertRuleForm
from reports.alerts.models import AlertEvent, AlertRule
from reports.alerts.webhook_fields import WebhookFieldsMixin


class EventInline(ReadOnlyTenantInline):
    model = AlertEvent
    fields = ["created_at", "state", "value", "threshold", "window_start", "window_end",
              "notify_status"]
    readonly_fields = fields


class AlertRuleAdminForm(WebhookFieldsMixin, forms.ModelForm):
    """The webhook URL is write-only here too (reports/alerts/webhook_fields.py)."""

    class Meta:
        model = AlertRule
        # The portal form's fields, and the organisation after the name.
        fields = [*AlertRuleForm.Meta.fields[:1], "organization", *AlertRuleForm.Meta.fields[1:]]


@admin.register(AlertRule)
class AlertRuleAdmin(TenantModelAdmin):
    form = AlertRuleAdminForm
    list_display = ["name", "organization", "metric", "window", "condition", "threshold",
                    "severity", "enabled", "state", "last_evaluated_at"]
    list_filter = ["state", "severity", "metric", "enabled", "organization"]
    search_fields = ["name", "organization__name", "organization__slug"]
    list_select_related = ["organization"]
    filter_horizontal = ["environments", "members"]
    readonly_fields = ["state", "state_seq", "state_changed_at", "last_evaluated_at",
                       "last_value", "last_note", "acknowledged_at", "acknowledged_by",
                       "created_by", "created_at", "updated_at"]
    inlines = [EventInline]

    def save_model(self, request, obj: AlertRule, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        form.apply_webhook(obj)
        if form.new_secret:
            self.message_user(request, _("Webhook secret (shown once): %(secret)s")
                              % {"secret": form.new_secret})
        super().save_model(request, obj, form, change)  # the mixin writes the audit entry


@admin.register(AlertEvent)
class AlertEventAdmin(TenantModelAdmin):
    read_only = True  # made by the evaluator, never by hand
    list_display = ["rule", "organization", "state", "metric", "value", "threshold",
                    "window_start", "notify_status", "created_at"]
    list_filter = ["state", "notify_status", "metric", "organization"]
    search_fields = ["rule__name", "organization__name", "coverage"]
    list_select_related = ["rule", "organization"]
    date_hierarchy = "created_at"
    exclude = ["recipients"]
    readonly_fields = ["rule", "organization", "seq", "state", "metric", "value",
                       "compare_value", "threshold", "expected", "low", "high", "detail",
                       "calls", "window_start", "window_end",
                       "coverage", "created_at", "notify_status", "channel_states", "attempts",
                       "claimed_at", "notified_at", "error"]

    @admin.display(description=_lazy("channels"))
    def channel_states(self, obj: AlertEvent) -> str:
        return format_html("<ul>{}</ul>", format_html_join(
            "", "<li>{}: {} {}</li>",
            ((key, s.get("status"), s.get("error", "")) for key, s in obj.recipients.items())))
