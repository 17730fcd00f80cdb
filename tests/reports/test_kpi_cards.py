"""The dashboard's key-figure cards are written by `{% kpi_card %}` (seven includes of
`reports/includes/kpi.html` were 2 ms of a cold dashboard's template time) and must stay the
bytes that template writes: it is kept as the reference and rendered beside the tag here, over
every kind, value, sign of change, note, door and explanation, in both languages."""
from __future__ import annotations

import itertools

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from reports.drill import Door
from reports.pages.cards import Kpi
from reports.queries.common import Delta
from reports.templatetags.kpi_tags import kpi_card

VALUES = {"count": [None, 0, 1, 1234567], "rate": [None, 0.0, 0.4567, 1.0],
          "seconds": [None, 0, 59.5, 3725], "money": [None, 0, 0.004, 2792.9283],
          "money_per_call": [None, 0.0034, 0.097525, 18.775]}
DELTAS = [None, Delta(1, None, None, None), Delta(5, 4, 0.0123, 25.0),
          Delta(3, 4, -0.25, -25.04), Delta(4, 4, 0.0, 0.0), Delta(4, 0, 4.0, None)]
DOORS = [None, Door("/o/a/calls/?start=2026-05-01&x=<1>", 0), Door("/o/a/calls/?a=1&b=2", 1),
         Door("/o/a/calls/?outcome=answered", 1234567)]
LABELS = ["Calls", gettext_lazy("Answer rate"), "Agent <&> \"7\"", mark_safe("<i>kept</i>")]
NOTES = ["", "previous period not mirrored <&>"]
WHY_NOT = ["", "Talkover's count; the calls linked to it differ (see <Callbacks>)."]


def cards():
    for kind, values in VALUES.items():
        for value, delta, door in itertools.product(values, DELTAS, DOORS):
            yield Kpi(LABELS[hash((kind, value)) % len(LABELS)], value, kind, delta,
                      higher_is_better=door is None, note=NOTES[delta is None], door=door,
                      why_not=WHY_NOT[door is None and value is not None])
    for label, note, why in itertools.product(LABELS, NOTES, WHY_NOT):
        yield Kpi(label, 7, "count", None, note=note, why_not=why)


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_kpi_card_writes_the_bytes_of_the_kpi_template(language):
    with translation.override(language):
        written = 0
        for kpi in cards():
            reference = render_to_string("reports/includes/kpi.html", {"kpi": kpi})
            assert kpi_card(kpi) == reference, kpi
            written += 1
    assert written > 200


def test_the_dashboard_uses_the_tag_and_its_cards_stay_translated():
    """The tag in place, and a Portuguese card says Portuguese (not the English msgid)."""
    dashboard = engines["django"].engine.get_template("reports/dashboard.html").source
    assert "{% kpi_card kpi %}" in dashboard and "kpi.html" not in dashboard
    with translation.override("pt-br"):
        card = kpi_card(Kpi("Chamadas", 12, "count", DELTAS[2], door=DOORS[3]))
    assert "vs previous period" not in card and "calls behind this figure" not in card
