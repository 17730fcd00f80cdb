"""The Outcomes chart: its days written as the reader's short date (the tables' format, in
either language), and the calls still pending drawn as pending (their count per day, a
legend entry of their own), never as a blank day that reads like an outage."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from tests.support.factories import make_agents, make_calls

pytestmark = pytest.mark.django_db

DAY = {"en": r"^\d{2}/\d{2}/\d{4}$", "pt-br": r"^\d{2}/\d{2}/\d{4}$"}


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_chart_writes_local_days_and_draws_pending_calls(alice, env_a, language):
    org = env_a.organization
    today = timezone.localdate(timezone=org.tzinfo)
    make_calls(env_a, 600, today - timedelta(days=29), today, agents=make_agents(env_a, 2))
    client = Client()
    client.force_login(alice)
    client.cookies["django_language"] = language
    start = today - timedelta(days=27)
    page = client.get(f"/o/{org.slug}/outcomes/", {"start": start.isoformat(),
                                                     "end": today.isoformat()})
    assert page.status_code == 200
    chart, series = page.context["chart"], page.context["summary"].series
    with translation.override(language):
        first = start.strftime("%m/%d/%Y" if language == "en" else "%d/%m/%Y")
        legend = translation.gettext("Pending calls (outcome not known yet)")
    assert chart["labels"][0] == first
    assert all(re.match(DAY[language], label) for label in chart["labels"]), chart["labels"]
    assert chart["pending"] == [r.pending for r in series]
    # The last days: nothing resolved yet, and their calls are there as pending.
    assert chart["resolved"][-1] == 0 and chart["pending"][-1] > 0
    assert len(chart["doors"]["pending"]) == len(series) and chart["doors"]["pending"][-1]
    assert f'data-pending="{escape(legend)}"' in page.content.decode()
