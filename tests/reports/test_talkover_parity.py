"""Parity: one Talkover client, pointed at the simulator and at Switchboard, sees the same.

The simulator speaks Talkover's documented behaviour (`/work/shared/upstream/`); Switchboard
mirrors it (a real sync over sockets) and serves the compatible API from a live server. The
same client code asks both the same questions: validation wording, the callback-stats date
defaults, and whole listings (items, order, pagination), filtered and searched.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import requests

from portal.models import ApiToken
from sync.engine import sync_environment
from sync.models import Call
from tests.support.sync_support import ENV, point_env, served, small_config

Get = Callable[..., requests.Response]


def talkover_client(base_url: str, token: str) -> Get:
    """What a client written against Talkover's documentation does: bearer token, GET."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def get(path: str, **params: object) -> requests.Response:
        return session.get(f"{base_url}{path}", params=params, timeout=30)

    return get


@pytest.fixture(scope="module")
def upstream():
    # The simulator's "today" is the real UTC day, as Switchboard's is.
    with served(small_config(days=5, calls_per_day=90,
                             end_date=datetime.now(UTC).date())) as pair:
        yield pair


@pytest.fixture
def both(upstream, live_server, org_a, alice) -> dict[str, Get]:
    sim, server = upstream
    # Switchboard's date_from / date_to are the organisation's days (documented); Talkover's
    # are UTC days: a UTC organisation makes them the same days.
    org_a.timezone = "UTC"
    org_a.save()
    env = point_env(org_a, sim, server)
    outcome = sync_environment(env, now=sim.now)
    assert not outcome.failed, [r.error for r in outcome.runs]
    _, token = ApiToken.issue(alice, name="parity")
    return {
        "talkover": talkover_client(server.talkover_url, sim.tokens[ENV]),
        "switchboard": talkover_client(
            f"{live_server.url}/api/v1/environments/{env.pk}", token),
    }


def invalid(field: str, message: str) -> dict:
    return {"success": False, "message": "The given data was invalid.",
            "errors": {field: [message]}}


def same_answer(both: dict[str, Get], path: str, **params: object) -> requests.Response:
    answers = {name: get(path, **params) for name, get in both.items()}
    talkover, switchboard = answers["talkover"], answers["switchboard"]
    assert switchboard.status_code == talkover.status_code, (path, params, switchboard.text)
    assert switchboard.json() == talkover.json(), (path, params)
    return switchboard


def test_lone_end_date_takes_the_documented_default_start(both):
    today = datetime.now(UTC).date()
    early = same_answer(both, "/callback-agents/stats",
                        end_date=(today - timedelta(days=31)).isoformat())
    assert early.status_code == 422
    assert early.json() == invalid("end_date",
                                   "The end date must be a date after or equal to start date.")
    for name, get in both.items():
        inside = get("/callback-agents/stats", end_date=(today - timedelta(days=2)).isoformat())
        assert inside.status_code == 200, name
        assert inside.json()["data"]["period"] == {
            "start": (today - timedelta(days=30)).isoformat(),
            "end": (today - timedelta(days=2)).isoformat()}, name


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "2026-1-05"])
def test_bad_start_date_says_it_must_be_a_valid_date(both, value):
    answer = same_answer(both, "/callback-agents/stats", start_date=value)
    assert answer.status_code == 422
    assert answer.json() == invalid("start_date", "The start date must be a valid date.")


def test_queued_is_not_a_talkover_status(both):
    answer = same_answer(both, "/calls", status="queued")
    assert answer.status_code == 422
    assert answer.json() == invalid("status", "The selected status is invalid.")
    agent = Call.objects.exclude(agent_external_id="").first().agent_external_id
    by_agent = same_answer(both, f"/agents/{agent}/calls", status="queued")
    assert by_agent.json() == invalid("status", "The selected status is invalid.")


def test_unknown_agent_id_is_invalid(both):
    answer = same_answer(both, "/calls", agent_id="00000000-0000-4000-8000-000000000000")
    assert answer.status_code == 422
    assert answer.json() == invalid("agent_id", "The selected agent id is invalid.")


def test_listings_are_the_same_item_for_item(both):
    """Whole pages (items, their order — ties included — and pagination), as Talkover
    answers them, for documented filters, a deep page and searches by part of a number or
    SID."""
    call = Call.objects.order_by("external_id")[40]
    agent = call.agent_external_id
    day = call.started_at.astimezone(call.environment.organization.tzinfo).date()
    # A part of a number that more than one page of calls share (the data follows the clock:
    # a fixed slice may match five calls one day and fifty the next).
    shared = next(call.to_number[1:end] for end in range(8, 2, -1)
                  if Call.objects.filter(to_number__contains=call.to_number[1:end]).count() > 5)
    for params in [
        {},
        {"per_page": 25, "page": 7},
        {"status": "completed", "per_page": 50, "page": 2},
        {"direction": "inbound", "per_page": 100},
        {"agent_id": agent, "status": "no-answer"},
        {"date_from": day.isoformat(), "date_to": day.isoformat(), "per_page": 30, "page": 2},
        {"search": call.sid[2:10].lower()},
        {"search": call.sid[-6:]},
        {"search": call.to_number[-4:]},
        {"search": shared, "per_page": 5, "page": 2},
    ]:
        answer = same_answer(both, "/calls", **params)
        assert answer.status_code == 200
        if "search" in params:
            assert answer.json()["data"], params
    same_answer(both, f"/agents/{agent}/calls", per_page=40, page=3)
