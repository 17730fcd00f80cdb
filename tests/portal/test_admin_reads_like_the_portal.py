"""Phone and admin: the admin's agent filter names each agent's environment, its times are
written as the portal writes them, the call page's raw record wraps instead of scrolling
sideways, and the explorer's SID column stays on one line."""
from __future__ import annotations

from datetime import UTC, datetime

from portal.models import Environment
from sync.models import Call
from tests.support.factories import make_agents, make_call


def test_the_agent_filter_names_environments_and_times_read_as_in_the_portal(world):
    org = world.env_a.organization
    other = Environment.objects.create(organization=org, name="A second", provider="talkover")
    make_agents(world.env_a, 1)
    make_agents(other, 1, prefix="second")
    make_call(world.env_a, None, 7, started_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    page = world.client("alice").get("/admin/sync/call/").content.decode()
    assert "Agent 1 (A main)" in page and "Agent 1 (A second)" in page
    assert "11/23/2026 9:00 AM (America/Sao_Paulo)" in page  # as the portal writes it


def test_the_explorer_keeps_a_sid_on_one_line(env_a, alice, client):
    make_call(env_a, None, 3)
    client.force_login(alice)
    html = client.get("/o/org-a/calls/", {"start": "", "end": ""}).content.decode()
    assert '<td class="nowrap"><code>' in html


def test_an_objects_page_writes_dates_as_the_portal(world):
    call = world.pairs[Call][0]
    Call.objects.filter(pk=call.pk).update(started_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    page = world.client("alice").get(f"/admin/sync/call/{call.pk}/change/").content.decode()
    assert "11/23/2026 9:00 AM" in page and "Nov. 23, 2026" not in page
