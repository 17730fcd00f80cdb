"""Settings → Holidays' forms: one day added by hand, a country's public holidays of a year."""
from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from reports.holidays.calendar import countries
from reports.holidays.models import MAX_NAME

DEFAULT_COUNTRY = "BR"
# Days a holiday may be on: a calendar of the years around the calls, not of any year.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class HolidayForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Day"),
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    name = forms.CharField(label=gettext_lazy("Name"), max_length=MAX_NAME)

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("A holiday is a day from %(first)d to %(last)d.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR})
        return day


class PublicHolidaysForm(forms.Form):
    country = forms.ChoiceField(label=gettext_lazy("Country"))
    year = forms.TypedChoiceField(label=gettext_lazy("Year"), coerce=int)

    def __init__(self, *args, this_year: int, **kwargs) -> None:
        kwargs.setdefault("initial", {"country": DEFAULT_COUNTRY, "year": this_year})
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = countries(get_language() or "en")
        self.fields["year"].choices = [(y, str(y)) for y in (this_year, this_year + 1)]
