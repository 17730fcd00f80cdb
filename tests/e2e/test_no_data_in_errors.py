"""No error output carries data: a caller's number planted where an error would quote it — a
row of a corrupt dump, an upstream's 500 and 400 bodies, a database error's message — is in
no output stream (standard output, standard error, the logs) nor in the run's error; the
errors say their kind and position instead."""
from __future__ import annotations

import io
import logging
import re
import subprocess
import sys

import pytest
from django.db import DataError, connection

from portal.backup import libpq_env, server_major, tool
from portal.logging import JsonFormatter, PlainFormatter, RedactionFilter
from portal.models import Environment
from sync.models import SyncRun
from sync.models.core import RunStatus
from tests.support.factories import make_call
from tests.support.hostile import Hostile, head, hostile
from tests.support.processes import ROOT, scratch_database

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+5511987612345"
DIGITS = "987612345"  # what any rendering of the number keeps


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_corrupt_dumps_error_says_its_kind_and_line_not_the_row(env_a, subprocess_env,
                                                                     tmp_path):
    make_call(env_a, None, 1, from_number=NUMBER, from_formatted=NUMBER)
    db = connection.settings_dict
    dump = tmp_path / "plain.dump"
    # Uncompressed, so the row can be broken in place: the tab before the number becomes a
    # space (the same length), and the row has a column too few.
    subprocess.run([tool("pg_dump", server_major(db)), "--format=custom", "--compress=0",
                    "--no-owner", "--no-privileges", f"--file={dump}"], env=libpq_env(db),
                   check=True, capture_output=True, timeout=300)
    data = dump.read_bytes()
    at = data.index(b"\t" + NUMBER.encode())
    corrupt = tmp_path / "corrupt.dump"
    corrupt.write_bytes(data[:at] + b" " + data[at + 1:])
    with scratch_database("corrupt") as target:
        done = _manage({**subprocess_env, "DATABASE_URL": target}, "restore", str(corrupt),
                       "--yes")
    assert done.returncode == 1
    said = done.stdout + done.stderr
    assert DIGITS not in said, said[-2000:]
    error = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(r"Error: restore failed, nothing was changed: [A-Za-z]+ "
                        r"\(SQLSTATE [0-9A-Z]{5}\) at line [0-9,]+ of the backup's SQL, in "
                        r"the rows of table sync_call\w*", error), error


def _leaky(server: Hostile, path: str, conn) -> None:
    """A 500 quoting a caller, then a 400 quoting one (never retried: the run ends)."""
    status = "500 Internal Server Error" if len(server.requests) == 1 else "400 Bad Request"
    body = f'{{"success": false, "message": "caller {NUMBER} failed"}}'.encode()
    conn.sendall(head(status, Content_Length=str(len(body))) + body)


def test_an_upstreams_error_bodies_reach_no_output(org_a, subprocess_env):
    with hostile(_leaky) as server:
        env = Environment(organization=org_a, name="Leaky", base_url=server.url,
                          requests_per_minute=100000)
        env.set_token("talq_" + "l" * 40)
        env.save()
        done = _manage({**subprocess_env, "LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"},
                       "sync", "--env", str(env.pk), "--no-progress")
        assert len(server.requests) >= 2, "the 500 was answered, then the 400"
    assert done.returncode == 1, done.stderr
    said = done.stdout + done.stderr
    assert DIGITS not in said, said[-2000:]
    assert "HTTP 500" in said and "HTTP 400" in said
    runs = SyncRun.objects.filter(environment=env)
    assert runs.filter(status=RunStatus.FAILED).exists()
    assert not any(DIGITS in (r.error + str(r.details)) for r in runs)


@pytest.mark.parametrize("formatter", [PlainFormatter(), JsonFormatter()])
def test_a_logged_database_error_says_its_kind_not_its_values(formatter):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(RedactionFilter())
    log = logging.getLogger("tests.no_data")
    log.addHandler(handler)
    try:
        with pytest.raises(DataError) as caught, connection.cursor() as cursor:
            cursor.execute("SELECT %s::text::int", [f"caller {NUMBER}"])
        try:
            raise caught.value
        except DataError as exc:
            log.exception("sync crashed: %s", exc)
            # As Celery logs a task's failure: the error already formatted into the text.
            log.error(f"Task sync.backfill_environment raised unexpected: {exc!r}",
                      exc_info=True)
    finally:
        log.removeHandler(handler)
    text = out.getvalue()
    assert DIGITS not in text, text
    assert "InvalidTextRepresentation (SQLSTATE 22P02)" in text
