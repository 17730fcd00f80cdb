"""The admin's numbers left out of resolution: the settings page's list, one row a number.

A row added, changed or deleted here re-settles its numbers as the page does
(`sync.excluded_numbers.apply_change`); the number is stored as its digits.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.admin.base import TenantModelAdmin
from reports.resolution.forms import DIGITS_PROBLEM
from sync.excluded_numbers import apply_change, digits_of, digits_problem
from sync.models import ExcludedNumber
from sync.models.outcomes import MAX_EXCLUDED_DIGITS, MAX_EXCLUDED_NUMBERS


class ExcludedNumberForm(forms.ModelForm):
    # Typed any way (+55 11 3000-0000), longer than the digits it is stored as.
    digits = forms.CharField(label=gettext_lazy("number (digits)"), max_length=60,
                             help_text=gettext_lazy("Written any way; stored as its digits."))

    class Meta:
        model = ExcludedNumber
        fields = ["organization", "digits", "label"]

    def clean_digits(self) -> str:
        digits = digits_of([self.cleaned_data["digits"]])[0]
        problem = digits_problem(digits)
        if problem:
            raise forms.ValidationError(DIGITS_PROBLEM[problem]() % {
                "text": self.cleaned_data["digits"][:40], "max": MAX_EXCLUDED_DIGITS})
        return digits

    def clean(self) -> dict:
        data = super().clean()
        org = data.get("organization")
        if org is not None and self.instance.pk is None and ExcludedNumber.objects.for_organization(
                org).count() >= MAX_EXCLUDED_NUMBERS:
            raise forms.ValidationError(_("At most %(max)d numbers.")
                                        % {"max": MAX_EXCLUDED_NUMBERS})
        return data


@admin.register(ExcludedNumber)
class ExcludedNumberAdmin(TenantModelAdmin):
    form = ExcludedNumberForm
    list_display = ["digits", "label", "organization", "created_at"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["digits", "label"]

    def save_model(self, request: HttpRequest, obj: ExcludedNumber, form, change: bool) -> None:
        before = form.initial.get("digits") if change else None
        super().save_model(request, obj, form, change)
        apply_change(obj.organization_id, sorted({obj.digits, *([before] if before else [])}))

    def delete_model(self, request: HttpRequest, obj: ExcludedNumber) -> None:
        super().delete_model(request, obj)
        apply_change(obj.organization_id, [obj.digits])

    def get_actions(self, request: HttpRequest) -> dict:
        # A bulk delete would skip `delete_model` and so the re-settling: one row at a time.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
