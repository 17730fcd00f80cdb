"""What every provider does alike on the faces, one line per provider: a caller erased is
gone from the mirror's columns and raw records, and anonymised again when a later sync
brings the calls back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sync.engine import sync_environment
from sync.models import Call
from sync.privacy.erase import erase_caller
from sync.simulator import running_simulator
from tests.support.retell import retell_config, retell_env
from tests.support.vapi import vapi_config, vapi_env

pytestmark = pytest.mark.django_db(transaction=True)

# (its simulator config, its environment) for each provider.
PROVIDERS = {
    "vapi": (vapi_config, vapi_env),
    "retell": (retell_config, retell_env),
}


@pytest.fixture(autouse=True)
def _unpaced(settings):
    settings.VAPI_REQUESTS_PER_MINUTE = settings.RETELL_REQUESTS_PER_MINUTE = 100000


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_caller_is_erased_like_any_other(org_a, alice, provider):
    config, make_env = PROVIDERS[provider]
    with running_simulator(config(days=2)) as (sim, server):
        env = make_env(org_a, sim, server)
        sync_environment(env, now=sim.now)
        call = Call.objects.filter(environment=env, direction="inbound").first()
        number = call.from_number
        erase_caller(org_a, number, actor=alice)
        call.refresh_from_db()
        assert call.from_number != number
        assert number not in str(call.record)
        sim.advance(timedelta(hours=1))
        sync_environment(env, now=sim.now)  # anonymised on arrival again
        assert not Call.objects.filter(environment=env, from_number=number).exists()
