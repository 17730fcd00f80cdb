"""manage.py sync: selection, progress, summary table, exit status, clear errors."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sync.models import Call, CallbackDay, SyncRun
from tests.support.sync_support import ENV, point_env, served, small_config

CONFIG = dict(days=3, calls_per_day=60, end_date=None)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_sync_command_backfills_with_progress_and_summary(org_a, org_b):
    with served(small_config(**CONFIG)) as (sim, server):
        env = point_env(org_a, sim, server)
        other = point_env(org_b, sim, server, "Other")
        out, _ = run("--env", str(env.pk), "--backfill-days", "3", "-v", "2")
        assert "Syncing Sales" in out
        # -v 2 says what each run read whole: here every day of the back-fill.
        assert out.count("Sales / calls: reconciled: ") == 3, out
        assert "Sales: calls" in out and "3/3" in out, "a progress bar per stream"
        assert "environment" in out and "succeeded" in out and "failed" not in out
        assert Call.objects.filter(environment=env).count() == sim.truth.call_count(ENV)
        assert not SyncRun.objects.filter(environment=other).exists()


@pytest.mark.django_db
def test_stream_and_org_selection(org_a, org_b):
    with served(small_config(**CONFIG)) as (sim, server):
        env = point_env(org_a, sim, server)
        point_env(org_b, sim, server, "Other")
        out, _ = run("--org", org_a.slug, "--stream", "callbacks", "--no-progress")
        assert list(SyncRun.objects.values_list("environment", "stream")) == [
            (env.pk, "callback_days")]
        assert CallbackDay.objects.filter(environment=env).count() == 3
        assert "callback_days" in out


@pytest.mark.django_db
def test_failed_run_exits_non_zero(org_a):
    with served(small_config(**CONFIG)) as (sim, server):
        env = point_env(org_a, sim, server)
        sim.revoke(ENV)
        err = StringIO()
        with pytest.raises(CommandError, match="1 run"):
            call_command("sync", "--env", str(env.pk), "--no-progress", stdout=StringIO(),
                         stderr=err)
        assert "token rejected" in err.getvalue()
        assert sim.tokens[ENV] not in err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "message"), [
    (["--env", "999"], "No environment with id [999]"),
    (["--org", "nope"], "No organisation 'nope'"),
    (["--org", "org-a"], "No environment in organisation 'org-a'"),
    (["--backfill-days", "0"], "--backfill-days must be at least 1"),
])
def test_bad_arguments_get_clear_errors(org_a, args, message):
    with pytest.raises(CommandError, match=message.replace("[", r"\[").replace("]", r"\]")):
        run(*args)
