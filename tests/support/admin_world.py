"""Shared data for the admin tests: the cast made staff, a superuser, and one object of every
admin-registered model in each organisation (`pairs[model] == (object in A, object in B)`).

Built on the cast (tests/conftest.py); the `world` fixture is there too.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.test import Client
from django.utils import timezone

from portal import audit
from portal.models import ApiToken, AuditLog, Environment, Membership, Organization, Team
from reports.models import (
    AlertEvent,
    AlertRule,
    Holiday,
    ReportDelivery,
    ReportSubscription,
    SavedView,
)
from sync.models import (
    Agent,
    Call,
    CallbackDay,
    CallbackLink,
    CallbackSourceDay,
    CallRollup,
    Erasure,
    ExcludedNumber,
    QualityDayRollup,
    RejectedRecord,
    StreamState,
    SyncRun,
)
from tests.support.factories import make_call


@dataclass
class World:
    users: dict
    env_a: Environment
    env_b: Environment
    pairs: dict = field(default_factory=dict)

    def client(self, name: str) -> Client:
        client = Client()
        client.force_login(self.users[name])
        return client


def _mirror(env: Environment) -> dict:
    agent = Agent.objects.create(
        environment=env, external_id=f"ag-{env.pk}", name=f"Agent {env.name}")
    day = date(2026, 11, 1)
    return {
        Environment: env,
        Agent: agent,
        Call: make_call(env, agent, 1),
        CallbackDay: CallbackDay.objects.create(environment=env, day=day, total_received=3),
        CallbackLink: CallbackLink.objects.create(
            environment=env, callback_external_id=f"cb-{env.pk}",
            callback_started_at=datetime(2026, 11, 1, 15, tzinfo=UTC), callback_day=day,
            callback_agent_external_id="9", source_external_id=f"out-{env.pk}",
            source_agent_external_id=agent.external_id,
            source_started_at=datetime(2026, 11, 1, 14, tzinfo=UTC), source_day=day,
            source_answered=False, seconds_to_callback=3600),
        CallbackSourceDay: CallbackSourceDay.objects.create(
            environment=env, day=day, source_agent_id="9", name="Outbound", count=2),
        CallRollup: CallRollup.objects.create(environment=env, day=day, count=1),
        QualityDayRollup: QualityDayRollup.objects.create(environment=env, day=day, calls=1),
        SyncRun: SyncRun.objects.create(environment=env, stream="calls", status="failed",
                                        error="boom", finished_at=timezone.now()),
        StreamState: StreamState.objects.create(environment=env, stream="calls"),
        RejectedRecord: RejectedRecord.objects.create(
            environment=env, stream="calls", day=day, upstream_id=f"bad-{env.pk}",
            fingerprint=f"fp-{env.pk}", payload='{"id": "bad"}',
            reason=f"duration is 2147483648 in {env.name}"),
        Erasure: Erasure.objects.create(
            organization=env.organization, number_hash=f"{env.pk:064d}",
            environments={str(env.pk): {"name": env.name, "calls": 1, "mentions": 0}}, calls=1),
        ExcludedNumber: ExcludedNumber.objects.create(
            organization=env.organization, digits=f"55113000{env.pk:04d}", label="Trunk"),
    }


def build_world(django_user_model, cast: dict, env_a: Environment, env_b: Environment) -> World:
    for user in cast.values():
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-123")
    users = {**cast, "root": root}
    world = World(users=users, env_a=env_a, env_b=env_b)
    mirror_a, mirror_b = _mirror(env_a), _mirror(env_b)
    world.pairs = {model: (mirror_a[model], mirror_b[model]) for model in mirror_a}
    world.pairs[Organization] = (env_a.organization, env_b.organization)
    world.pairs[Membership] = (
        Membership.objects.get(user=cast["alice"]), Membership.objects.get(user=cast["carol"]))
    world.pairs[ApiToken] = (
        ApiToken.issue(cast["alice"], "alice-cli")[0],
        ApiToken.issue(cast["carol"], "carol-cli")[0],
    )
    subs = [ReportSubscription.objects.create(organization=org, name=f"Weekly {org.slug}")
            for org in (env_a.organization, env_b.organization)]
    world.pairs[ReportSubscription] = tuple(subs)
    world.pairs[ReportDelivery] = tuple(
        ReportDelivery.objects.create(subscription=s, period_start=date(2026, 11, 9),
                                      period_end=date(2026, 11, 15), status="failed",
                                      error="550 mailbox unavailable") for s in subs)
    rules = []
    for env in (env_a, env_b):
        rule = AlertRule.objects.create(organization=env.organization,
                                        name=f"Alert {env.organization.slug}", metric="calls",
                                        condition="below", threshold=1)
        rule.environments.set([env])
        rules.append(rule)
    world.pairs[AlertRule] = tuple(rules)
    world.pairs[AlertEvent] = tuple(
        AlertEvent.objects.create(rule=r, organization=r.organization, seq=1, state="firing",
                                  metric="calls", value=0, threshold=1,
                                  created_at=datetime(2026, 11, 20, tzinfo=UTC),
                                  notify_status="sent") for r in rules)
    world.pairs[SavedView] = tuple(
        SavedView.objects.create(organization=org, owner=owner, name=f"View {org.slug}",
                                 page="calls", query="range=7d", shared=True)
        for org, owner in ((env_a.organization, cast["alice"]),
                           (env_b.organization, cast["carol"])))
    world.pairs[Team] = tuple(
        Team.objects.create(organization=org, name=f"Desk {org.slug}")
        for org in (env_a.organization, env_b.organization))
    world.pairs[Holiday] = tuple(
        Holiday.objects.create(organization=org, day=date(2026, 12, 25), name="Christmas")
        for org in (env_a.organization, env_b.organization))
    world.pairs[AuditLog] = (
        audit.record("test.a", organization=env_a.organization),
        audit.record("test.b", organization=env_b.organization))
    return world

