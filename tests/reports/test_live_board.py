"""The live wallboard (`/o/<slug>/live/`): today's calls so far against the usual for this
time of the week (only mirrored weeks count), calls in progress, answer rate, callbacks
waiting and last sync; through the page decorator, in both languages, with a JSON feed."""
from __future__ import annotations

import itertools
import random
from datetime import date, datetime, time, timedelta

from django.test import Client

from reports.pages.live import board
from sync.models import CallbackDay
from tests.support.factories import build_call, make_callback_days, save_calls

DAY = date(2026, 11, 18)  # a Wednesday; "now" is 15:00 in Sao Paulo


SEEDS = itertools.count()


def _at(env, day: date, hour: int, minute: int = 0, **fields):
    moment = datetime.combine(day, time(hour, minute), tzinfo=env.organization.tzinfo)
    return build_call(env, moment, rng=random.Random(next(SEEDS)), **fields)  # ids differ


def _day(env, day: date, before: int, after: int, *, read: bool = True) -> None:
    calls = [_at(env, day, 9 + i // 60, i % 60) for i in range(before)] + \
        [_at(env, day, 16, i) for i in range(after)]
    save_calls(env, calls, read=read)


def test_the_board_counts_today_against_the_mirrored_weeks(env_a):
    tz = env_a.organization.tzinfo
    save_calls(env_a, [_at(env_a, DAY, 8), _at(env_a, DAY, 9), _at(env_a, DAY, 10,
               status="no_answer"), _at(env_a, DAY, 14, 50, status="ringing")])
    _day(env_a, DAY - timedelta(weeks=1), 2, 5)
    _day(env_a, DAY - timedelta(weeks=2), 4, 5)
    _day(env_a, DAY - timedelta(weeks=3), 6, 5)
    _day(env_a, DAY - timedelta(weeks=4), 100, 0, read=False)  # not mirrored: left out
    make_callback_days(env_a, [DAY], seed=5)
    stats = CallbackDay.objects.get(environment=env_a, day=DAY)
    env_a.last_synced_at = datetime(2026, 11, 18, 14, 58, tzinfo=tz)
    env_a.save(update_fields=["last_synced_at"])

    figures = board(env_a.organization, [env_a], datetime(2026, 11, 18, 15, 0, tzinfo=tz))
    assert figures.calls_today == "4"
    assert figures.usual == "usually 4 by this time"  # median of 2, 4, 6
    assert figures.in_progress == "1"  # the ringing call
    assert figures.answer_rate == "50.0%"  # 2 of 4, as the dashboard writes it
    assert figures.callbacks_waiting == str(stats.total_received - stats.answered)
    assert figures.last_sync == "11/18/2026 2:58 p.m. (America/Sao_Paulo)"


def test_the_page_and_its_feed_go_through_the_page_door(env_a, alice, bob, carol):
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        page = client.get("/o/org-a/live/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "Calls today" in html and 'data-source="/o/org-a/live/data/"' in html
        assert "js/live.js" in html
        feed = client.get("/o/org-a/live/data/").json()
        assert set(feed) == {"calls_today", "usual", "in_progress", "answer_rate",
                             "callbacks_waiting", "last_sync", "updated"}
    outsider = Client()
    outsider.force_login(carol)
    assert outsider.get("/o/org-a/live/").status_code == 404
    assert outsider.get("/o/org-a/live/data/").status_code == 404
    portuguese = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    portuguese.force_login(bob)
    html = portuguese.get("/o/org-a/live/").content.decode()
    assert "Chamadas hoje" in html and "Retornos aguardando" in html
