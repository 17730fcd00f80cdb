"""Admin actions: sync now, back-fill, pause/resume, mark token replaced, revoke API tokens.
Each is audited, scoped to the actor's organisations and refused to viewers."""
from __future__ import annotations

import os
import uuid

import pytest
from django.urls import reverse

from portal.celery import app
from portal.models import ApiToken, AuditLog, Environment
from portal.tasks_client import TaskNotAvailable, enqueue

CHANGELIST = "admin:portal_environment_changelist"


@pytest.fixture
def always_eager():
    """Set Celery's eager mode for one test (conf is not a plain object monkeypatch can undo)."""
    def set_mode(value: bool) -> None:
        app.conf.task_always_eager = value

    before = app.conf.task_always_eager
    yield set_mode
    app.conf.task_always_eager = before


@pytest.fixture
def queued(monkeypatch, always_eager) -> list[tuple[str, tuple, dict]]:
    """Run in eager mode with recording stand-ins for the sync tasks; returns the calls."""
    calls: list[tuple[str, tuple, dict]] = []
    app.tasks  # noqa: B018 - finalise the app so the registry is complete before patching
    for name in ("sync.sync_environment", "sync.backfill_environment"):
        def record(*args, _name=name, **kwargs):
            calls.append((_name, args, kwargs))

        # A fresh name each time: Celery returns an already-registered task for a known name.
        task = app.task(name=f"tests.recorder.{uuid.uuid4().hex}", shared=False)(record)
        monkeypatch.setitem(app.tasks, name, task)
    always_eager(True)
    return calls


def act(world, user: str, action: str, *objects, url: str = CHANGELIST, **extra):
    return world.client(user).post(reverse(url), {
        "action": action, "_selected_action": [o.pk for o in objects], **extra,
    }, follow=True)


def messages_of(response) -> str:
    return " | ".join(str(m) for m in response.context["messages"])


def test_sync_now_queues_and_says_where_to_watch(world, queued):
    response = act(world, "alice", "sync_now", world.env_a)
    assert queued == [("sync.sync_environment", (world.env_a.pk,), {"trigger": "manual"})]
    text = messages_of(response)
    assert "/o/org-a/sync/" in text
    assert f"/admin/sync/syncrun/?environment__id__exact={world.env_a.pk}" in text
    entry = AuditLog.objects.get(action="environment.sync_requested")
    assert entry.actor == world.users["alice"] and entry.organization == world.env_a.organization


def test_actions_ignore_other_organizations_objects(world, queued):
    act(world, "alice", "sync_now", world.env_a, world.env_b)
    assert [args for _, args, _ in queued] == [(world.env_a.pk,)]
    act(world, "carol", "pause_sync", world.env_a)
    world.env_a.refresh_from_db()
    assert world.env_a.sync_enabled
    assert not AuditLog.objects.filter(action="environment.sync_paused").exists()


def test_superuser_acts_on_any_organization(world, queued):
    act(world, "root", "sync_now", world.env_a, world.env_b)
    assert sorted(args for _, args, _ in queued) == sorted([(world.env_a.pk,), (world.env_b.pk,)])


@pytest.mark.parametrize("action", [
    "sync_now", "backfill", "pause_sync", "resume_sync", "mark_token_replaced",
])
def test_viewer_is_refused_every_action(world, queued, action):
    response = act(world, "bob", action, world.env_a)
    assert response.status_code == 403
    assert queued == [] and not AuditLog.objects.filter(actor=world.users["bob"]).exists()


def test_backfill_days(world, queued):
    act(world, "alice", "backfill", world.env_a, days="7")
    act(world, "alice", "backfill", world.env_a, days="")
    assert queued == [
        ("sync.backfill_environment", (world.env_a.pk,), {"days": 7}),
        ("sync.backfill_environment", (world.env_a.pk,), {"days": world.env_a.backfill_days}),
    ]
    assert AuditLog.objects.filter(action="environment.backfill_requested").count() == 2


@pytest.mark.parametrize("days", ["abc", "0", "-3", "99999", "2.5"])
def test_backfill_with_bad_days_explains_and_queues_nothing(world, queued, days):
    response = act(world, "alice", "backfill", world.env_a, days=days)
    assert response.status_code == 200
    assert "whole number from 1 to 3650" in messages_of(response)
    assert queued == []


def test_rejected_token_is_not_synced(world, queued):
    Environment.objects.filter(pk=world.env_a.pk).update(status="auth_failed")
    response = act(world, "alice", "sync_now", world.env_a)
    assert queued == []
    assert "token was rejected" in messages_of(response)


def test_pause_resume_and_mark_token_replaced(world, queued):
    env = world.env_a
    act(world, "alice", "pause_sync", env)
    env.refresh_from_db()
    assert (env.sync_enabled, env.status) == (False, "paused")
    act(world, "alice", "resume_sync", env)
    env.refresh_from_db()
    assert (env.sync_enabled, env.status) == (True, "active") and env.next_sync_at is not None

    Environment.objects.filter(pk=env.pk).update(status="auth_failed", status_reason="401")
    act(world, "alice", "pause_sync", env)
    env.refresh_from_db()
    assert (env.sync_enabled, env.status) == (False, "auth_failed")
    response = act(world, "alice", "resume_sync", env)
    assert "Still waiting for a new token" in messages_of(response)
    act(world, "alice", "mark_token_replaced", env)
    env.refresh_from_db()
    assert (env.status, env.status_reason) == ("active", "")
    actions = list(AuditLog.objects.filter(target_id=str(env.pk)).order_by("created_at")
                   .values_list("action", flat=True))
    assert actions == [
        "environment.sync_paused", "environment.sync_resumed", "environment.sync_paused",
        "environment.sync_resumed", "environment.token_marked_replaced",
    ]


