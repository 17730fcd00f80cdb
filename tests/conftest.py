"""Shared fixtures: the fixed cast (alice owner of A, bob viewer in A, carol owner of B), built
here once; the admin `world` and the resolver walk's `rich_world` build on it."""
from __future__ import annotations

import os
import signal

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from portal.models import Environment, Organization, Role
from tests.support import browser as browser_support
from tests.support import fast_flush
from tests.support.admin_world import World, build_world
from tests.support.browser import launched_chromium
from tests.support.cast import make_env, make_member
from tests.support.routes import enrich

# A transactional test's flush empties tables with DELETE rather than a slow TRUNCATE.
fast_flush.install()

# A suite started in the background (CI, `make test &`) inherits SIGINT ignored, and exec keeps
# that for every child: the commands the tests stop with Ctrl-C (runserver, simulate_upstream,
# honcho) would then never stop. Ctrl-C is restored here, so children start with it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The longest tests start first (`make test` runs one more xdist worker than the machine has
# cores, and `--dist loadgroup` hands tests out one at a time in collection order): begun last,
# as pytest-django's ordering puts them (transactional tests after the others), a minute-long
# test ran on one worker while the others had ended (the anomaly alerts' six weeks, the
# suite's third longest, started 1,581st of 1,800 and ran past every other worker's end).
# Longest first, from `pytest -n 2 --dist loadgroup --junitxml` on the whole suite
# (2026-11-28; every test of 14 s or more there), then those measured only where chromium
# runs (CI, 2026-11-26). A prefix names every parametrisation of a test.
LONGEST_FIRST = (
    "tests/e2e/test_e2e_fleet.py::",
    "tests/portal/test_bad_input.py::test_no_page_or_api_answers_5xx",
    "tests/reports/test_alerts_anomaly.py::test_six_weeks_with_two_dips_fire_once_on_each",
    "tests/e2e/test_stream_deadline.py::",
    "tests/portal/test_bad_input.py::test_admin_views_answer_no_5xx",
    "tests/e2e/test_backup_restore.py::test_backup_drop_restore_and_sync_gives_the_same",
    "tests/e2e/test_newcomer.py::test_every_readme_block_runs_as_written",
    "tests/e2e/test_dead_worker_resumes.py::test_a_killed_workers_backfill_resumes_by_itself",
    "tests/e2e/test_api_contract.py::test_the_api_matches_its_schema",
    "tests/e2e/test_make_demo.py::",
    "tests/e2e/test_browser_walk.py::",
    "tests/e2e/test_browser_widths.py::",
    "tests/e2e/test_e2e_production.py::test_scheduled_sync_mirrors_upstream_and_survives",
    "tests/e2e/test_interrupts.py::test_every_command_stops_the_same_way",
    "tests/reports/test_kpis_faces.py::test_every_kpi_figure_of_the_page_opens_exactly",
    "tests/e2e/test_serve.py::test_make_serve_runs_everything_and_ctrl_c_stops_it_all",
    "tests/e2e/test_cli_style.py::test_errors_are_one_line_in_one_style",
    "tests/reports/test_one_value_per_metric.py::test_every_metric_has_one_value_on_every_face",
    "tests/sync/test_outcomes_resolution.py::test_next_contact_kept_in_any_order",
    "tests/portal/test_redis_degrade.py::test_a_frozen_then_dead_redis_degrades_the_site",
    "tests/e2e/test_newcomer.py::test_out_of_order_and_bad_input_get_one_line_each",
    "tests/sync/test_sync_exactness.py::test_after_every_successful_run_the_lookback_is_exact",
    "tests/reports/test_outcome_doors.py::test_every_outcomes_figure_opens_exactly_its_calls",
    "tests/sync/test_outcomes_resolution.py::test_outcome_rollup_equals_a_recount",
    "tests/e2e/test_serve.py::test_two_beats_never_double_fire",
    "tests/portal/test_db_frozen.py::test_sixteen_requests_on_open_connections_answer_503",
    "tests/reports/test_alerts.py::test_the_command_prints_one_line_per_rule_and_dry_run",
    "tests/e2e/test_read_replicas.py::",
    "tests/sync/test_sync_continuation.py::test_a_back_fill_continued_on_a_small_budget",
    "tests/e2e/test_root_private_clone.py::",
    "tests/e2e/test_no_data_in_errors.py::test_a_corrupt_dumps_error_says_its_kind_and_line",
    "tests/sync/test_demo_tour.py::test_the_demo_tells_the_kpis_story",
    "tests/sync/test_sync_vapi.py::test_ties_and_the_limit_split_windows_until_every_answer",
    "tests/sync/test_sync_hot_window.py::test_the_older_days_counts_skip_the_rest_of_today",
    "tests/sync/test_sync_faults.py::test_faults_mirror_still_exact",
    "tests/sync/test_sync_redis_loss.py::test_losing_redis_mid_run_fails_cleanly",
    "tests/reports/test_kpis_upstream.py::test_every_kpi_equals_the_vendors_own_listing",
    "tests/portal/test_settings.py::test_defaults_need_nothing_set",
    "tests/portal/test_bad_input.py::test_no_form_answers_5xx",
    "tests/portal/test_admin_tenancy_walk.py::test_changelists_filters_and_date_hierarchy",
    "tests/portal/test_bad_input.py::test_no_json_body_answers_5xx",
    "tests/reports/test_talkover_listing.py::test_every_page_of_every_filter",
    "tests/reports/test_drill_links.py::test_every_dashboard_figure_opens_exactly_its_calls",
    "tests/sync/test_talkover_webhooks.py::test_the_receiver_checks_key_signature",
    "tests/reports/test_drill_team.py::test_every_door_of_a_team_page_opens_that_teams_calls",
    "tests/portal/test_access_urls.py::test_bob_cannot_write_to_org_a_anywhere",
    "tests/portal/test_squashed_upgrade.py::",
    "tests/portal/test_teams_access.py::test_pages_and_reports_without_ids_show_only_the_team",
    "tests/sync/test_webhook_deliveries.py::test_a_chunked_body_is_read_within_the_cap",
    "tests/reports/test_drill_links.py::test_doors_keep_the_chosen_scope",
    "tests/portal/test_admin_scoping.py::test_changelists_and_change_views_are_scoped",
)


