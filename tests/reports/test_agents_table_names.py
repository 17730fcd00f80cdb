"""The agents table has an environment column when the scope spans several: an agent's name
does not repeat it (names wrapped over four lines at 1440 px)."""
from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from tests.support.cast import make_env
from tests.support.factories import make_agents, make_calls


def test_agent_names_do_not_repeat_their_environment_column(env_a, alice):
    org = env_a.organization
    env_2 = make_env(org, "Second desk", "talq_cccccccccccccccccccccccccccc3333")
    today = timezone.localdate(timezone=org.tzinfo)
    for env, seed in ((env_a, 1), (env_2, 2)):
        make_calls(env, 30, today - timedelta(days=3), today, agents=make_agents(env, 2),
                   seed=seed)
    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/agents/", {"range": "7d"}).content.decode()
    assert ">Environment<" in html or "Environment ▼" in html or ">Environment" in html
    assert "<td>Second desk</td>" in html
    assert "(Second desk)" not in html and "(A main)" not in html