def test_mark_token_replaced_without_rejected_token_changes_nothing(world):
    response = act(world, "alice", "mark_token_replaced", world.env_a)
    assert "None of the selected environments" in messages_of(response)
    assert not AuditLog.objects.filter(action="environment.token_marked_replaced").exists()


def test_revoke_api_tokens(world):
    url = "admin:portal_apitoken_changelist"
    mine, theirs = world.pairs[ApiToken]
    # Personal tokens are managed by their owner and superusers only, never an org admin.
    assert act(world, "alice", "revoke_tokens", mine, theirs, url=url).status_code == 403
    assert act(world, "bob", "revoke_tokens", mine, url=url).status_code == 403
    act(world, "root", "revoke_tokens", mine, url=url)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    entry = AuditLog.objects.get(action="api_token.revoked")
    assert entry.organization is None and entry.target_id == str(mine.pk)


def test_missing_task_is_reported_not_pretended(world, monkeypatch, always_eager):
    always_eager(True)
    app.loader.import_default_modules()  # else the lookup's lazy import registers it again
    monkeypatch.delitem(app.tasks, "sync.sync_environment", raising=False)
    with pytest.raises(TaskNotAvailable):
        enqueue("sync.sync_environment", world.env_a.pk)
    response = act(world, "alice", "sync_now", world.env_a)
    assert "not installed here; nothing was queued" in messages_of(response)
    assert not AuditLog.objects.filter(action="environment.sync_requested").exists()


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a real broker (REDIS_URL)")
def test_with_a_broker_the_task_goes_to_its_queue(world, always_eager):
    import redis

    always_eager(False)
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    before = broker.llen("backfill")
    enqueue("sync.backfill_environment", world.env_a.pk, days=3)
    try:
        assert broker.llen("backfill") == before + 1
        assert b"sync.backfill_environment" in broker.lindex("backfill", 0)
    finally:
        broker.lpop("backfill")


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs a real broker (REDIS_URL)")
def test_moments_after_redis_failed_nothing_waits_on_the_queue(world, always_eager):
    """The broker is the cache's Redis: while the guard skips it, queuing answers at once
    (a request that waited on Redis for its session does not wait again)."""
    import redis

    from portal import redis_guard
    from portal.tasks_client import QueueUnavailable

    always_eager(False)
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    before = broker.llen("backfill")
    redis_guard.mark_down("test", TimeoutError())
    try:
        with pytest.raises(QueueUnavailable):
            enqueue("sync.backfill_environment", world.env_a.pk, days=3)
    finally:
        redis_guard.reset()
    assert broker.llen("backfill") == before
    enqueue("sync.backfill_environment", world.env_a.pk, days=3)  # the guard cleared: queued
    try:
        assert broker.llen("backfill") == before + 1
    finally:
        broker.lpop("backfill")


def test_action_bar_offers_every_action_and_the_days_field(world):
    page = world.client("alice").get(reverse(CHANGELIST)).content.decode()
    assert 'name="days"' in page
    for action in ("sync_now", "backfill", "pause_sync", "resume_sync", "mark_token_replaced"):
        assert f'value="{action}"' in page


def test_environment_page_offers_its_actions(world, queued):
    page = world.client("alice").get(
        reverse("admin:portal_environment_change", args=[world.env_a.pk])).content.decode()
    assert 'id="environment-actions"' in page and 'value="sync_now"' in page
    assert 'value="mark_token_replaced"' not in page  # only when the token was rejected
    response = act(world, "alice", "backfill", world.env_a, days="3")
    assert response.status_code == 200
    assert queued == [("sync.backfill_environment", (world.env_a.pk,), {"days": 3})]


def test_messages_count_in_words_singular_and_plural_in_both_languages(world, queued):
    """An action's message agrees with its count ("1 environment", "2 environments"), never
    "environment(s)", in English and in Portuguese."""
    second = Environment.objects.create(organization=world.env_a.organization, name="Second",
                                        provider=world.env_a.provider,
                                        base_url=world.env_a.base_url)
    assert "Paused sync of 1 environment." in messages_of(
        act(world, "alice", "pause_sync", world.env_a))
    assert "Resumed sync of 2 environments." in messages_of(
        act(world, "alice", "resume_sync", world.env_a, second))
    client = world.client("alice")
    client.cookies["django_language"] = "pt-br"
    response = client.post(reverse(CHANGELIST), {
        "action": "pause_sync", "_selected_action": [world.env_a.pk, second.pk]}, follow=True)
    assert "Sincronização pausada em 2 ambientes." in messages_of(response)
    assert "(s)" not in messages_of(response)
