"""A queued sync that a dying worker took off the queue before recording it is queued again.

Against the real broker (Redis): the message is popped as a worker's BRPOP pops it, and never
recorded as unacknowledged, as when the worker is killed or frozen in between. The fleet
(`tests/e2e/test_e2e_fleet.py`) kills a host while messages are in flight.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings

from portal.models import Environment
from sync import lost_dispatches, tasks
from tests.support.cast import make_env

TOKEN = "talq_lostlostlostlostlostlostlostlostlost01"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.CELERY_BROKER_URL.startswith("redis"),
                       reason="reads the messages the real broker (Redis) holds"),
]


@pytest.fixture
def broker(settings):
    """The broker's Redis, with tasks queued rather than run; what the test queued is taken
    off again afterwards (other tests' messages are left as they were)."""
    settings.SYNC_STALE_HEARTBEAT_SECONDS = 0  # every claim is old enough to be checked
    conf = tasks.dispatch.app.conf
    before, conf.task_always_eager = conf.task_always_eager, False
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    waiting = client.llen("backfill")
    client.delete(lost_dispatches.LEDGER_KEY)
    try:
        yield client
    finally:
        conf.task_always_eager = before
        added = client.llen("backfill") - waiting
        if added > 0:
            client.lpop("backfill", added)
        client.delete(lost_dispatches.LEDGER_KEY)
        client.close()


def _claim(env: Environment):
    return Environment.objects.values_list("next_sync_at", flat=True).get(pk=env.pk)


def _take_newest(client) -> bytes:
    """Pop the message the dispatch queued last (the queue is a list pushed on the left and
    popped on the right: the newest is leftmost), as a worker's BRPOP would."""
    return client.lpop("backfill")


def test_a_message_lost_between_pop_and_record_is_queued_again(org_a, broker):
    env = make_env(org_a, "lost one", TOKEN)
    assert tasks.dispatch() == [env.pk]
    claim = _claim(env)
    message = json.loads(_take_newest(broker))
    assert message["headers"]["task"] == "sync.backfill_environment"

    assert tasks.dispatch() == [], "one look may fall between a pop and its record"
    assert _claim(env) == claim
    assert tasks.dispatch() == [env.pk], "missing twice: lost, due again and queued"
    queued = json.loads(_take_newest(broker))
    assert queued["headers"]["argsrepr"] == f"({env.pk},)"
    assert queued["headers"]["id"] != message["headers"]["id"]


def test_a_message_waiting_or_taken_by_a_live_worker_is_not_lost(org_a, broker):
    waiting, taken = make_env(org_a, "waiting", TOKEN), make_env(org_a, "taken", TOKEN)
    assert tasks.dispatch() == [waiting.pk, taken.pk]
    # A live worker took the second: it is recorded as unacknowledged, as kombu records it.
    raw = _take_newest(broker)
    tag = "test-lost-dispatches-live"
    broker.hset("unacked", tag, json.dumps([json.loads(raw), "", "backfill"]))
    claims = _claim(waiting), _claim(taken)
    try:
        for _ in range(3):
            assert tasks.dispatch() == []
        assert (_claim(waiting), _claim(taken)) == claims
        assert broker.hlen(lost_dispatches.LEDGER_KEY) == 2
    finally:
        broker.hdel("unacked", tag)


def test_a_sync_that_started_leaves_the_ledger(org_a, broker):
    env = make_env(org_a, "started", TOKEN)
    assert tasks.dispatch() == [env.pk]
    _take_newest(broker)
    # The run moved the schedule (its pulse, then its end): the message did its work.
    Environment.objects.filter(pk=env.pk).update(next_sync_at=_claim(env) + timedelta(hours=1))
    for _ in range(2):
        assert tasks.dispatch() == []
    assert broker.hlen(lost_dispatches.LEDGER_KEY) == 0
