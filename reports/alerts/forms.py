"""The rule form of the settings pages (scoped to one organisation)."""
from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _lazy

from portal.models import Organization
from reports.alerts.models import AlertRule
from reports.alerts.validation import rule_errors
from reports.alerts.webhook_fields import WebhookFieldsMixin
from reports.subscription_forms import parse_addresses


class AlertRuleForm(WebhookFieldsMixin, forms.ModelForm):
    emails = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label=_lazy("Other addresses"),
        help_text=_lazy("People without an account; separate with commas or new lines."))

    class Meta:
        model = AlertRule
        fields = ["name", "environments", "agent_id", "metric", "window", "condition",
                  "threshold", "compare_to", "min_calls", "severity", "members", "emails",
                  "webhook_url", "remove_webhook", "new_webhook_secret", "webhook_format",
                  "language", "enabled", "snoozed_until"]
        widgets = {"environments": forms.CheckboxSelectMultiple,
                   "members": forms.CheckboxSelectMultiple,
                   "snoozed_until": forms.DateTimeInput(attrs={"type": "datetime-local"})}
        labels = {"agent_id": _lazy("Agent (upstream id, optional)"),
                  "snoozed_until": _lazy("Snoozed until")}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["environments"].queryset = organization.environments.order_by("name")
        self.fields["members"].queryset = get_user_model().objects.filter(
            memberships__organization=organization).order_by("username")
        self.fields["members"].label_from_instance = lambda u: f"{u.get_username()} <{u.email}>"
        if self.instance.pk:
            self.initial["emails"] = "\n".join(self.instance.emails)
        if not self.instance.webhook_url:
            del self.fields["remove_webhook"]  # nothing to remove

    def clean_emails(self) -> list[str]:
        return parse_addresses(self.cleaned_data.get("emails", ""))

    def clean(self) -> dict:
        data = super().clean()
        errors = rule_errors(
            metric=data.get("metric", ""), window=data.get("window", ""),
            condition=data.get("condition", ""), compare_to=data.get("compare_to", ""),
            threshold=data.get("threshold"), agent_id=data.get("agent_id", ""),
            webhook_url=data.get("webhook_url", ""))
        for field, message in errors.items():
            self.add_error(field, message)
        return data

    def save(self, commit: bool = True) -> AlertRule:
        rule = super().save(commit=False)
        rule.organization = self.organization
        self.apply_webhook(rule)
        if commit:
            rule.save()
            self.save_m2m()
        return rule
