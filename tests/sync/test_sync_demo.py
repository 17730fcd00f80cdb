"""The demo's in-process upstream: environments are created once and re-pointed each start."""
from __future__ import annotations

import pytest

from portal.models import Environment, Provider
from sync import demo
from sync.management.commands.demo import ensure_demo_org
from sync.models import Call


@pytest.mark.django_db
def test_demo_environments_are_idempotent_and_follow_the_simulator():
    org = ensure_demo_org()
    sim, server = demo.start_upstream(calls_per_day=20, days=2)
    try:
        first = demo.point_demo_environments(org, sim, server, days=2)
        outcomes = [demo.backfill_one(env)[0] for env in first]
        assert not any(o.failed for o in outcomes)
        assert Call.objects.filter(environment__organization=org).count() > 0
    finally:
        server.stop()
    sim2, server2 = demo.start_upstream(calls_per_day=20, days=2)
    try:
        again = demo.point_demo_environments(org, sim2, server2, days=2)
        assert [e.pk for e in again] == [e.pk for e in first]
        # Each provider's demo environments (its plug-in's), each at its normal form.
        assert {e.provider for e in again} == set(Provider.values)
        assert Environment.objects.filter(organization=org).count() == len(again)
        assert all(e.base_url == (server2.talkover_url if e.provider == "talkover"
                                  else server2.base_url) for e in again)
        assert again[0].get_token() == sim2.tokens["acme-sales"]
    finally:
        server2.stop()
