"""What the operator's commands promise when something else holds or would be overwritten:
`manage.py sync --help` names its skip status (75, EX_TEMPFAIL) as docs/operations.md does,
and `manage.py restore` without --yes asks on a terminal and refuses a wrong answer without
touching the database (with no terminal it refuses outright:
tests/e2e/test_backup_restore.py)."""
from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

from portal.models import Organization
from sync.management.commands.sync import EXIT_SKIPPED
from tests.support.processes import ROOT


def test_sync_help_and_the_operations_doc_name_the_skip_status():
    out = subprocess.run([sys.executable, "manage.py", "sync", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    flat = " ".join(out.split())
    assert EXIT_SKIPPED == 75
    assert "75 (EX_TEMPFAIL) skipped because another sync holds an environment" in flat
    doc = " ".join((ROOT / "docs" / "operations.md").read_text().split())
    assert "exits **75** (`EX_TEMPFAIL`" in doc


def test_restore_on_a_terminal_asks_and_a_wrong_answer_leaves_the_database(
        transactional_db, subprocess_env, tmp_path):
    Organization.objects.create(slug="kept", name="Kept", timezone="UTC")
    dump = tmp_path / "any.dump"
    dump.write_bytes(b"not read: the answer comes first")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "manage.py", "restore", str(dump)], cwd=ROOT,
                            env=subprocess_env, stdin=secondary, stdout=secondary,
                            stderr=secondary)
    os.close(secondary)
    try:
        asked = _read_until(primary, b"Type the database's name to go on: ", 60)
        assert b"Replace everything in database" in asked, asked
        os.write(primary, b"not-the-name\n")
        said = _read_until(primary, b"Not restored", 60)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(primary)
    assert proc.returncode == 1
    assert b"Not restored: the name typed was not the database's." in said, said
    assert Organization.objects.filter(slug="kept").exists()


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no prompt within {timeout}s: {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen
