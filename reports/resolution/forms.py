"""The organisation's list of numbers left out of resolution, as the settings page edits it:
one number a line, its label after a comma (`sync.excluded_numbers`)."""
from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sync.excluded_numbers import digits_of, digits_problem
from sync.models.outcomes import MAX_EXCLUDED_DIGITS, MAX_EXCLUDED_NUMBERS

MAX_LABEL = 100
# `digits_problem`'s answers, worded (with "text": the number as typed, "max": the cap); the
# page's form and the admin's say the same.
DIGITS_PROBLEM: dict[str, Callable[[], str]] = {
    "none": lambda: _("“%(text)s” has no digit."),
    "too_many": lambda: _("A number has at most %(max)d digits."),
}


def as_lines(entries: dict[str, str]) -> str:
    """The list as the form shows it."""
    return "\n".join(f"{digits}, {label}" if label else digits
                     for digits, label in sorted(entries.items()))


class ExcludedNumbersForm(forms.Form):
    numbers = forms.CharField(
        label=gettext_lazy("Numbers left out of resolution"), required=False,
        # A line each, with its label: the cap on numbers and the label's length bound it.
        max_length=MAX_EXCLUDED_NUMBERS * (MAX_LABEL + 40),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=format_lazy(gettext_lazy(
            "One number a line, written any way (+55 11 3000-0000); a label after a comma. "
            "At most {max} numbers."), max=MAX_EXCLUDED_NUMBERS))

    def clean_numbers(self) -> dict[str, str]:
        """{digits: label}, the digits by the calls' own normalisation."""
        lines = [line.strip() for line in self.cleaned_data["numbers"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_EXCLUDED_NUMBERS:
            raise ValidationError(_("At most %(max)d numbers.") % {"max": MAX_EXCLUDED_NUMBERS})
        parts = [(number.strip(), label.strip())
                 for number, _comma, label in (line.partition(",") for line in lines)]
        found = digits_of([number for number, _label in parts])
        entries: dict[str, str] = {}
        errors = []
        for n, ((number, label), digits) in enumerate(zip(parts, found, strict=True), 1):
            problem = digits_problem(digits)
            if problem:
                errors.append(_("Line %(line)d: %(problem)s") % {"line": n, "problem": (
                    DIGITS_PROBLEM[problem]() % {"text": number[:40],
                                                 "max": MAX_EXCLUDED_DIGITS})})
            elif len(label) > MAX_LABEL:
                errors.append(_("Line %(line)d: %(problem)s") % {"line": n, "problem": (
                    _("A label has at most %(max)d characters.") % {"max": MAX_LABEL})})
            else:
                entries[digits] = label
        if errors:
            raise ValidationError(errors)
        return entries
