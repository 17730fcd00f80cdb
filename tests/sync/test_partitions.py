"""Calls partitioned by month and retention tier (sync/partitions/ddl.py, sync/partitions/upsert.py,
sync/partitions/retention.py): one row per call whatever the upstream does to its start, months made
before they are written, retention that drops whole months and names the days it dropped,
and the owner's setting that changes it."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import CallRetention, Membership, Role
from reports.coverage_notes import missing_notes
from sync.coverage import calls_coverage
from sync.models import AgentDayRollup, Call, CallbackFunnelDay, CallbackLink
from sync.partitions import ddl as partitions
from sync.partitions.retention import maintain
from sync.partitions.upsert import RunKeys
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.write.rollups import refresh_rollups
from sync.write.upsert import canonical, upsert_keys
from tests.support.factories import build_call, mark_read, save_calls

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def call_row(env, external_id: str, started_at: datetime, status: str = "completed") -> dict:
    """A call row as a provider's parser hands it to the writer."""
    raw = canonical({"id": external_id, "status": status, "created_at": started_at.isoformat()})
    return {"environment_id": env.pk, "external_id": external_id, "sid": f"CA{external_id}",
            "status": status, "duration": 42, "direction": "outbound",
            "started_at": started_at, "raw": raw, "payload_hash": raw.digest}


def write(env, *rows: dict):
    with transaction.atomic():
        return upsert_keys(Call, env, list(rows), key="external_id",
                           update_fields=CALL_UPDATE_FIELDS)[0]


