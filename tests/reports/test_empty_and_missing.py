"""Every empty or missing thing is said: a filter with no match keeps the table's header and
says how to widen; a field the provider never sends is labelled so on the call page; the
transcript filter is offered only where a provider sends transcripts; the call heading
breaks a long ID instead of scrolling a phone sideways.
"""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.models import Provider
from tests.support.cast import make_env
from tests.support.factories import build_call, save_calls

pytestmark = pytest.mark.django_db

LONG_SID = "CA" + "9ff1b856ccf0417aa2" * 4


@pytest.fixture
def calls(env_a):
    """One Talkover call and one Origins call (answered, ended, with a hang-up cause) today."""
    org = env_a.organization
    origins = make_env(org, "Origins desk", "orig_key_aaaaaaaaaaaaaaaaaaaaaaaa",
                       provider=Provider.ORIGINS)
    at = timezone.now().astimezone(org.tzinfo) - timedelta(minutes=30)
    talk = build_call(env_a, at)
    talk.sid, talk.ended_at = LONG_SID, None
    orig = build_call(origins, at)
    orig.answered_at, orig.hangup_cause, orig.billed_duration = at, "NORMAL_CLEARING", 60.0
    save_calls(env_a, [talk])
    save_calls(origins, [orig])
    return talk, orig


def page(client, user, path: str, **query) -> str:
    client.force_login(user)
    response = client.get(path, query)
    assert response.status_code == 200
    return response.content.decode()


def test_no_match_keeps_the_header_and_says_how_to_widen(client, alice, calls):
    day = timezone.localdate().isoformat()
    html = page(client, alice, "/o/org-a/calls/", search="zzzz999", direction="inbound",
                date_from=day, date_to=day)
    assert "<thead>" in html and ">SID</th>" in html
    assert "0 calls" in html
    assert "No calls match these filters. Widen the dates or clear a filter." in html
    links = {unescape(h) for h in re.findall(r'href="\?([^"]*)"', html)}
    all_dates = next(q for q in links if "start=&end=&" in q + "&")
    assert parse_qs(all_dates, keep_blank_values=True)["search"] == ["zzzz999"]
    # The same period and search without the direction (clearing never drops the search).
    assert f"start={day}&end={day}&search=zzzz999" in links, links
    # Portuguese too.
    client.cookies["django_language"] = "pt-br"
    html_pt = page(client, alice, "/o/org-a/calls/", search="zzzz999")
    assert "Nenhuma chamada atende a estes filtros" in html_pt
    assert "Pesquisar todas as datas" in html_pt
    assert ">0 chamadas</span>" in html_pt  # zero takes the plural in Brazil


def test_a_match_has_no_widening_offer(client, alice, calls):
    html = page(client, alice, "/o/org-a/calls/", search=calls[0].sid)
    assert "1 call" in html and "No calls match" not in html


def test_call_page_says_what_talkover_never_sends(client, alice, calls):
    talk, orig = calls
    html = page(client, alice, f"/o/org-a/calls/{talk.pk}/")
    # Answered, ended, billed, hang-up cause, latency, recording, transcript.
    assert html.count("Not sent by Talkover") == 7
    assert 'class="call-id"' in html and LONG_SID in html
    origins = page(client, alice, f"/o/org-a/calls/{orig.pk}/")
    assert "Not sent by" not in origins
    assert "NORMAL_CLEARING" in origins and "None for this call" in origins
    client.cookies["django_language"] = "pt-br"
    assert "Não enviado pelo Talkover" in page(client, alice, f"/o/org-a/calls/{talk.pk}/")


def test_transcript_filter_only_where_a_provider_sends_transcripts(client, alice, env_a,
                                                                     calls):
    assert 'name="transcript"' in page(client, alice, "/o/org-a/calls/")
    talk, orig = calls
    orig.environment.delete()
    html = page(client, alice, "/o/org-a/calls/")
    assert 'name="transcript"' not in html
    # Asked for anyway (an old link): applied, so nothing matches, and said so.
    html = page(client, alice, "/o/org-a/calls/", transcript="refund")
    assert "No calls match" in html


@pytest.mark.browser
def test_call_page_with_a_long_id_fits_a_phone(browser, live_server, alice, calls):
    """At 390 px the heading's ID breaks instead of pushing the page sideways."""
    client = Client()
    client.force_login(alice)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  device_scale_factor=1)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[
        settings.SESSION_COOKIE_NAME].value, "url": live_server.url}])
    page = context.new_page()
    response = page.goto(f"{live_server.url}/o/org-a/calls/{calls[0].pk}/")
    assert response is not None and response.status == 200
    assert LONG_SID in page.inner_text("h1")
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    context.close()
    assert scroll <= 390



