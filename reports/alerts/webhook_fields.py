"""The webhook fields of the rule forms (settings page and admin): write-only.

A webhook URL is a credential (Slack's path is its key), so no form ever renders the stored
one: the field comes back empty with a hint (`hooks.slack.com/…CRET`) in its help text.
Leaving it empty keeps the stored URL; "Remove the webhook" clears it and its secret; "New
webhook secret" replaces the signing secret. The new secret is shown once by the caller
(`new_secret` after `save`).
"""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from reports.alerts.models import AlertRule


class WebhookFieldsMixin(forms.ModelForm):
    """Mix into a ModelForm of AlertRule that lists `webhook_url` in its fields."""

    remove_webhook = forms.BooleanField(
        required=False, label=_lazy("Remove the webhook"),
        help_text=_lazy("Stops webhook notifications and forgets the URL and its secret."))
    new_webhook_secret = forms.BooleanField(
        required=False, label=_lazy("New webhook secret"),
        help_text=_lazy("Replaces the signing secret; the new one is shown once."))

    instance: AlertRule

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.new_secret = ""
        stored = self.instance.webhook_hint() if self.instance.pk else ""
        field = self.fields["webhook_url"]
        field.widget.attrs["autocomplete"] = "off"
        self.initial["webhook_url"] = ""
        if stored:
            field.help_text = _("Stored: %(hint)s. Leave empty to keep it; enter a new "
                                "URL to replace it.") % {"hint": stored}

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data.get("webhook_url") or ""
        return url or (self.instance.webhook_url if self.instance.pk else "")

    def clean(self) -> dict:
        data = super().clean()
        if data.get("remove_webhook"):
            data["webhook_url"] = ""
        return data

    def apply_webhook(self, rule: AlertRule) -> None:
        """Before saving `rule`: settle its secret (`AlertRule.settle_webhook`), keeping a new
        one in `new_secret` for the caller to show once."""
        self.new_secret = rule.settle_webhook(bool(self.cleaned_data.get("new_webhook_secret")))
