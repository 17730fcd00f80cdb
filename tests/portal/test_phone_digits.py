"""A number typed in another script's digits (Arabic-Indic, Eastern Arabic, fullwidth,
Devanagari) is the same number: erasure normalises it rather than refusing it."""
from __future__ import annotations

import pytest

from portal.phone import InvalidNumber, to_e164


@pytest.mark.parametrize("typed", [
    "+٥٥ ١١ ٩٨٧٦٥-٤٣٢١",  # Arabic-Indic
    "+۵۵ ۱۱ ۹۸۷۶۵-۴۳۲۱",  # Eastern Arabic (Persian)
    "＋５５ １１ ９８７６５－４３２１",  # fullwidth, with a fullwidth plus and dash
    "+५५ ११ ९८७६५-४३२१",  # Devanagari
])
def test_digits_of_any_script_are_the_same_number(typed):
    assert to_e164(typed) == "+5511987654321"


def test_letters_are_still_refused():
    with pytest.raises(InvalidNumber):
        to_e164("+55 11 9876S-4321")
