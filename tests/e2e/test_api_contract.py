"""The REST API keeps its published contract: Schemathesis, with all its checks, against
`/api/schema/`.

gunicorn serves the test database (an organisation with mirrored Talkover calls, agents and
callback stats, and an Origins AI environment); the Schemathesis CLI reads the schema with
an API token of that organisation and calls every operation with generated valid and
invalid input: no 5xx, only documented status codes and content types, bodies that match the schema,
invalid input rejected, no operation that ignores authentication. Bounded by `MAX_SECONDS`.
Ids are documented within 1 … bigint (portal/schema.py), so the run tries their edges; the
alert pages are rendered afterwards over whatever the run stored.

One relaxation, in tests/schemathesis.toml: a schema-valid request may be refused with 400
/ 422, for rules a schema cannot state (dates within 2000–2100, a range of at most a year,
a report that covers only Origins AI environments). Those answers are documented, so the
status-code check still holds them to the schema.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from portal.models import ApiToken, Provider
from reports.alerts.models import AlertEvent, AlertRule
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_callback_days, make_calls
from tests.support.processes import BIN, Processes, free_port, procfile, wait_for

SCHEMATHESIS = BIN / "schemathesis"
CONFIG = Path(__file__).resolve().parent.parent / "schemathesis.toml"
# The run's time budget; with start-up the test takes about this plus 10 s. On a quiet 2-core
# machine 22 s already reach every operation in every phase (815 cases; 80 s: 4,533); the
# run checks below that every operation was tested.
MAX_SECONDS = 45

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not SCHEMATHESIS.exists() and shutil.which("schemathesis") is None,
                       reason="needs schemathesis (pip install -e '.[test]')"),
]


def seed(org, alice) -> tuple[str, str]:
    """Mirrored data of one organisation and an alert rule that fired: the raw API token of
    its owner, and Schemathesis settings that send the seeded ids to the operations that
    read one object (random ids would only ever meet 404s)."""
    today = date.today()
    talkover = make_env(org, "Sales", "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111")
    agents = make_agents(talkover)
    make_calls(talkover, 120, today - timedelta(days=6), today, agents=agents)
    make_callback_days(talkover, [today - timedelta(days=n) for n in range(6)])
    origins = make_env(org, "Voice bots", "orig_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222",
                       provider=Provider.ORIGINS)
    make_calls(origins, 40, today - timedelta(days=6), today, agents=make_agents(origins))
    rule = AlertRule.objects.create(
        organization=org, name="Answer rate", metric="answer_rate", window="day",
        condition="below", threshold=40, min_calls=20, emails=["ops@example.com"])
    rule.environments.set([talkover])
    event = AlertEvent.objects.create(
        rule=rule, organization=org, seq=1, state="firing", metric="answer_rate", value=12,
        threshold=40, created_at=timezone.now(), notify_status="none")
    fixed = {
        "/api/v1/alert-rules/{id}/": f'"path.id" = {rule.pk}',
        "/api/v1/alert-events/{id}/": f'"path.id" = {event.pk}',
        "/api/v1/environments/{id}/agents/{agent_id}/calls":
            f'"path.id" = {talkover.pk}, "path.agent_id" = "{agents[0].external_id}"',
    }
    settings = "".join(f'\n[[operations]]\ninclude-path = "{path}"\nparameters = {{ {values} }}\n'
                       for path, values in fixed.items())
    return ApiToken.issue(alice, name="contract")[1], settings


def failures(report_dir: Path) -> list[str]:
    """One line per failed check in the NDJSON report: check, status code, request."""
    found: list[str] = []
    for path in report_dir.glob("*.ndjson"):
        for line in path.read_text().splitlines():
            event = json.loads(line)
            recorder = (event.get("ScenarioFinished") or {}).get("recorder") or {}
            for case_id, checks in (recorder.get("checks") or {}).items():
                interaction = (recorder.get("interactions") or {}).get(case_id) or {}
                request = interaction.get("request") or {}
                response = interaction.get("response") or {}
                found.extend(
                    f"{check.get('name')}: {response.get('status_code')} "
                    f"{request.get('method')} {request.get('uri')}"
                    for check in checks if str(check.get("status")).lower() == "failure")
    return sorted(set(found))


def test_the_api_matches_its_schema(tmp_path, subprocess_env, org_a, alice):
    token, ids = seed(org_a, alice)
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.read_text() + ids)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    procs = Processes(tmp_path, {
        **subprocess_env, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "4", "API_THROTTLE_RATE": "100000/minute",
        "PATH": f"{BIN}:{subprocess_env.get('PATH', '')}"})
    procs.start("web", ["sh", "-c", procfile()["web"]])
    report_dir = tmp_path / "schemathesis"
    try:
        wait_for(lambda: requests.get(f"{base}/healthz", timeout=5).ok, 60, "gunicorn up")
        run = subprocess.run(
            [str(SCHEMATHESIS if SCHEMATHESIS.exists() else "schemathesis"),
             "--config-file", str(config), "run", f"{base}/api/schema/?format=json",
             "--header", f"Authorization: Bearer {token}", "--checks", "all",
             "--max-examples", "10", "--max-time", str(MAX_SECONDS), "--seed", "15",
             # One worker: CPython 3.11.7's ast.parse is not thread-safe ("AST constructor
             # recursion depth mismatch"), and Hypothesis parses lambdas while drawing.
             "--workers", "1", "--no-shrink", "--generation-database", "none",
             "--request-timeout", "20", "--no-color", "--report", "ndjson",
             # NUL bytes in parameters are tests/portal/test_bad_input.py's (every route, each
             # parameter): kept out here so this run is about the documented contract.
             "--generation-allow-x00", "false",
             "--report-dir", str(report_dir)],
            cwd=tmp_path, capture_output=True, text=True, timeout=MAX_SECONDS + 120)
    finally:
        procs.stop_all()
    found = failures(report_dir)
    assert run.returncode == 0 and not found, "\n".join(
        [*found[:40], run.stdout[-6000:], run.stderr[-2000:]])
    web_log = procs.log("web")
    assert "Traceback" not in web_log, web_log[web_log.index("Traceback") - 400:][:4000]
    selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert selected and tested and selected[1] == selected[2] == tested[1], run.stdout[-3000:]
    # Whatever the run stored (a snooze at the ends of the date-time format, say) renders.
    # The run spent alice's API allowance (1,200 a minute) in the shared Redis; what is
    # checked now is rendering, not throttling.
    cache.clear()
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    pages = ["/o/org-a/settings/alerts/", "/api/v1/alert-rules/"]
    for pk in AlertRule.objects.for_organization(org_a).values_list("pk", flat=True):
        pages += [f"/o/org-a/settings/alerts/{pk}/", f"/o/org-a/settings/alerts/{pk}/edit/"]
    assert [(p, s) for p in pages if (s := client.get(p).status_code) != 200] == []


@pytest.mark.django_db
def test_what_schemathesis_found_stays_fixed(api_client_for, alice, env_a):
    """Deterministic checks of the answers the contract run once got wrong."""
    api = api_client_for(alice)
    # A huge page of the compatible listing was a bigint OFFSET: 500.
    response = api.get(f"/api/v1/environments/{env_a.pk}/calls?page={10**28}")
    assert response.status_code == 422
    assert response.json()["errors"]["page"] == [
        "The page must not be greater than 2147483647."]
    # A non-boolean `is_callback` was read as "any" and answered the whole list.
    url = f"/api/v1/environments/{env_a.pk}/agents/"
    assert api.get(url, {"is_callback": "-5"}).status_code == 400
    assert api.get(url, {"is_callback": "false"}).status_code == 200
    assert api.get(url, {"is_callback": ""}).status_code == 200
    # The schema documents what every operation answers, and `base_url` may be "".
    schema = api.get("/api/schema/?format=json").json()
    environment = schema["components"]["schemas"]["Environment"]["properties"]["base_url"]
    assert "format" not in environment
    listing = schema["paths"]["/api/v1/environments/"]["get"]
    assert {"200", "400", "401", "404", "414", "429"} <= set(listing["responses"])
    assert "text/html" in listing["responses"]["404"]["content"]
    compat = schema["paths"]["/api/v1/environments/{id}/calls"]["get"]
    assert "400" not in compat["responses"] and "422" in compat["responses"]
    assert all(p.get("allowEmptyValue") for p in compat["parameters"] if p["in"] == "query")
    formats = [p for p in schema["paths"]["/api/v1/reports/calls/"]["get"]["parameters"]
               if p["name"] == "format"]
    assert formats and "api" not in formats[0]["schema"]["enum"]
    # Ids document their bounds (so the run tries their edges), and keep to them.
    ids = [p["schema"]["items"] for p in schema["paths"]["/api/v1/reports/calls/"]["get"][
        "parameters"] if p["name"] == "environment"]
    bounded = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert ids == [bounded]
    assert schema["components"]["schemas"]["AlertRule"]["properties"]["environments"][
        "items"] == bounded
    for environment in (0, 2**63, "1e400"):
        response = api.get("/api/v1/reports/calls/", {"environment": environment})
        assert response.status_code == 400 and "environment" in response.json()
