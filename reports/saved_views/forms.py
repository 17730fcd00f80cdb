"""Validation of a saved view: a name, one of the report pages, and its query string
cleaned of what is not a filter (paging, exports), so opening it shows the page itself."""
from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from portal.bounds import OUT_OF_BOUNDS, date_problem
from reports.saved_views.models import SavedView

# Parameters that are not part of "the view": the page number, exports, the CSRF token.
NOT_FILTERS = frozenset({"page", "format", "table", "csrfmiddlewaretoken"})
MAX_QUERY = 2000


def clean_query(raw: str) -> str:
    """`raw` re-encoded without the parameters that are not filters."""
    params = QueryDict(raw.lstrip("?"), mutable=True)
    for key in NOT_FILTERS:
        params.pop(key, None)
    return params.urlencode()


class SavedViewForm(forms.ModelForm):
    class Meta:
        model = SavedView
        fields = ["name", "page", "query"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the view a name."))
        return name

    def clean_query(self) -> str:
        query = clean_query(self.cleaned_data.get("query") or "")
        if len(query) > MAX_QUERY:
            raise forms.ValidationError(
                _("These filters are too long to save (at most %(max)d characters).")
                % {"max": MAX_QUERY})
        if any(date_problem(value) for values in QueryDict(query).lists() for value in values[1]):
            raise forms.ValidationError(OUT_OF_BOUNDS)
        return query


class RenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the view a name."))
        return name
