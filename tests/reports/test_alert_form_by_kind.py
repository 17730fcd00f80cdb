"""The alert form shows what the rule reads: no "New webhook secret" on a rule without a
webhook (a new webhook gets its secret anyway), and its preview opens in view (#preview)."""
from __future__ import annotations

from django.test import Client


def test_a_new_rule_has_no_secret_to_renew_and_the_preview_opens_in_view(env_a, alice):
    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/settings/alerts/new/").content.decode()
    assert "New webhook secret" not in html
    assert 'formaction="#preview"' in html and "data-rule-form" in html
    assert 'data-field="sensitivity"' in html and 'data-field="compare_to"' in html
