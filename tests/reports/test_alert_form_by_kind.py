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


def _post(client, env, **fields):
    form = {"name": "R", "environments": [env.pk], "metric": "answer_rate", "window": "day",
            "condition": "below", "threshold": "80", "compare_to": "", "sensitivity": "",
            "anomaly_direction": "", "min_calls": "20", "severity": "warning",
            "language": "en", "enabled": "on", "webhook_format": "json", **fields}
    return client.post("/o/org-a/settings/alerts/new/", form)


def test_the_server_asks_only_what_the_condition_reads(env_a, alice):
    """The anomaly condition needs no threshold (the browser is
    not told it is required either); a threshold condition does; what the page hid (a
    comparison left from another condition) is ignored, not refused."""
    from reports.alerts.models import AlertRule

    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/settings/alerts/new/").content.decode()
    box = html[html.index('data-field="threshold"'):]
    assert " required" not in box[:box.index("</p>")]
    refused = _post(client, env_a, threshold="")
    assert refused.status_code == 400 and "compares with a threshold" in refused.content.decode()
    assert _post(client, env_a, name="Anomaly", metric="calls", window="1h",
                 condition="anomaly", threshold="").status_code == 302
    assert AlertRule.objects.for_organization(env_a.organization).get(
        name="Anomaly").threshold is None
    assert _post(client, env_a, name="Left", compare_to="previous").status_code == 302
    left = AlertRule.objects.for_organization(env_a.organization).get(name="Left")
    assert left.compare_to == "" and left.threshold == 80


def test_the_page_script_shows_fields_by_kind():
    """portal.js (the page's one script) hides the threshold of an anomaly rule, and the
    webhook's format until a webhook is set; the browser test runs it."""
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "static/js/portal.js").read_text()
    assert "threshold: /^(above|below|change_.*)$/" in script
    assert 'show("webhook_format"' in script
