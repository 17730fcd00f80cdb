"""Search that doesn't hide: a whole SID or UUID finds its call whatever the explorer's
period; a search the box cannot do (an agent's name) says what the box searches and offers
the agent's calls; "clear the other filters" keeps the search."""
from __future__ import annotations

import html as html_lib
from datetime import timedelta

from django.utils import timezone

from tests.support.factories import build_call, make_agents, save_calls

SID = "CA" + "9ff1b856ccf04e2a" * 2


def explorer(client, **params) -> str:
    return html_lib.unescape(client.get("/o/org-a/calls/", params).content.decode())


def test_a_whole_id_finds_its_call_outside_the_default_period(env_a, alice, client):
    old = timezone.now() - timedelta(days=75)  # outside the default 30 days
    call, = save_calls(env_a, [build_call(env_a, old, sid=SID)])
    client.force_login(alice)
    for needle in (SID, SID.lower(), call.external_id, call.external_id.upper()):
        page = explorer(client, search=needle)
        assert "1 call" in page and "0 calls" not in page, needle
        assert "looked for over every date" in page
    # A cut SID keeps to the period: it may name many calls.
    assert "0 calls" in explorer(client, search=SID[:14])


def test_a_name_says_what_the_box_searches_and_offers_the_agent(env_a, alice, client):
    agent = make_agents(env_a, 2)[1]
    client.force_login(alice)
    page = explorer(client, search="Agent 2")
    assert "0 calls" in page
    assert "finds a call by its SID or call ID" in page and "“Agent 2”" in page
    assert f"agent={agent.external_id}" in page and "Show the calls of the agent Agent 2" in page
    # A phone number that matches nothing gets no such lecture.
    assert "finds a call by its SID" not in explorer(client, search="+55 11 0000")


def test_clearing_the_other_filters_keeps_the_search(env_a, alice, client):
    save_calls(env_a, [build_call(env_a, timezone.now() - timedelta(days=1), sid=SID,
                                  direction="outbound")])
    client.force_login(alice)
    page = explorer(client, search=SID[:14], direction="inbound")
    assert "0 calls" in page
    assert "keep the dates and the search" in page
    link = page.split("keep the dates and the search")[0].rsplit('href="?', 1)[1].split('"')[0]
    assert f"search={SID[:14]}" in link and "direction" not in link
    assert "1 call" in explorer(client, **dict(p.split("=", 1) for p in link.split("&")))
