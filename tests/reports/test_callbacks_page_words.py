"""The callbacks page names what each count counts: the vendor's callback statistics (the
cards) and the calls we linked (the funnel), the same words wherever each appears, and one
per-day table holds both (a second one repeated its columns)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.html import escape

from tests.support.cast import make_env
from tests.support.factories import make_agents, make_callback_days, make_calls

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_each_callback_count_says_what_it_counts_and_the_days_are_one_table(alice, env_a,
                                                                             language):
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    make_calls(env_a, 200, today - timedelta(days=20), today, agents=make_agents(env_a, 2))
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(20)])
    client = Client()
    client.force_login(alice)
    client.cookies["django_language"] = language
    page = client.get(f"/o/{env_a.organization.slug}/callbacks/", {"range": "7d"})
    assert page.status_code == 200
    html = page.content.decode()
    with translation.override(language):
        vendor = translation.gettext("%(vendor)s's callback statistics") % {
            "vendor": env_a.spec.label}
        linked = translation.gettext("the calls we linked")
        day = translation.gettext("Day")
    vendor, linked = escape(vendor), escape(linked)
    vendor_cap, linked_cap = vendor[0].upper() + vendor[1:], linked[0].upper() + linked[1:]
    # The cards: under the vendor's words; the funnel: the calls we linked.
    assert re.search(rf'<h2 id="h-vendor">{re.escape(vendor_cap)}</h2>\s*<section class="kpis"',
                     html)
    assert re.search(rf'<h2 id="h-funnel">[^<]*: {re.escape(linked)}</h2>', html)
    # The one per-day table: our columns under "the calls we linked", the vendor's beside.
    assert html.count(f'<th scope="col">{day}</th>') == 1
    assert f'<th scope="colgroup" colspan="5">{linked_cap}</th>' in html
    assert f'<th scope="col">{vendor_cap}</th>' in html


def test_a_vendor_without_callback_statistics_is_no_gap_on_the_callbacks_page(alice, org_a):
    """Its callbacks page says the vendor reports none, once, and names no missing days."""
    env = make_env(org_a, "Vapi desk", "vapi-private-key-0000000000000000", provider="vapi",
                   base_url="https://api.vapi.ai")
    today = timezone.localdate(timezone=org_a.tzinfo)
    make_calls(env, 80, today - timedelta(days=20), today)
    client = Client()
    client.force_login(alice)
    html = client.get(f"/o/{org_a.slug}/callbacks/", {"range": "7d", "env": env.pk}
                      ).content.decode()
    said = escape(translation.gettext("%(vendor)s does not report callback statistics.") % {
        "vendor": env.spec.label})
    assert html.count(said) == 1
    assert "not been mirrored yet" not in html and 'id="h-vendor"' not in html
