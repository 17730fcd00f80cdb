"""The subscription form used by the settings pages (scoped to one organisation)."""
from __future__ import annotations

import re

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal.models import Organization, Team
from portal.pages.forms import choices_of
from portal.timezones import timezone_choices
from reports.languages import member_language
from reports.models import ReportSubscription

SCHEDULE_FIELDS = ("cadence", "weekday", "hour", "timezone", "active")


def parse_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or lines; lower-cased, de-duplicated."""
    result: list[str] = []
    bad: list[str] = []
    for item in re.split(r"[\s,;]+", text or ""):
        if not item:
            continue
        try:
            validate_email(item)
        except forms.ValidationError:
            bad.append(item)
            continue
        if item.lower() not in result:
            result.append(item.lower())
    if bad:
        raise forms.ValidationError(
            _("Not valid email addresses: %(bad)s. Fix or remove them.") % {"bad": ", ".join(bad)}
        )
    return result


class SubscriptionForm(forms.ModelForm):
    addresses = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        label=_lazy("Other addresses"),
        help_text=_lazy("People without an account; separate with commas or new lines."),
    )
    timezone = forms.ChoiceField(required=False, label=_lazy("Timezone"))
    hour = forms.IntegerField(min_value=0, max_value=23, initial=8,
                              label=_lazy("Local hour (0–23)"))

    class Meta:
        model = ReportSubscription
        fields = [
            "name", "cadence", "weekday", "hour", "timezone", "language", "all_environments",
            "environments", "members", "addresses", "team", "attach_csv", "skip_if_no_calls",
            "active",
        ]
        # The model's fields have no translated verbose names: the form names them.
        labels = {
            "name": _lazy("Name"), "cadence": _lazy("Cadence"), "weekday": _lazy("Weekday"),
            "language": _lazy("Language"), "all_environments": _lazy("All environments"),
            "environments": _lazy("Environments"), "members": _lazy("Members"),
            "attach_csv": _lazy("Attach a CSV"),
            "skip_if_no_calls": _lazy("Skip when there were no calls"),
            "active": _lazy("Active"),
            "team": _lazy("Team scope of the addresses"),
        }
        help_texts = {
            "team": _lazy("What the plain addresses receive: this team's figures, or (empty) "
                          "the whole organisation's. Members always receive their own scope."),
        }
        widgets = {
            "environments": forms.CheckboxSelectMultiple,
            "members": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        choices_of(self, organization)
        self.fields["team"].queryset = Team.objects.for_organization(organization).order_by(
            "name")
        self.fields["team"].empty_label = _("Whole organisation")
        default = _("Organisation default (%(tz)s)") % {"tz": organization.timezone}
        self.fields["timezone"].choices = [("", default)] + timezone_choices(
            self.instance.timezone if self.instance.pk else "")
        if self.instance.pk:
            self.initial["addresses"] = "\n".join(self.instance.addresses)
        else:
            # A new summary speaks (and is named in) the language of the member creating it.
            self.initial.setdefault("language", member_language())
            self.initial.setdefault("name", _("Weekly summary"))

    def clean_addresses(self) -> list[str]:
        return parse_addresses(self.cleaned_data.get("addresses", ""))

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("all_environments") and not data.get("environments"):
            self.add_error(
                "environments",
                _("Choose at least one environment, or tick “all environments”."),
            )
        return data

    def save(self, commit: bool = True) -> ReportSubscription:
        sub = super().save(commit=False)
        sub.organization = self.organization
        if not sub.pk or any(f in self.changed_data for f in SCHEDULE_FIELDS):
            sub.reschedule()
        if commit:
            sub.save()
            self.save_m2m()
        return sub
