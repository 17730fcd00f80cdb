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
    # A run begun after it is told at once, its row written ended in that one statement.
    late, stopped = under_way.begin(_create(env_a), None)
    assert stopped == SAID
    late.refresh_from_db()
    assert (late.status, late.error) == (RunStatus.FAILED, SAID) and late.finished_at
    assert list(under_way._runs) == []
    begun.refresh_from_db()
    assert begun.status == RunStatus.FAILED


def test_a_run_marked_stopped_stays_stopped_when_its_thread_reaches_its_end(
        env_a, interruptible):
    """Resumed after the signal, the run's own thread may finish it a moment after the
    interrupt marked it stopped: the stop line counted it, so its row must not then say it
    succeeded. And a run whose end came first is not counted by the stop."""
    from sync.engine import _finish

    stopped_run, _ = under_way.begin(_create(env_a), None)
    ended_run, _ = under_way.begin(_create(env_a), None)
    _finish(ended_run, RunStatus.SUCCEEDED)
    said = under_way.stop_runs_under_way(sender=None, signum=signal.SIGINT)
    _finish(stopped_run, RunStatus.SUCCEEDED)

    assert said == "1 sync run marked stopped"
    stopped_run.refresh_from_db()
    ended_run.refresh_from_db()
    assert (stopped_run.status, stopped_run.error) == (RunStatus.FAILED, SAID)
    assert (ended_run.status, ended_run.error) == (RunStatus.SUCCEEDED, "")
