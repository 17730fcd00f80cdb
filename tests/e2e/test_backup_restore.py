"""The restore drill, as an operator runs it: back-fill, `manage.py backup`, drop the database,
`manage.py restore --yes`, an incremental sync → the same mirror (equal to the upstream) and
the same figures on every face (the dashboard page, its CSV, the reports API, the
Talkover-compatible listing).

Every step is a command on a scratch database against the simulator over a real socket, as in
tests/e2e/test_e2e_production.py. The file keeps the tokens as they are stored (encrypted) and
never holds a key; without `--yes` and with no terminal to ask on, restore refuses.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
import pytest

from portal.backup import tool
from tests.support.processes import (
    ROOT,
    Upstream,
    needs_services,
    production_stack,
    wait_for,
    with_path,
)

SEED, DAYS, CALLS_PER_DAY = 5, 5, 120
TOKEN = "talq_back0123456789abcdef0123456789abcdef01"

# Every face's figures for the environment over the simulator's days, as its reader gets them.
FACES = """
import csv, io, json, sys
import django
django.setup()
from django.conf import settings
from django.test import Client, override_settings
from django.test.utils import setup_test_environment
setup_test_environment()  # responses carry their template context (the page's KPIs)
# Pages without `collectstatic`'s manifest (what they link to is not compared).
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
from django.contrib.auth import get_user_model
env_id, start, end = sys.argv[1:]
web = Client(SERVER_NAME="localhost")
web.force_login(get_user_model().objects.get(username="ops"))
scope = {"range": "custom", "start": start, "end": end, "env": env_id}
page = web.get("/o/drill/", scope)
api = web.get("/api/v1/reports/calls/", {"environment": env_id, "start_date": start,
                                         "end_date": end}).json()["summary"]
rows = web.get("/o/drill/", {**scope, "format": "csv", "table": "series"})
listing = web.get(f"/api/v1/environments/{env_id}/calls",
                  {"date_from": start, "date_to": end, "per_page": 1}).json()
print(json.dumps({
    "page": {str(k.label): k.value for k in page.context["kpis"]},
    "api": {k: api[k] for k in ("totals", "series", "coverage")},
    "csv": list(csv.reader(io.StringIO(b"".join(rows.streaming_content).decode()))),
    "talkover_total": listing["pagination"]["total"],
}, sort_keys=True, default=str))
"""


@pytest.mark.e2e
@needs_services
def test_backup_drop_restore_and_sync_gives_the_same_mirror_and_figures(tmp_path):
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=DAYS - 1)
    dump = tmp_path / "switchboard.dump"

    upstream = Upstream(SEED, DAYS, CALLS_PER_DAY, end, TOKEN)
    with production_stack("drill", tmp_path) as stack:
        env, database_url = stack.env, stack.database_url
        sim_port = stack.simulator(upstream)
        stack.manage("createorg", "drill", "--name", "Drill", "--timezone", "UTC")
        stack.manage("addmember", "drill", "ops", "--role", "owner", "--email",
               "ops@example.com", "--password-stdin", stdin="ops-password-123\n")
        wait_for(lambda: _answers(sim_port), 60, "the simulator")
        env_id = str(stack.add_talkover("drill", sim_port, TOKEN))
        stack.manage("sync", "--env", env_id, "--backfill-days", str(DAYS + 1),
               "--no-progress")
        before = _faces(env, env_id, start.isoformat(), end.isoformat())
        assert before["talkover_total"] > 0 and before["page"]["Calls"] > 0

        out = stack.manage("backup", str(dump))
        assert re.search(r"^\[1/\d+\] table ", out, re.M), out  # progress, per table
        assert f"Backed up to {dump}" in out.splitlines()[-1]
        ciphertext = _value(database_url, "SELECT token_ciphertext FROM "
                                          "portal_environment WHERE id = %s", env_id)
        with psycopg.connect(database_url) as conn:
            major = conn.info.server_version // 10000
        sql = subprocess.run([tool("pg_restore", major), "--file=-", str(dump)],
                             capture_output=True,
                             text=True, timeout=120, check=True).stdout
        assert ciphertext in sql, "the token is in the backup as stored, encrypted"
        for secret in (TOKEN, env["FIELD_ENCRYPTION_KEYS"], env["SECRET_KEY"]):
            assert secret not in sql

        refused = subprocess.run([sys.executable, "manage.py", "restore", str(dump)],
                                 cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "--yes" in refused.stderr, refused.stderr

        name = urlsplit(database_url).path.lstrip("/")
        stack.mirror.close()  # connects again after the restore
        with psycopg.connect(with_path(database_url, "/postgres"), autocommit=True) as c:
            c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        out = stack.manage("restore", str(dump), "--yes")
        assert f"created database {name}" in out and "[1/" in out, out
        assert "No migrations to apply." in stack.manage("migrate", "--no-input")
        stack.manage("sync", "--env", env_id, "--no-progress")  # the incremental run

        assert _faces(env, env_id, start.isoformat(), end.isoformat()) == before
        stack.assert_mirror_is(int(env_id), upstream)
        assert stack.mirror.calls(int(env_id)) == before["talkover_total"]


def _answers(port: int) -> bool:
    import requests

    return requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code < 500


def _value(url: str, sql: str, *params: object) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def _faces(env: dict[str, str], env_id: str, start: str, end: str) -> dict:
    done = subprocess.run([sys.executable, "-c", FACES, env_id, start, end], cwd=ROOT,
                          env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
