"""The live wallboard (`/o/<slug>/live/`): today's calls by hour against the anomaly
condition's usual band (only mirrored weeks count), calls in progress (open calls that
started hours ago said apart as stuck), answer rate, callbacks waiting with the oldest wait,
a tile per agent (named even when its provider names none), the figures' age, colours
from the organisation's thresholds, the team a restricted board shows; in the
navigation, through the page decorator, in both languages, with a JSON feed."""
from __future__ import annotations

import itertools
import random
from datetime import date, datetime, time, timedelta

from django.test import Client

from portal.models import Membership, Team, TeamAgent
from reports.alerts.counts import ALPHA, hour_band
from reports.holidays.models import Holiday
from reports.models import WallboardThresholds
from reports.wallboard.board import board
from sync.models import Agent, CallbackLink
from tests.support.factories import build_call, save_calls

DAY = date(2026, 11, 18)  # a Wednesday; "now" is 15:00 in Sao Paulo
SEEDS = itertools.count()


def _at(env, day: date, hour: int, minute: int = 0, **fields):
    moment = datetime.combine(day, time(hour, minute), tzinfo=env.organization.tzinfo)
    return build_call(env, moment, rng=random.Random(next(SEEDS)), **fields)  # ids differ


def _day(env, day: date, before: int, after: int, *, read: bool = True) -> None:
    calls = [_at(env, day, 9 + i // 60, i % 60) for i in range(before)] + \
        [_at(env, day, 16, i) for i in range(after)]
    save_calls(env, calls, read=read)


def _link(env, moment: datetime, n: int, *, answered: bool) -> None:
    CallbackLink.objects.create(
        environment=env, callback_external_id=f"cb-{n}", callback_started_at=moment,
        callback_day=moment.date(), callback_agent_external_id="cb-agent",
        callback_answered=answered)


def _world(env_a):
    tz = env_a.organization.tzinfo
    ann = Agent.objects.create(environment=env_a, external_id="ann", name="Ann Lee")
    save_calls(env_a, [_at(env_a, DAY, 8, agent=ann, agent_external_id="ann"),
                       _at(env_a, DAY, 9, agent=ann, agent_external_id="ann"),
                       _at(env_a, DAY, 10, status="no_answer"),
                       _at(env_a, DAY, 14, 50, status="ringing")])
    # Left open since yesterday: no call lasts that long, so stuck, not "in progress".
    save_calls(env_a, [_at(env_a, DAY - timedelta(days=1), 22, status="answered")])
    _day(env_a, DAY - timedelta(weeks=1), 2, 5)
    _day(env_a, DAY - timedelta(weeks=2), 4, 5)
    _day(env_a, DAY - timedelta(weeks=3), 6, 5)
    _day(env_a, DAY - timedelta(weeks=4), 100, 0, read=False)  # not mirrored: left out
    _link(env_a, datetime(2026, 11, 18, 12, 20, tzinfo=tz), 1, answered=False)
    _link(env_a, datetime(2026, 11, 18, 13, 0, tzinfo=tz), 2, answered=False)
    _link(env_a, datetime(2026, 11, 18, 13, 5, tzinfo=tz), 3, answered=True)
    _link(env_a, datetime(2026, 11, 17, 23, 0, tzinfo=tz), 4, answered=False)  # yesterday
    env_a.last_synced_at = datetime(2026, 11, 18, 14, 58, tzinfo=tz)
    env_a.save(update_fields=["last_synced_at"])
    return datetime(2026, 11, 18, 15, 0, tzinfo=tz)


def test_the_board_counts_today_against_the_mirrored_weeks(env_a):
    now = _world(env_a)
    figures = board(env_a.organization, [env_a], now)
    assert figures.calls_today == "4"
    assert figures.usual == "usually 4 by this time"  # median of 2, 4, 6
    assert figures.in_progress == "1"  # the ringing call; not yesterday's open one
    assert figures.stuck == "1 stuck open since 11/17/2026 10:00 PM"
    assert figures.answer_rate == "50.0%"  # 2 of 4, as the dashboard writes it
    assert figures.callbacks_waiting == "2"  # today's two unanswered callbacks
    assert figures.oldest_wait == "oldest waiting 2 h 40 m"  # since 12:20
    assert figures.last_sync == "11/18/2026 2:58 PM"  # the zone is named once, by the page
    assert (figures.data_age, figures.sync_state, figures.sync_note) == (
        "2 minutes ago", "ok", "")
    hours = {h["hour"]: h for h in figures.hours}
    assert [hours[h]["calls"] for h in (8, 9, 10, 14)] == [1, 1, 1, 1]
    assert hours[16]["calls"] is None  # not yet
    # 09:00's band is the anomaly condition's, over the three mirrored weeks (2, 4, 6 calls
    # between 09:00 and 09:59; week four not mirrored, weeks five and six never read).
    # Those weeks vary as Poisson counts do (no dispersion): the count model's band of one hour.
    alpha = ALPHA["medium"]
    band = hour_band([2, 4, 6], 0.0, alpha)
    assert (hours[9]["low"], hours[9]["high"]) == (band.low, band.high)
    assert hours[16]["high"] == hour_band([5, 5, 5], 0.0, alpha).high
    tiles = {t["name"]: t for t in figures.agents}
    assert tiles["Ann Lee"]["calls"] == "2 calls"
    assert tiles["Ann Lee"]["answer_rate"] == "100.0%"
    assert tiles["Ann Lee"]["environment"] == ""  # one environment: no column to repeat


def test_on_a_holiday_the_board_compares_today_with_sundays_as_an_anomaly_rule_does(env_a):
    now = _world(env_a)
    sunday = DAY - timedelta(days=DAY.weekday() + 1)  # the Sunday before the Wednesday
    for week, before in enumerate((1, 1, 3)):
        _day(env_a, sunday - timedelta(weeks=week), before, 0)
    org = env_a.organization
    Holiday.objects.create(organization=org, day=DAY, name="Founders' day")
    figures = board(org, [env_a], now)
    assert figures.usual == "usually 1 by this time"  # median of the Sundays' 1, 1, 3
    hours = {h["hour"]: h for h in figures.hours}
    assert hours[9]["high"] == hour_band([1, 1, 3], 0.0, ALPHA["medium"]).high
    # A past Wednesday on the list is left out of an ordinary Wednesday's usual.
    Holiday.objects.for_organization(org).delete()
    Holiday.objects.create(organization=org, day=DAY - timedelta(weeks=1), name="Carnival")
    assert board(org, [env_a], now).usual == "usually 5 by this time"  # median of 4, 6


def test_tiles_turn_amber_and_red_past_the_organisation_thresholds(env_a):
    now = _world(env_a)
    org = env_a.organization
    assert board(org, [env_a], now).answer_state == ""  # 4 calls: fewer than 5, no colour
    WallboardThresholds.objects.create(organization=org, min_calls=2, answer_rate_amber=60,
                                       answer_rate_red=40, waiting_amber=2, waiting_red=9,
                                       oldest_wait_amber=30, oldest_wait_red=600)
    figures = board(org, [env_a], now)
    assert figures.answer_state == "amber"  # 50 %: below 60, not below 40
    assert figures.waiting_state == "amber"  # 2 waiting, the oldest 160 minutes
    WallboardThresholds.objects.for_organization(org).update(oldest_wait_red=120)
    assert board(org, [env_a], now).waiting_state == "red"


def test_the_page_is_in_the_navigation_and_goes_through_the_page_door(env_a, alice, bob,
                                                                       carol):
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        assert 'href="/o/org-a/live/"' in client.get("/o/org-a/").content.decode()
        page = client.get("/o/org-a/live/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "Calls today" in html and 'data-source="/o/org-a/live/data/"' in html
        assert "js/live.js" in html and "Times in America/Sao_Paulo" in html
        assert html.count("America/Sao_Paulo") == 1
        feed = client.get("/o/org-a/live/data/").json()
        assert {"calls_today", "in_progress", "stuck", "data_age", "sync_state",
                "callbacks_waiting", "oldest_wait", "hours", "agents", "team"} <= set(feed)
        assert len(feed["hours"]) == 24
    outsider = Client()
    outsider.force_login(carol)
    assert outsider.get("/o/org-a/live/").status_code == 404
    assert outsider.get("/o/org-a/live/data/").status_code == 404
    portuguese = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    portuguese.force_login(bob)
    html = portuguese.get("/o/org-a/live/").content.decode()
    assert "Chamadas hoje" in html and "Retornos aguardando" in html
    assert "Ao vivo" in portuguese.get("/o/org-a/").content.decode()


def test_admins_set_the_thresholds_viewers_cannot(env_a, alice, bob):
    viewer = Client()
    viewer.force_login(bob)
    assert viewer.get("/o/org-a/live/thresholds/").status_code == 403
    owner = Client()
    owner.force_login(alice)
    assert 'href="/o/org-a/live/thresholds/"' in owner.get("/o/org-a/live/").content.decode()
    values = {"answer_rate_amber": 85, "answer_rate_red": 70, "waiting_amber": 3,
              "waiting_red": 8, "oldest_wait_amber": 10, "oldest_wait_red": 45, "min_calls": 3}
    assert owner.post("/o/org-a/live/thresholds/", {**values, "answer_rate_red": 90}
                      ).status_code == 400  # red above amber: refused
    assert owner.post("/o/org-a/live/thresholds/", values).status_code == 302
    saved = WallboardThresholds.objects.for_organization(env_a.organization).get()
    assert (saved.answer_rate_amber, saved.oldest_wait_red) == (85, 45)


def test_a_restricted_members_board_names_their_team_and_shows_its_agents(env_a, bob,
                                                                         monkeypatch):
    now = _world(env_a)
    monkeypatch.setattr("reports.pages.live.now", lambda: now)
    org = env_a.organization
    team = Team.objects.create(organization=org, name="Red")
    TeamAgent.objects.create(team=team, environment=env_a, agent_external_id="ann")
    Membership.objects.get(user=bob, organization=org).teams.set([team])
    client = Client()
    client.force_login(bob)
    html = client.get("/o/org-a/live/").content.decode()
    assert "Team: Red" in html
    feed = client.get("/o/org-a/live/data/").json()
    assert feed["team"] == "Red"
    assert feed["calls_today"] == "2"  # Ann's calls only
    assert [t["name"] for t in feed["agents"]] == ["Ann Lee"]
    assert feed["callbacks_waiting"] == "0"  # the callbacks' agent is not Red's


def test_a_call_open_for_hours_is_stuck_not_in_progress(env_a):
    """An "Initiated" call of three hours ago is not in progress: the mirror never saw its
    end. It is named apart, with when the oldest such call started."""
    now = datetime(2026, 11, 18, 15, 0, tzinfo=env_a.organization.tzinfo)
    save_calls(env_a, [_at(env_a, DAY, 12, 0, status="initiated"),
                       _at(env_a, DAY, 12, 30, status="ringing"),
                       _at(env_a, DAY, 14, 10, status="answered"),
                       _at(env_a, DAY, 14, 55, status="queued")])
    figures = board(env_a.organization, [env_a], now)
    assert figures.in_progress == "2"
    assert figures.stuck == "2 stuck open since 11/18/2026 12:00 PM"


def test_the_figures_say_how_old_they_are_amber_then_red(env_a):
    """The data's age, judged by the environment's sync interval: amber past two intervals,
    red past four; the least recently synced environment speaks for the board."""
    tz = env_a.organization.tzinfo
    now = datetime(2026, 11, 18, 15, 0, tzinfo=tz)
    env_a.sync_interval_minutes = 15
    for minutes, state in ((29, "ok"), (31, "amber"), (59, "amber"), (61, "red")):
        env_a.last_synced_at = now - timedelta(minutes=minutes)
        figures = board(env_a.organization, [env_a], now)
        assert figures.sync_state == state, minutes
        assert figures.data_age == (f"{minutes} minutes ago" if minutes < 60 else "1 h 01 m ago")
        assert bool(figures.sync_note) == (state != "ok")
    env_a.last_synced_at = now - timedelta(hours=3, minutes=5)
    figures = board(env_a.organization, [env_a], now)
    assert figures.data_age == "3 h 05 m ago"
    assert figures.sync_note == "Not current: the mirror syncs every 15 minutes"
    env_a.last_synced_at = None
    assert board(env_a.organization, [env_a], now).sync_state == "red"


def test_every_agent_has_a_name_even_when_its_provider_gives_none(env_a):
    """An agent whose provider names none (its Agent row has only the id) reads "Agent
    #4012", never a bare "4012" that looks like a figure."""
    agent = Agent.objects.create(environment=env_a, external_id="4012")
    save_calls(env_a, [_at(env_a, DAY, 9, agent=agent, agent_external_id="4012")])
    now = datetime(2026, 11, 18, 15, 0, tzinfo=env_a.organization.tzinfo)
    assert [t["name"] for t in board(env_a.organization, [env_a], now).agents] == [
        "Agent #4012"]
