"""The demo stays current: "sync now" runs beside the request, beat runs in process, and an
environment late by more than twice its interval is marked overdue wherever its sync shows.
"""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.celery import app
from portal.inprocess_beat import InProcessBeat
from portal.models import Environment
from portal.schedule import BEAT_SCHEDULE
from sync.models import SyncRun
from sync.simulator import SimulatorConfig, running_simulator


@pytest.fixture
def no_broker(settings):
    """As in the demo: no broker, so queued work runs on a thread of this process."""
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.TASKS_IN_BACKGROUND = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def simulated():
    with running_simulator(SimulatorConfig(seed=3, days=2, calls_per_day=10)) as pair:
        yield pair


def _point(env: Environment, sim, server) -> Environment:
    env.base_url = server.talkover_url
    env.set_token(sim.tokens["acme-sales"])
    env.requests_per_minute = 6000
    env.backfill_days = 2
    env.save()
    return env


def _wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _succeeded(env: Environment) -> int:
    return SyncRun.objects.filter(environment=env, status="succeeded").count()


def _synced(env: Environment) -> bool:
    """The whole task is done: its three runs succeeded and then (a moment later, after the
    last run is saved) the environment's "last synced" moved. Waiting on the runs alone let a
    check or the teardown race the task's last write."""
    return _succeeded(env) == 3 and Environment.objects.filter(
        pk=env.pk, last_synced_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_sync_now_returns_at_once_and_the_run_shows(client, alice, env_a, no_broker, simulated):
    _point(env_a, *simulated)
    client.force_login(alice)
    started = time.monotonic()
    response = client.post(f"/o/org-a/sync/{env_a.pk}/now/")
    assert response.status_code == 302 and time.monotonic() - started < 2.0
    assert _wait_for(lambda: SyncRun.objects.filter(environment=env_a).exists(), 10.0), \
        "the run shows within seconds"
    assert _wait_for(lambda: _synced(env_a))
    assert "Succeeded" in client.get("/o/org-a/sync/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_admin_sync_now_runs_in_the_background(client, alice, env_a, no_broker, simulated):
    _point(env_a, *simulated)
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    client.force_login(alice)
    response = client.post(reverse("admin:portal_environment_changelist"), {
        "action": "sync_now", "_selected_action": [env_a.pk]}, follow=True)
    assert response.status_code == 200
    assert _wait_for(lambda: _synced(env_a))


@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_production_schedule_in_process(env_a, no_broker, simulated):
    _point(env_a, *simulated)
    Environment.objects.filter(pk=env_a.pk).update(next_sync_at=timezone.now())
    beat = InProcessBeat(max_sleep=0.5)
    assert {task for task, _ in beat.entries.values()} == {
        entry["task"] for entry in BEAT_SCHEDULE.values()}
    beat.start()
    try:
        assert _wait_for(lambda: _synced(env_a))
    finally:
        beat.stop()
    env_a.refresh_from_db()
    assert env_a.last_synced_at is not None and env_a.next_sync_at > timezone.now()


@pytest.mark.django_db
def test_overdue_is_marked_wherever_a_sync_time_shows(client, alice, env_a):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    late = 2 * env_a.sync_interval_minutes
    env_a.last_synced_at = timezone.now() - timedelta(minutes=late + 1)
    env_a.save()
    assert env_a.is_overdue()
    client.force_login(alice)
    for url in ("/o/org-a/", "/o/org-a/sync/", "/o/org-a/calls/"):
        assert "overdue" in client.get(url).content.decode(), url
    admin_list = client.get(reverse("admin:portal_environment_changelist")).content.decode()
    assert "column-overdue" in admin_list and 'alt="True"' in admin_list
    env_a.last_synced_at = timezone.now() - timedelta(minutes=late - 1)
    env_a.save()
    assert "overdue" not in client.get("/o/org-a/").content.decode()
    env_a.sync_enabled = False
    env_a.last_synced_at = timezone.now() - timedelta(days=3)
    env_a.save()
    assert not env_a.is_overdue(), "a paused environment is paused, not late"
