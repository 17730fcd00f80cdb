"""Chart data travels to the browser in a `<script type="application/json">` block (no inline
script: the CSP forbids it). `{{ value|chart_json:"id" }}` (portal/templatetags/portal_tags.py)
writes exactly what Django's `json_script` writes, faster: both are rendered here over values
that need every escape, dates, decimals, lazy text and hostile ids; the dashboard's own block
parses back to its chart data."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.template import engines
from django.utils import timezone
from django.utils.translation import gettext_lazy

from tests.support.factories import make_calls

DJANGO = engines["django"]
VALUES = [
    {"labels": ["</script><script>alert(1)</script>", "a & b", "<!--", "x > y"],
     "series": [[1, 2.5, None, True]], "note": "São Paulo \u2028 \u2029 \\ \" '"},
    [date(2026, 11, 1), datetime(2026, 11, 1, 12, 30, tzinfo=UTC),
     Decimal("12.50"), gettext_lazy("Answer rate")],
    "plain", 7, None, [],
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("element_id", ["chart-data", 'x" onload="y', "<b>&"])
def test_chart_json_writes_what_json_script_writes(value, element_id):
    context = {"value": value, "element_id": element_id}
    ours = DJANGO.from_string("{% load portal_tags %}{{ value|chart_json:element_id }}")
    django = DJANGO.from_string("{{ value|json_script:element_id }}")
    assert ours.render(context) == django.render(context)
    assert "</script><script>" not in ours.render(context)


def test_the_dashboard_sends_its_chart_data(client, alice, env_a):
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    make_calls(env_a, 40, today.replace(day=1) if today.day > 1 else today, today, seed=3)
    client.force_login(alice)
    response = client.get("/o/org-a/")
    html = response.content.decode()
    block = html.split('<script id="chart-data" type="application/json">', 1)[1]
    sent = json.loads(block.split("</script>", 1)[0])
    assert sent == json.loads(json.dumps(response.context["chart_data"], cls=DjangoJSONEncoder))
    assert sent
