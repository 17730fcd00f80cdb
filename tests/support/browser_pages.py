"""The portal as the browser walks see it (tests/e2e/test_browser_*.py): a seeded
organisation — two Talkover desks, an Origins AI environment whose agents have no names, a
team, a rule, a summary, a saved view — the URL of every page a member opens, and a browser
context signed in as a member in a language (a session cookie: no login form per page)."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import Provider, Team, TeamAgent
from reports.alerts.models import AlertRule
from reports.models import ReportDelivery, SavedView
from sync.models import Agent, Call, SyncRun
from sync.models.core import RunStatus
from sync.stream_names import Stream
from tests.support.cast import make_env
from tests.support.factories import (
    build_call,
    make_agents,
    make_callback_days,
    make_calls,
    make_subscription,
    save_calls,
)

# An Origins AI call's rich parts, as its vendor sends them (times in UTC ISO).
ORIGINS_PARTS = {
    "call_state_changes": [{"from": None, "to": "QUEUED", "at": "2026-09-11T02:41:33+00:00"},
                           {"from": "QUEUED", "to": "ANSWERED",
                            "at": "2026-09-11T02:41:41+00:00"}],
    "call_quality": {"mos": 3.94, "jitter_ms": 13.2, "packet_loss_pct": 0.5,
                     "avg_latency_ms": 930},
    "call_insights": {"sentiment": "neutral", "intent": "billing", "summary": "An invoice."},
}


def _origins(org, today):
    """An Origins AI environment with two agents the vendor gives no name, and their calls."""
    env = make_env(org, "Acme Quality (Origins AI)", "orig_" + "4" * 40,
                   provider=Provider.ORIGINS, base_url="https://origins.test",
                   provider_settings={"agent_ids": [4012, 4013]})
    agents = [Agent.objects.create(environment=env, external_id=str(i)) for i in (4012, 4013)]
    make_calls(env, 60, today - timedelta(days=20), today, agents=agents, seed=3)
    rich = build_call(env, timezone.now() - timedelta(days=2), agent=agents[0],
                      agent_external_id="4012", status="completed", external_id="rich-1",
                      from_number="+5561954484296",
                      raw={"call_id": "rich-1", "call_agent_id": 4012, **ORIGINS_PARTS})
    save_calls(env, [rich])
    return env


def portal_pages(cast, env_a) -> list[tuple[str, str]]:
    """Seed the organisation of `env_a` and return (name, path) of every page to visit."""
    org, alice = env_a.organization, cast["alice"]
    env_2 = make_env(org, "Second desk with a long name", "talq_cccccccccccccccccccccccccccc3333")
    today = timezone.localdate(timezone=org.tzinfo)
    for env, seed in ((env_a, 1), (env_2, 2)):
        make_calls(env, 150, today - timedelta(days=20), today, agents=make_agents(env, 3),
                   seed=seed)
        make_callback_days(env, [today - timedelta(days=n) for n in range(20)])
    origins = _origins(org, today)
    for env in (env_a, env_2, origins):
        env.last_synced_at = timezone.now() - timedelta(minutes=3)
        env.save()
        SyncRun.objects.create(environment=env, stream=Stream.CALLS,
                               status=RunStatus.SUCCEEDED, finished_at=timezone.now(),
                               pages=2, created=150)
    sub = make_subscription(org, name="Weekly operations summary", members=[alice],
                            addresses=["ops-team-with-a-long-address@example.com"])
    ReportDelivery.objects.create(subscription=sub, period_start=today - timedelta(days=7),
                                  period_end=today, status="failed",
                                  error="550 mailbox unavailable for a rather long reason")
    rule = AlertRule.objects.create(organization=org, name="Answer rate dropped",
                                    metric="answer_rate", condition="below", threshold=50)
    rule.environments.set([env_a])
    SavedView.objects.create(organization=org, owner=alice, name="Last week, both desks",
                             page="dashboard", query="range=7d")
    call = Call.objects.filter(environment=env_a).exclude(agent_external_id="").first()
    rich = Call.objects.get(environment=origins, external_id="rich-1")
    # A team of that call's agent: the restricted members' scope (the role walk), its pages.
    team = Team.objects.create(organization=org, name="Red")
    TeamAgent.objects.create(team=team, environment=env_a,
                             agent_external_id=call.agent_external_id)
    slug = org.slug

    def url(name: str, *args) -> str:
        return reverse(name, args=[slug, *args])

    return [
        ("dashboard", url("dashboard")),
        ("calls", url("calls")),
        ("calls-no-match", url("calls") + "?search=zzzz999"),
        ("call-detail", url("call-detail", call.pk)),
        ("call-origins", url("call-detail", rich.pk)),
        ("agents", url("agents")),
        ("callbacks", url("callbacks")),
        ("quality", url("quality")),
        ("outcomes", url("outcomes")),
        ("sync", url("sync-status")),
        ("saved-views", url("saved-views")),
        ("environments", url("settings-environments")),
        ("environment-add", url("settings-environment-add")),
        ("environment-token", url("settings-environment-token", env_a.pk)),
        ("members", url("settings-members")),
        ("teams", url("settings-teams")),
        ("team", url("settings-team-edit", team.pk)),
        ("tokens", url("settings-tokens")),
        ("subscriptions", url("subscription-list")),
        ("subscription", url("subscription-detail", sub.pk)),
        ("subscription-new", url("subscription-create")),
        ("alerts", url("alerts")),
        ("alert", url("alerts-rule", rule.pk)),
        ("alert-new", url("alerts-new")),
        ("live", url("live")),
        ("live-thresholds", url("live-thresholds")),
    ]


def signed_in_context(browser, base: str, user, viewport: dict, language: str,
                      phone: bool = False):
    """A browser context of `user` reading in `language` at `viewport`."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone,
                                  device_scale_factor=1)
    context.add_cookies([
        {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[
            settings.SESSION_COOKIE_NAME].value, "url": base},
        {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base},
    ])
    return context