def _transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
                or (marker and marker.kwargs.get("transaction")))


def pytest_collection_modifyitems(config, items):
    """Longest first, within pytest-django's rule that transactional tests come after the
    others (their flush empties what the migrations wrote, which a later test may read)."""
    def rank(item) -> tuple[bool, int]:
        return _transactional(item), next((i for i, prefix in enumerate(LONGEST_FIRST)
                                           if item.nodeid.startswith(prefix)),
                                          len(LONGEST_FIRST))
    items.sort(key=rank)  # stable: the rest keep pytest-django's order
    if browser_support.MISSING:
        left_out = [item for item in items if item.get_closest_marker("browser")]
        if left_out:
            items[:] = [item for item in items if not item.get_closest_marker("browser")]
            config.hook.pytest_deselected(items=left_out)


def pytest_terminal_summary(terminalreporter, config):
    """One line for the browser tests left out (per test, `-ra` would list each file)."""
    if browser_support.MISSING and not os.environ.get("PYTEST_XDIST_WORKER"):
        terminalreporter.write_line(f"Browser tests skipped: {browser_support.MISSING}.")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Each worker's test database is a copy of one migrated template, built
    once per version of the code (tests/support/template_db.py), not migrated by every worker
    at once."""
    from django.conf import settings

    from tests.support.template_db import ensure_template

    settings.DATABASES["default"].setdefault("TEST", {})["TEMPLATE"] = ensure_template(
        os.environ["DATABASE_URL"])


@pytest.fixture(autouse=True)
def _tasks_inline(settings):
    # A test's data lives in a transaction another thread cannot see: without a broker,
    # queued tasks run inline here. Background mode is walked by tests/e2e/test_newcomer.py.
    settings.TASKS_IN_BACKGROUND = False


@pytest.fixture(autouse=True)
def _cache_not_skipped():
    # A test that breaks the cache makes this process skip optional cache calls for a while
    # (portal/redis_guard.py); the next test must start with the cache in use.
    from portal import redis_guard

    redis_guard.reset()
    yield
    redis_guard.reset()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    # A test that activates a language (pt-BR pages, emails) must not leave it active for the
    # next one, whose messages would then be Portuguese.
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _loopback_upstreams(settings):
    # Tests run with DEBUG off, so the production upstream policy applies; the simulator
    # listens on loopback, which a deployment would list in UPSTREAM_ALLOWED_HOSTS.
    settings.UPSTREAM_ALLOWED_HOSTS = ["127.0.0.1", "localhost", "::1"]


@pytest.fixture(autouse=True)
def _clean_cache(request):
    # Locks, budgets and cached reports must not leak between tests. The development cache
    # lives in the database, so only tests with database access can (and need to) clear it.
    uses_db = request.node.get_closest_marker("django_db") or {
        "db", "transactional_db", "live_server"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    transactional = bool({"transactional_db", "live_server"} & set(request.fixturenames))
    request.getfixturevalue("transactional_db" if transactional else "db")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org_a(db) -> Organization:
    return Organization.objects.create(slug="org-a", name="Org A", timezone="America/Sao_Paulo")


@pytest.fixture
def org_b(db) -> Organization:
    return Organization.objects.create(slug="org-b", name="Org B", timezone="Europe/London")


@pytest.fixture
def alice(django_user_model, org_a):
    return make_member(django_user_model, "alice", org_a, Role.OWNER)


@pytest.fixture
def bob(django_user_model, org_a):
    return make_member(django_user_model, "bob", org_a, Role.VIEWER)


@pytest.fixture
def carol(django_user_model, org_b):
    return make_member(django_user_model, "carol", org_b, Role.OWNER)


@pytest.fixture
def cast(alice, bob, carol) -> dict:
    return {"alice": alice, "bob": bob, "carol": carol}


@pytest.fixture
def world(django_user_model, cast, env_a, env_b) -> World:
    """The cast made staff, a superuser and one object of every admin-registered model in each
    organisation (tests/support/admin_world.py)."""
    return build_world(django_user_model, cast, env_a, env_b)


@pytest.fixture
def rich_world(world) -> World:
    """The admin world plus org A's invitation, subscription markers and sample ids for every
    route parameter (tests/support/routes.py)."""
    return enrich(world)


@pytest.fixture
def env_a(org_a) -> Environment:
    return make_env(org_a, "A main", "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111")


@pytest.fixture
def env_b(org_b) -> Environment:
    return make_env(org_b, "B main", "talq_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222")


@pytest.fixture
def api_client_for():
    def build(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return build


@pytest.fixture
def assert_max_queries():
    """Like django_assert_max_num_queries, but ignores the development cache table.

    Without Redis the cache (throttling, locks, budgets) lives in the database; those queries
    are not the view's data access and do not occur in production.
    """
    from contextlib import contextmanager

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    @contextmanager
    def check(limit: int):
        with CaptureQueriesContext(connection) as ctx:
            yield ctx
        data = [
            q["sql"] for q in ctx.captured_queries
            if "switchboard_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
        ]
        assert len(data) <= limit, f"{len(data)} queries (limit {limit}):\n" + "\n".join(data)

    return check


@pytest.fixture
def subprocess_env(db) -> dict[str, str]:
    """Environment for a `manage.py` subprocess that must use the test database.

    Rows a `db` test creates are not committed; tests whose subprocess must see them use
    `transactional_db`.
    """
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    return {**os.environ, "DATABASE_URL": url}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 is slow on purpose (over a second per user on a shared CPU); tests that create the
    # cast need real users, not strong hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def upstream():
    """A small simulator over a real socket, for doors that test a connection before saving.

    Yields (server, tokens): `server.talkover_url` / `server.origins_url`, and the bearer
    token per simulated workspace ("acme-sales" Talkover, "origins-demo" Origins AI).
    """
    from tests.support.sync_support import served, small_config

    with served(small_config(days=1, calls_per_day=5)) as (sim, server):
        yield server, sim.tokens


@pytest.fixture(scope="session")
def callback_world(django_db_setup, django_db_blocker):
    """(simulator, world) for the callback funnel and link tests: ten days of 150 calls,
    back-filled by a real sync the first time `world(org)` is called in this process, and
    those rows restored for `org` every later time (tests/support/synced_world.py)."""
    from sync.engine import sync_environment
    from tests.support.sync_support import point_env, served, small_config
    from tests.support.synced_world import shared_world

    with served(small_config(days=10, calls_per_day=150)) as (sim, server):
        def build(org):
            env = point_env(org, sim, server)
            outcome = sync_environment(env, now=sim.now)
            assert not outcome.failed, [r.error for r in outcome.runs]
            return env

        with shared_world(build, django_db_blocker) as world:
            yield sim, world


@pytest.fixture(scope="module")
def browser():
    """A headless chromium for the browser tests (tests/support/browser.py)."""
    yield from launched_chromium()


@pytest.fixture
def eager_tasks():
    """Celery tasks run in this process (the `make demo` path) even when REDIS_URL names a
    broker: a test's uncommitted data stays visible to them."""
    from portal.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before
