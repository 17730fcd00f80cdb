"""An interrupted command marks stopped every run whose row says running, even one whose stream
had not started when the signal landed (`sync.under_way`): the row and the process's count of
it are written in one step, so a Ctrl-C between them cannot leave a run "running" until its
heartbeat goes stale, nor a stop line that leaves it out.
"""
from __future__ import annotations

import signal
from collections.abc import Iterator
from functools import partial

import pytest

from sync import under_way
from sync.locks import EnvironmentLock
from sync.models import SyncRun
from sync.models.core import RunStatus, Trigger

pytestmark = pytest.mark.django_db(transaction=True)

SAID = "stopped by Ctrl-C before it ended"


@pytest.fixture
def interruptible() -> Iterator[None]:
    """This process's record of runs under way, as a fresh command starts with it."""
    yield
    under_way._stopped.clear()
    under_way._runs.clear()


def _create(env) -> partial:
    return partial(SyncRun.objects.create, environment=env, stream="calls",
                   trigger=Trigger.MANUAL)


def test_a_run_begun_but_not_started_is_marked_stopped_and_its_environment_freed(
        env_a, interruptible):
    lock = EnvironmentLock(env_a.pk)
    assert lock.acquire()
    run, stopped = under_way.begin(_create(env_a), lock)
    assert stopped == "" and run.status == RunStatus.RUNNING

    said = under_way.stop_runs_under_way(sender=None, signum=signal.SIGINT)

    assert said == "1 sync run marked stopped"
    run.refresh_from_db()
    assert (run.status, run.error) == (RunStatus.FAILED, SAID)
    assert EnvironmentLock(env_a.pk).acquire(), "the environment is free at once"


def test_after_an_interrupt_no_stream_starts_and_no_new_run_goes_unended(
        env_a, interruptible):
    begun, _ = under_way.begin(_create(env_a), None)
    under_way.stop_runs_under_way(sender=None, signum=signal.SIGINT)

    # The stream of the run begun before the interrupt does not start: the receiver took it.
    assert under_way.started(under_way.Begun(begun, None)) == SAID
    # A run begun after it is told at once, for its caller to end it.
    _, stopped = under_way.begin(_create(env_a), None)
    assert stopped == SAID
    assert list(under_way._runs) == []
    begun.refresh_from_db()
    assert begun.status == RunStatus.FAILED
