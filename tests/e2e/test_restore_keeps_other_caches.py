"""A restore touches only its own target: restoring into a second database that shares the
live deployment's Redis drops that database's cached reports and pages, and the live one's
stay cached (the monthly rehearsal on a scratch database emptied the live cache)."""
from __future__ import annotations

import subprocess
import sys

import dj_database_url
import pytest
from django.core.cache import cache

from portal.cache_scope import report_prefix
from reports.cache import cached_report, keep_page, page_key, read_page
from tests.support.processes import ROOT, needs_services, scratch_database


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.e2e
@needs_services
def test_restore_into_a_second_database_keeps_the_first_ones_pages_cached(
        env_a, subprocess_env, tmp_path):
    computed: list[int] = []

    def compute() -> dict[str, int]:
        computed.append(1)
        return {"calls": 7}

    params = {"range": "7d"}
    assert cached_report("restore-drill", [env_a], params, compute) == {"calls": 7}
    page = page_key("page-dashboard", [env_a], params, "en")
    keep_page(page, "<p>7 calls</p>")

    dump = tmp_path / "live.dump"
    backup = _manage(subprocess_env, "backup", str(dump))
    assert backup.returncode == 0, backup.stderr
    with scratch_database("rehearsal") as rehearsal_url:
        # An entry the rehearsal database had cached before: the restore drops it.
        planted = f"{report_prefix(dj_database_url.parse(rehearsal_url))}v0:planted"
        cache.set(planted, "old", timeout=600)
        restored = _manage({**subprocess_env, "DATABASE_URL": rehearsal_url},
                           "restore", str(dump), "--yes")
        assert restored.returncode == 0, restored.stderr
        assert "1 cached report(s) dropped" in restored.stdout
        assert cache.get(planted) is None

    # The live database's entries were never touched: read, not computed again.
    assert cached_report("restore-drill", [env_a], params, compute) == {"calls": 7}
    assert computed == [1]
    assert read_page(page) == "<p>7 calls</p>"
