"""Faults: the mirror stays exact through errors, slowness, truncation, inserts, revocation."""
from __future__ import annotations

import logging
from datetime import date

import pytest
from django.core import mail

from portal.models import EnvironmentStatus, Membership, Role
from sync.engine import sync_environment
from sync.models import Call, CallbackDay, SyncRun
from sync.models.core import RunStatus
from tests.support.sync_support import ENV, mirror_diff, point_env, served, small_config

pytestmark = pytest.mark.django_db(transaction=True)

# Every kind of fault mixed; the fault seed is one whose first 30 draws include every kind, so this
# small data set meets each fault at least once.
FAULTS = "500=0.1,429=0.05:1,slow=0.01:1.5,truncate=0.03,insert=30@2,seed=14"


def test_faults_mirror_still_exact(org_a, settings):
    # Four weekdays (Tue–Fri): every day has 3+ pages, so the insert after page 2 happens
    # mid-paging. (On a 2-page day it would land after the last page: the next run's lookback
    # picks those up, see the report.)
    config = small_config(days=4, calls_per_day=330, end_date=date(2026, 3, 13))
    with served(config, spec=FAULTS) as (sim, server):
        env = point_env(org_a, sim, server)
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        statuses = [q.status for q in server.request_log]
        assert {500, 429} <= set(statuses), "the faults must actually have fired"
        retries = sum(1 for s in statuses if s != 200)
        assert retries >= 4
        assert sim.truth.inserted_count(ENV) >= 30, "calls were inserted mid-paging"
        assert outcome.runs[1].details.get("reread"), "the shifted day was re-read"
        assert mirror_diff(env, sim) == []
        ids = list(Call.objects.filter(environment=env).values_list("external_id", flat=True))
        assert len(ids) == len(set(ids)) == sim.truth.call_count(ENV)


def test_revoked_token_fails_run_marks_environment_and_keeps_mirror(org_a, alice, bob,
                                                                    django_user_model):
    admin = django_user_model.objects.create_user("dana", "dana@example.com", "x")
    Membership.objects.create(user=admin, organization=org_a, role=Role.ADMIN)
    with served() as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        before = Call.objects.filter(environment=env).count()
        days = CallbackDay.objects.filter(environment=env).count()
        sim.revoke(ENV)
        outcome = sync_environment(env, now=sim.now)
        env.refresh_from_db()
        assert outcome.failed and outcome.auth_failed
        assert [r.stream for r in outcome.runs] == ["agents"], "stops at the first 401"
        error = outcome.runs[0].error
        assert "rejected the token" in error and "HTTP 401" in error
        assert "INVALID_TOKEN" not in error, "the upstream's own words reach the log only"
        assert env.status == EnvironmentStatus.AUTH_FAILED and env.sync_enabled
        assert env.token_hint in env.status_reason and "rejected" in env.status_reason
        assert Call.objects.filter(environment=env).count() == before
        assert CallbackDay.objects.filter(environment=env).count() == days
        assert len(mail.outbox) == 1
        assert sorted(mail.outbox[0].to) == ["alice@example.com", "dana@example.com"]
        assert sim.tokens[ENV] not in mail.outbox[0].body
        sync_environment(env, now=sim.now)
        assert len(mail.outbox) == 1, "owners are told once, not on every run"
        assert SyncRun.objects.filter(environment=env, status=RunStatus.FAILED).count() == 2


def test_token_never_logged(org_a, caplog):
    caplog.set_level(logging.DEBUG)
    with served(spec="500=0.2,429=0.1:0") as (sim, server):
        env = point_env(org_a, sim, server)
        token = sim.tokens[ENV]
        sync_environment(env, now=sim.now)
        sim.revoke(ENV)
        failed = sync_environment(env, now=sim.now)
        assert failed.failed
        assert "urllib3" in caplog.text or "sync" in caplog.text, "logs were captured"
        errors = " ".join(r.error for r in SyncRun.objects.all())
        env.refresh_from_db()
        for text in (caplog.text, errors, env.status_reason, repr(env)):
            assert token not in text and token[5:] not in text
