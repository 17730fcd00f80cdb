"""`manage.py webhooks ENV` serves every provider that sends webhooks, not Talkover's alone:
the address is the one door `/hooks/<provider>/<key>/`; `--register` only where the provider's
API registers them (else a clear error, and no secret made behind the user's back); a
provider without webhooks is named in the refusal. `talkover_webhooks` is the same command."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from portal.models import Provider
from portal.providers import spec_for
from tests.support.cast import make_env


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("name", ["webhooks", "talkover_webhooks"])
def test_each_provider_gets_its_own_door_or_a_clear_refusal(name, org_a, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.com"
    checked = set()
    for provider in Provider.values:
        spec = spec_for(provider)
        env = make_env(org_a, f"Env {provider}", f"tok_{provider}_0123456789abcdef",
                       provider=provider)
        if not spec.webhooks:
            with pytest.raises(CommandError, match=f"{spec.label}.*sends no webhooks"):
                _run(name, str(env.pk))
            checked.add("none")
            continue
        said = _run(name, str(env.pk))
        assert f"Webhook URL: https://portal.example.com/hooks/{provider}/" in said
        assert "Signing secret: none (unsigned)" in said
        if not spec.registers_webhooks:
            with pytest.raises(CommandError, match="not registered through its API"):
                _run(name, str(env.pk), "--register")
            env.refresh_from_db()
            assert not env.webhook_secret_hint  # nothing made that nobody was shown
            assert "New signing secret (shown once)" in _run(name, str(env.pk), "--new-secret")
            checked.add("not registered")
        else:
            checked.add("registered")
    # Every kind of provider was met (else this test checks less than it says).
    assert checked == {"none", "not registered", "registered"}