def leaf_of(call_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM sync_call WHERE id = %s", [call_id])
        return cursor.fetchone()[0]


def day_calls(env, day: date) -> int:
    return sum(AgentDayRollup.objects.filter(environment=env, day=day).values_list(
        "calls", flat=True))


def test_a_call_whose_start_moves_stays_one_row_with_its_id(env_a):
    """The upstream moves a call from 31 January to 1 February (another month, so another
    partition on PostgreSQL): still one row, same id, the old day's figures without it."""
    tz = env_a.organization.tzinfo
    before = datetime(2026, 1, 31, 15, tzinfo=UTC)
    after = datetime(2026, 2, 1, 15, tzinfo=UTC)
    assert write(env_a, call_row(env_a, "moving", before), call_row(env_a, "stays", before)
                 ).created == 2
    refresh_rollups(env_a, {before.astimezone(tz).date()})
    original = Call.objects.get(external_id="moving")
    assert day_calls(env_a, before.astimezone(tz).date()) == 2

    counts = write(env_a, call_row(env_a, "moving", after, status="busy"))

    assert (counts.created, counts.updated) == (0, 1)
    moved = Call.objects.get(environment=env_a, external_id="moving")
    assert (moved.pk, moved.started_at, moved.status) == (original.pk, after, "busy")
    assert moved.first_seen_at == original.first_seen_at
    assert Call.objects.filter(environment=env_a).count() == 2
    assert day_calls(env_a, before.astimezone(tz).date()) == 1  # refreshed in the same write
    assert leaf_of(moved.pk) == "sync_call_p202602_t0"


def merged_by_a_run(env, keys: RunKeys, *rows: dict):
    """One batch of a sync run: its counts and the moved-call probes it asked."""
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        counts = upsert_keys(Call, env, list(rows), key="external_id",
                             update_fields=CALL_UPDATE_FIELDS, run_keys=keys)[0]
    return counts, [q for q in queries.captured_queries if "o.external_id = ANY(" in q["sql"]]


def test_a_first_backfill_probes_only_the_ids_it_merged_before(env_a):
    """No calls before the run: a created call can only have a twin the run itself wrote, so
    only ids the run merged before are probed, and a call that moves between two of its
    batches (to another month) is still one row."""
    jan, feb = datetime(2026, 1, 31, 15, tzinfo=UTC), datetime(2026, 2, 1, 15, tzinfo=UTC)
    keys = RunKeys()
    counts, probes = merged_by_a_run(env_a, keys, call_row(env_a, "a", jan),
                                     call_row(env_a, "b", jan))
    assert (counts.created, probes, keys.history) == (2, [], False)
    counts, probes = merged_by_a_run(env_a, keys, call_row(env_a, "c", feb))
    assert (counts.created, probes) == (1, [])

    counts, probes = merged_by_a_run(env_a, keys, call_row(env_a, "a", feb, status="busy"),
                                     call_row(env_a, "d", feb))

    assert (counts.created, counts.updated, len(probes)) == (1, 1, 1)
    assert list(Call.objects.filter(environment=env_a, external_id="a").values_list(
        "started_at", "status")) == [(feb, "busy")]
    assert Call.objects.filter(environment=env_a).count() == 4


def test_a_run_over_calls_stored_before_probes_every_created_call(env_a):
    """Calls stored by an earlier run: any created row may be one of them moved."""
    write(env_a, call_row(env_a, "old", datetime(2026, 1, 31, 15, tzinfo=UTC)))
    keys = RunKeys()
    feb = datetime(2026, 2, 1, 15, tzinfo=UTC)

    counts, probes = merged_by_a_run(env_a, keys, call_row(env_a, "old", feb),
                                     call_row(env_a, "new", feb))

    assert (keys.history, counts.created, counts.updated, len(probes)) == (True, 1, 1, 1)
    assert Call.objects.get(environment=env_a, external_id="old").started_at == feb


def test_run_keys_remember_past_one_filter(monkeypatch):
    """More ids than one Bloom filter holds: another is added, and every id stays known."""
    monkeypatch.setattr(RunKeys, "CAPACITY", 2)
    keys = RunKeys()
    keys.history = False
    assert keys.suspects(["a", "b", "c"]) == set()
    assert keys.suspects(["d", "e"]) == set()
    assert keys.suspects(["a", "c", "e", "zz"]) == {"a", "c", "e"}


def test_the_sync_makes_the_months_it_writes_and_other_writes_fail_clearly(env_a):
    deep = datetime(2012, 5, 3, 9, tzinfo=UTC)
    assert (date(2012, 5, 1), 0) not in partitions.leaves()
    assert write(env_a, call_row(env_a, "old", deep)).created == 1
    assert leaf_of(Call.objects.get(external_id="old").pk) == "sync_call_p201205_t0"
    # No DEFAULT partition: a write that did not make its month says which table refused it.
    with pytest.raises(DatabaseError, match='no partition of relation "sync_call"'), \
            transaction.atomic():
        Call.objects.bulk_create([build_call(env_a, datetime(2011, 1, 1, tzinfo=UTC))])


def test_a_merge_of_new_calls_returns_without_reading_other_months(env_a):
    """An incremental merge (nothing new) asks no question about moved calls."""
    write(env_a, call_row(env_a, "a", NOW))
    with CaptureQueriesContext(connection) as queries:
        assert write(env_a, call_row(env_a, "a", NOW)).unchanged == 1
    assert not [q for q in queries.captured_queries if "unnest" in q["sql"]]


def test_maintenance_creates_the_months_ahead_in_every_tier_in_use(org_a, org_b):
    org_b.call_retention_months = CallRetention.MONTHS_12
    org_b.save()
    result = maintain(now=datetime(2031, 1, 15, tzinfo=UTC))
    have = partitions.leaves()
    for n in range(4):  # this month and CALL_PARTITIONS_AHEAD (3) after it
        month = partitions.add_months(date(2031, 1, 1), n)
        assert {(month, 0), (month, 12)} <= have
    assert "2031-04/t12" in result["created"]


def old_and_new_calls(env, months_ago: int):
    """Calls 2 days and `months_ago` months back, read by the sync (coverage knows)."""
    old_day = (NOW - timedelta(days=31 * months_ago)).date()
    calls = [build_call(env, datetime.combine(old_day, datetime.min.time(), tzinfo=UTC)
                        + timedelta(hours=12)),
             build_call(env, NOW - timedelta(days=2))]
    for i, call in enumerate(calls):
        call.external_id = f"{env.pk}-{i}"
        call.retention_months = env.organization.call_retention_months
    save_calls(env, calls)
    mark_read(env, old_day - timedelta(days=3), NOW.date())
    return old_day


def test_retention_drops_whole_months_never_rows_and_reports_name_the_days(env_a, env_b):
    """Org A keeps 6 months, org B forever; both have calls 9 months back. Maintenance drops
    A's month whole (no DELETE of a call), keeps B's, and A's reports name the days."""
    org_a = env_a.organization
    org_a.call_retention_months = CallRetention.MONTHS_6
    org_a.save()
    old_day = old_and_new_calls(env_a, 9)
    old_and_new_calls(env_b, 9)
    month = partitions.month_of(old_day)

    with CaptureQueriesContext(connection) as queries:
        result = maintain(now=NOW)

    assert f"{month:%Y-%m}/t6" in result["dropped"]
    assert not [q for q in queries.captured_queries
                if q["sql"].lstrip().upper().startswith("DELETE FROM \"SYNC_CALL\"")]
    assert (month, 6) not in partitions.leaves() and (month, 0) in partitions.leaves()
    assert Call.objects.filter(environment=env_a).count() == 1
    assert Call.objects.filter(environment=env_b).count() == 2
    env_a.refresh_from_db()
    assert env_a.calls_dropped_before == datetime.combine(
        partitions.add_months(month, 1), datetime.min.time(), tzinfo=UTC)
    assert not AgentDayRollup.objects.filter(environment=env_a, day=old_day).exists()

    coverage = calls_coverage([env_a], old_day, NOW.date() - timedelta(days=3), now=NOW)
    assert old_day in coverage.missing_days
    assert old_day in coverage.dropped_by_environment[env_a.pk]
    notes = missing_notes(coverage, {env_a.pk: "Sales"})
    assert any(n.reason and n.days >= 1 for n in notes)



def test_retention_drops_the_callback_links_and_funnel_days_of_the_calls_it_drops(env_a, env_b):
    """A callback link holds the ids and times of the calls it joins, and the funnel's days
    count them: the links of the callbacks retention drops go with those calls, and so do the
    funnel days before the cut. The rest stay, and an organisation that keeps its calls
    forever keeps them all."""
    org_a = env_a.organization
    org_a.call_retention_months = CallRetention.MONTHS_6
    org_a.save()
    old_day = old_and_new_calls(env_a, 9)
    old_and_new_calls(env_b, 9)
    recent = (NOW - timedelta(days=2)).date()
    for env in (env_a, env_b):
        for day, name in ((old_day, "old"), (recent, "new")):
            at = datetime.combine(day, time(13), tzinfo=UTC)
            CallbackLink.objects.create(
                environment=env, callback_external_id=f"cb-{name}", callback_started_at=at,
                callback_day=day, callback_agent_external_id="9",
                source_external_id=f"out-{name}", source_agent_external_id="7",
                source_started_at=at - timedelta(minutes=30), source_day=day,
                source_answered=False, seconds_to_callback=1800)

    def kept(env) -> tuple[list[str], list[date]]:
        links = CallbackLink.objects.filter(environment=env)
        days = CallbackFunnelDay.objects.filter(environment=env)
        return (sorted(links.values_list("callback_external_id", flat=True)),
                sorted(days.values_list("day", flat=True)))

    assert kept(env_a) == (["cb-new", "cb-old"], [old_day, recent])  # the triggers' days
    maintain(now=NOW)
    assert kept(env_a) == (["cb-new"], [recent])
    assert kept(env_b) == (["cb-new", "cb-old"], [old_day, recent])
    assert CallbackFunnelDay.objects.get(environment=env_a, day=recent).callbacks_received == 1


def test_an_owner_changes_the_tier_and_calls_move_in_batches(client, alice, env_a, settings,
                                                             eager_tasks):
    settings.CALL_RETENTION_MOVE_BATCH = 2
    org = env_a.organization
    calls = [build_call(env_a, NOW - timedelta(days=20 * i)) for i in range(7)]
    for i, call in enumerate(calls):
        call.external_id = f"c{i}"
    save_calls(env_a, calls)
    ids = dict(Call.objects.filter(environment=env_a).values_list("external_id", "pk"))
    client.force_login(alice)
    url = reverse("settings-retention", args=[org.slug])

    refused = client.post(url, {"call_retention_months": 12})
    assert refused.status_code == 400 and "Tick this box" in refused.content.decode()
    assert client.post(url, {"call_retention_months": 12, "confirm": "on"}).status_code == 302

    org.refresh_from_db()
    assert (org.call_retention_months, org.call_retention_pending) == (12, False)
    moved = dict(Call.objects.filter(environment=env_a).values_list("external_id", "pk"))
    assert moved == ids  # the same rows, moved
    assert {leaf_of(pk).rsplit("_", 1)[1] for pk in ids.values()} == {"t12"}
    page = client.get(url).content.decode()
    assert "12 months" in page and "deletes every call older than the limit" in page


def test_the_retention_page_is_for_admins_and_only_owners_change_it(client, alice, bob,
                                                                    org_a, eager_tasks):
    url = reverse("settings-retention", args=[org_a.slug])
    client.force_login(bob)  # viewer
    assert client.get(url).status_code == 403
    Membership.objects.filter(user=bob, organization=org_a).update(role=Role.ADMIN)
    page = client.get(url)
    assert page.status_code == 200 and "Only owners can change" in page.content.decode()
    assert client.post(url, {"call_retention_months": 6, "confirm": "on"}).status_code == 403
    org_a.refresh_from_db()
    assert org_a.call_retention_months == CallRetention.FOREVER
    client.force_login(alice)
    assert client.post(url, {"call_retention_months": "7"}).status_code == 400
    # Longer needs no confirmation.
    assert client.post(url, {"call_retention_months": 0}).status_code == 302


def test_days_dropped_by_retention_are_named_on_the_dashboard(client, alice, env_a):
    """Whatever the database: a dropped day is not mirrored, and the page says why."""
    tz = env_a.organization.tzinfo
    today = NOW.astimezone(tz).date()
    mark_read(env_a, today - timedelta(days=40), today)
    env_a.calls_dropped_before = datetime.combine(today - timedelta(days=20),
                                                  datetime.min.time(), tzinfo=tz)
    env_a.save()
    client.force_login(alice)
    start = today - timedelta(days=30)
    page = client.get(reverse("dashboard", args=[env_a.organization.slug]),
                      {"start": start.isoformat(), "end": today.isoformat()})
    text = page.content.decode()
    assert page.status_code == 200
    assert "dropped by the organisation" in text


def test_the_partitions_command_lists_and_maintains(db):
    out = StringIO()
    call_command("call_partitions", "--maintain", stdout=out)
    text = out.getvalue()
    assert "month partition(s)" in text and "tier forever" in text
