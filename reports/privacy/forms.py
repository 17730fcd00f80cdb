"""The privacy settings page's forms: erase a caller, keep each kind of data for N days."""
from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.models import Organization
from portal.phone import InvalidNumber
from sync.models import PrivacyRetention
from sync.privacy.erase import subject_of

# At most this many days (about 100 years): a limit, never an overflow.
MAX_DAYS = 36500


class EraseForm(forms.Form):
    number = forms.CharField(
        label=gettext_lazy("Caller's phone number"), max_length=64,
        help_text=gettext_lazy("Any format: +55 11 98765-4321, (11) 98765-4321 (read in the "
                               "organisation's country) or 5511987654321."))
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that this caller's numbers, transcripts, recording "
                           "links and contexts are erased for good."))

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_number(self) -> str:
        number = self.cleaned_data["number"]
        try:
            subject_of(self.organization, number)
        except InvalidNumber:
            raise forms.ValidationError(_("This is not a phone number: write it with its "
                                          "country code or as a national number of the "
                                          "organisation's country.")) from None
        return number


class RetentionKindsForm(forms.ModelForm):
    """Days per kind; empty keeps that kind as long as the call."""

    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that older calls lose these data for good."),
        required=False)

    class Meta:
        model = PrivacyRetention
        fields = ["transcripts_days", "recordings_days", "numbers_days"]
        widgets = {name: forms.NumberInput(attrs={"min": 1, "max": MAX_DAYS})
                   for name in fields}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in self.Meta.fields:
            field = self.fields[name]
            field.min_value, field.max_value = 1, MAX_DAYS
            field.validators += [MinValueValidator(1), MaxValueValidator(MAX_DAYS)]
            field.help_text = _("Empty: kept as long as the call.")

    def shortens(self) -> bool:
        """Whether the new settings anonymise anything the old ones kept."""
        for name in self.Meta.fields:
            old, new = self.initial.get(name), self.cleaned_data.get(name)
            if new is not None and (old is None or new < old):
                return True
        return False

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors and self.shortens() and not data.get("confirm"):
            self.add_error("confirm", _("Tick this box to confirm: older calls lose these "
                                        "data for good."))
        return data
