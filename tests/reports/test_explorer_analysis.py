"""The calls explorer over the vendors' analysis: filtered by the normalised judgement and by
the calls a KPI counts (`reports.kpi_groups`, through the one call filter), and the search
finding summaries' words (`reports.call_search`) — not on the Talkover-compatible listing."""
from __future__ import annotations

import pytest
from django.test import Client

from reports.call_filter import CallCriteria, filter_calls
from reports.call_search import CALL_ID_EXACT
from tests.support.factories import make_call

pytestmark = pytest.mark.django_db


@pytest.fixture
def judged(env_a):
    return {
        "won": make_call(env_a, None, 1, summary="Customer asked for a refund; issued.",
                         judgement="succeeded", judgement_raw="true"),
        "lost": make_call(env_a, None, 2, summary="Caller wanted delivery news.",
                          judgement="failed", judgement_raw="3", judgement_score=30,
                          transferred=True),
        "none": make_call(env_a, None, 3),
        "missed": make_call(env_a, None, 4, status="no-answer"),
    }


def _found(env, **criteria) -> set[int]:
    return set(filter_calls(CallCriteria([env.pk], **criteria)).values_list("pk", flat=True))


def test_the_filter_reads_the_judgement_and_the_kpis_calls(env_a, judged):
    pk = {k: c.pk for k, c in judged.items()}
    assert _found(env_a, judgement="succeeded") == {pk["won"]}
    assert _found(env_a, judgement="failed") == {pk["lost"]}
    assert _found(env_a, judgement="not_evaluated") == {pk["none"], pk["missed"]}
    assert _found(env_a, kpi="evaluated") == {pk["won"], pk["lost"]}
    assert _found(env_a, kpi="transferred") == {pk["lost"]}
    assert _found(env_a, kpi="contained") == {pk["won"], pk["none"]}
    assert _found(env_a, kpi="abandoned") == {pk["missed"]}


def test_the_search_finds_summaries_words_but_not_on_the_compatible_listing(env_a, judged):
    assert _found(env_a, search="refund") == {judged["won"].pk}
    assert _found(env_a, search="DELIVERY news") == {judged["lost"].pk}
    assert _found(env_a, search="refund", call_id=CALL_ID_EXACT) == set()
    assert _found(env_a, search="nothing-like-it") == set()


def test_the_explorer_page_takes_both_filters(alice, org_a, env_a, judged):
    client = Client()
    client.force_login(alice)
    for query in ("judgement=succeeded", "kpi=transferred", "search=refund",
                  "judgement=not_evaluated&kpi=abandoned"):
        page = client.get(f"/o/{org_a.slug}/calls/?{query}")
        assert page.status_code == 200, query
    assert client.get(f"/o/{org_a.slug}/calls/?judgement=nonsense").status_code == 400
    html = client.get(f"/o/{org_a.slug}/calls/?search=refund").content.decode()
    assert judged["won"].sid in html and judged["lost"].sid not in html
