"""`portal.formatting`, the one door for figures as people read them: money rounded (never
cut) with its currency's symbol and grouping, a per-call figure under one cent with up to
four decimals, counts grouped, one minus sign, one percentage precision, nothing as "–"."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from portal.formatting import (
    EMPTY,
    MINUS,
    format_change_pct,
    format_int,
    format_money,
    format_number,
    format_percent,
    format_percent_of,
    format_points,
    format_points_change,
    format_price,
    int_formatter,
)

NBSP = "\u00a0"


@pytest.mark.parametrize(("language", "total", "small"), [
    ("en", f"US${NBSP}2,792.93", f"US${NBSP}0.0034"),
    ("pt-br", f"US${NBSP}2.792,93", f"US${NBSP}0,0034"),
])
def test_money_is_grouped_with_two_decimals_rounded_not_cut(language, total, small):
    with translation.override(language):
        # 2,792.9283 rounds to .93 (Django's number_format cut it to .92).
        assert format_money(2792.9283) == total
        assert format_money(Decimal("2792.9283"), "USD") == total
        assert format_money(0.0034, per_call=True) == small


def test_money_rounding_half_up_and_the_per_call_rule():
    assert format_money(0.125) == f"US${NBSP}0.13"  # half up, not banker's
    assert format_money(2.675) == f"US${NBSP}2.68"  # on the figure as written, not the float
    # A per-call figure of a cent or more: two decimals, like any amount.
    assert format_money(0.097525, per_call=True) == f"US${NBSP}0.10"
    assert format_money(18.775, per_call=True) == f"US${NBSP}18.78"
    # Under one cent: up to four decimals, rounded; trailing zeros past the second dropped.
    assert format_money(0.00341, per_call=True) == f"US${NBSP}0.0034"
    assert format_money(0.003456, per_call=True) == f"US${NBSP}0.0035"
    assert format_money(0.005, per_call=True) == f"US${NBSP}0.005"
    assert format_money(0.0049996, per_call=True) == f"US${NBSP}0.005"
    assert format_money(0.0, per_call=True) == f"US${NBSP}0.00"
    # A total under one cent is still a total: two decimals.
    assert format_money(0.0034) == f"US${NBSP}0.00"


def test_money_currency_negative_and_missing():
    assert format_money(5, "BRL") == f"R${NBSP}5.00"
    assert format_money(5, "CHF") == f"CHF{NBSP}5.00"
    assert format_money(5, None) == f"US${NBSP}5.00"
    assert format_money(-1234.5) == f"{MINUS}US${NBSP}1,234.50"
    assert format_money(-0.001) == f"US${NBSP}0.00"  # never "−US$ 0.00"
    assert format_money(None) == EMPTY and format_price(None) == EMPTY


def test_a_unit_price_keeps_up_to_four_decimals():
    assert format_price(Decimal("0.0975")) == f"US${NBSP}0.0975"
    assert format_price(Decimal("0.1200")) == f"US${NBSP}0.12"
    with translation.override("pt-br"):
        assert format_price(Decimal("0.0950")) == f"US${NBSP}0,095"


@pytest.mark.parametrize(("language", "count", "negative"), [
    ("en", "8,312", f"{MINUS}8,312"), ("pt-br", "8.312", f"{MINUS}8.312")])
def test_counts_are_grouped_everywhere_and_negative_with_the_minus_sign(language, count,
                                                                        negative):
    with translation.override(language):
        assert format_int(8312) == count and format_int(-8312) == negative
        write = int_formatter()
        assert write(8312) == count and write(-8312) == negative and write(None) == EMPTY
        assert format_int(None) == EMPTY


def test_one_minus_sign_on_every_figure():
    assert format_number(-2.75) == f"{MINUS}2.8"
    assert format_number(-0.04) == "0.0"  # rounds to zero: no sign
    assert format_points(-0.065) == f"{MINUS}6.5"
    assert format_change_pct(-0.7) == f"{MINUS}0.7%"
    assert format_points_change(-0.065) == f"{MINUS}6.5 pts"
    assert format_points_change(0.034) == "+3.4 pts"
    assert format_points_change(-0.065, signed=False) == "6.5 pts"
    assert format_points_change(None) == EMPTY
    with translation.override("pt-br"):
        assert format_points_change(-0.065) == f"{MINUS}6,5 p.p."


def test_percentages_have_one_precision():
    assert format_percent(0.048) == "4.8%" and format_percent(0.05) == "5.0%"
    assert format_percent_of(4.8) == format_percent(0.048)
    assert format_percent_of(70.36) == "70.4%" and format_percent_of(95) == "95.0%"
    assert format_percent(0.00049) == "0.0%" and format_percent(None) == EMPTY
    with translation.override("pt-br"):
        assert format_percent(0.6455) == "64,6%"


def test_the_template_filters_are_the_functions():
    template = engines["django"].from_string(
        "{% load portal_tags %}{{ t|money:'USD' }}|{{ c|money_per_call:'USD' }}|"
        "{{ p|price:'USD' }}|{{ n|count }}|{{ r|percent }}|{{ d|points_change }}|"
        "{{ m|number:2 }}|{{ none|money:'USD' }}")
    context = {"t": 2792.9283, "c": 0.0034, "p": Decimal("0.0975"), "n": 8312, "r": 0.048,
               "d": -0.065, "m": 1234.567, "none": None}
    for language in ("en", "pt-br"):
        with translation.override(language):
            expected = "|".join([
                format_money(2792.9283), format_money(0.0034, per_call=True),
                format_price(Decimal("0.0975")), format_int(8312), format_percent(0.048),
                format_points_change(-0.065), format_number(1234.567, 2), EMPTY])
            assert template.render(context) == expected
