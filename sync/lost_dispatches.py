"""Dispatched syncs whose message the broker no longer holds: found, and due again.

Redis' transport hands a message to a worker by popping it off its queue (BRPOP) and only
then records it as unacknowledged (the hash a dead worker's messages are restored from). A
worker host killed or frozen between the two — SIGKILL, the OOM killer, a host cut off while
the popped message is still in its socket — takes the message with it: no queue holds it, no
worker will run it, and the dispatcher's claim (`next_sync_at` a whole interval out) keeps the
environment from falling due again for that interval.

So the dispatcher keeps a ledger in the broker's Redis: per environment it queued, the task's
id and the claim it made. A claim still in place after a stale interval (the pulse of a sync
that started moves `next_sync_at`, so a changed claim means the message was run) is checked
against what the broker holds: the waiting messages of the sync queues and the unacknowledged
ones (taken by a live worker, or waiting on a countdown). A message found in neither on two
ticks running (one look could fall between a pop and its record) is lost: the environment
falls due now and the same tick queues its sync again.

Only with a Redis broker; without one (the demo) tasks run in process and nothing is lost.
The ledger is a help, not a need: when Redis does not answer, the claim's interval is the
fallback, as before.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from portal.models import Environment
from sync.cache_errors import CACHE_ERRORS
from sync.pulse import stale_seconds

logger = logging.getLogger("sync.lost_dispatches")

LEDGER_KEY = "sync:dispatched"


def _redis_channel(app):
    """The broker's Redis channel, or None when the broker is not Redis."""
    conn = app.connection_for_write()
    if conn.transport.driver_type != "redis":
        conn.release()
        return None, None
    return conn, conn.default_channel


def publish(task, environment_id: int, claim: datetime) -> None:
    """Queue `task` for the environment, recording its id and the dispatcher's claim first
    (so a task that starts at once never finds its entry missing)."""
    task_id = str(uuid.uuid4())
    conn, channel = (None, None) if task.app.conf.task_always_eager else \
        _redis_channel(task.app)
    if channel is not None:
        try:
            channel.client.hset(LEDGER_KEY, str(environment_id), json.dumps(
                {"task": task_id, "claim": claim.isoformat(), "at": time.time()}))
        except CACHE_ERRORS as exc:
            logger.warning("environment %s: dispatch not recorded (%s)", environment_id,
                           type(exc).__name__)
        finally:
            conn.release()
    task.apply_async((environment_id,), task_id=task_id)


def recover(app, queues: Iterable[str]) -> list[int]:
    """Make due again the environments whose queued sync the broker lost; their ids."""
    if app.conf.task_always_eager:
        return []
    conn, channel = _redis_channel(app)
    if channel is None:
        return []
    try:
        return _recover(channel, list(queues))
    except CACHE_ERRORS as exc:
        logger.warning("lost dispatches not checked: broker unavailable (%s)",
                       type(exc).__name__)
        return []
    finally:
        conn.release()


def _recover(channel, queues: list[str]) -> list[int]:
    client = channel.client
    ledger = {int(pk): json.loads(raw) for pk, raw in client.hgetall(LEDGER_KEY).items()}
    if not ledger:
        return []
    claims = dict(Environment.objects.filter(pk__in=ledger).values_list("pk", "next_sync_at"))
    settled = [pk for pk, entry in ledger.items()
               if claims.get(pk) != parse_datetime(entry["claim"])]
    if settled:  # run, re-scheduled or deleted since: its message did its work
        client.hdel(LEDGER_KEY, *settled)
    old_enough = time.time() - stale_seconds()
    waiting = {pk: entry for pk, entry in ledger.items()
               if pk not in settled and entry["at"] <= old_enough}
    if not waiting:
        return []
    held = _task_ids_held(channel, queues)
    lost, missing_once = [], {}
    for pk, entry in waiting.items():
        if entry["task"] in held:
            if entry.get("missing"):
                missing_once[pk] = {**entry, "missing": False}
        elif entry.get("missing"):
            lost.append(pk)
        else:
            missing_once[pk] = {**entry, "missing": True}
    if missing_once:
        client.hset(LEDGER_KEY, mapping={str(pk): json.dumps(entry)
                                         for pk, entry in missing_once.items()})
    recovered = []
    for pk in lost:
        claim = parse_datetime(waiting[pk]["claim"])
        if Environment.objects.filter(pk=pk, next_sync_at=claim).update(
                next_sync_at=timezone.now()):
            recovered.append(pk)
            logger.warning("environment %s: its queued sync was lost (the broker holds no "
                           "message of it); due again", pk)
        client.hdel(LEDGER_KEY, str(pk))
    return recovered


def _task_ids_held(channel, queues: list[str]) -> set[str]:
    """The ids of every task the broker holds for `queues`' workers: waiting on a queue, or
    taken and not yet acknowledged. Read in one transaction, so a message that moves from
    one to the other is not missed in between."""
    pipe = channel.client.pipeline(transaction=True)
    for queue in queues:
        pipe.lrange(queue, 0, -1)
    pipe.hvals(channel.unacked_key)
    *waiting, unacked = pipe.execute()
    ids = {json.loads(raw).get("headers", {}).get("id") for rows in waiting for raw in rows}
    ids.update(json.loads(raw)[0].get("headers", {}).get("id") for raw in unacked)
    return ids
