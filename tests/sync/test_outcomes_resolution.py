"""Resolution kept as calls arrive (sync.outcomes): whatever order and batches the calls come
in, across environments of one organisation and both directions, each call's next contact
equals a recount from all calls, and the outcome report's figures equal a recount by the
rule; another organisation's calls never count; erasure keeps the figures exact."""
from __future__ import annotations

import random
import threading
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection, transaction

from reports.queries.outcomes import outcomes_summary
from sync.models import Call, OutcomeDayRollup
from sync.models.outcomes import REPEAT_COLUMNS
from sync.outcomes import HORIZON_DAYS, Settling, rebuild_outcome_days, settle_organisation
from sync.privacy.erase import erase_caller
from sync.providers.records import CALL_UPDATE_FIELDS
from sync.write.rollups import local_days_of, refresh_rollups
from sync.write.upsert import upsert, upsert_keys
from tests.support.cast import make_env

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)


def _row(env, cid: str, at: datetime, number: str, direction: str, status: str,
         testing: bool = False) -> dict:
    field = "to_number" if direction == "outbound" else "from_number"
    row = {"environment_id": env.pk, "external_id": cid, "direction": direction,
           "status": status, "is_testing": testing, "raw": {}, "to_number": "+15550000000",
           "from_number": "+15550000000", "started_at": at, "agent_external_id": "ag-1"}
    row[field] = number
    row["payload_hash"] = cid
    return row


def _write(env, rows: list[dict]) -> None:
    """Write calls as the sync's call writer does: the rows, then their local days' rollups
    (`sync.write.call_writer`), in one transaction."""
    with transaction.atomic():
        upsert(Call, env, rows, key="external_id", update_fields=CALL_UPDATE_FIELDS)
        refresh_rollups(env, local_days_of((r["started_at"] for r in rows),
                                           env.organization.tzinfo))


def _contact(call: Call) -> str:
    number = call.to_number if call.direction == "outbound" else call.from_number
    return "".join(ch for ch in number if ch.isdigit())


def _expected_next(calls: list[Call]) -> dict[str, datetime | None]:
    """Each call's first later contact of its number within the horizon (brute force)."""
    contacts = [(c, _contact(c)) for c in calls
                if not c.is_testing and c.direction in ("inbound", "outbound") and _contact(c)]
    horizon = timedelta(days=HORIZON_DAYS)
    out = dict.fromkeys((c.external_id for c in calls), None)
    for c, number in contacts:
        later = [o.started_at for o, other in contacts
                 if other == number and c.started_at < o.started_at <= c.started_at + horizon]
        out[c.external_id] = min(later, default=None)
    return out


def _world(org_a, env_a, org_b):
    env_a2 = make_env(org_a, "A second", "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa3333")
    env_b2 = make_env(org_b, "B other", "talq_bbbbbbbbbbbbbbbbbbbbbbbbbbbb4444")
    rng = random.Random(59)
    numbers = [f"+55 11 98765-43{i:02d}" for i in range(12)]
    rows = {env_a.pk: [], env_a2.pk: [], env_b2.pk: []}
    for i in range(300):
        env = rng.choice([env_a, env_a, env_a2, env_b2])
        number = rng.choice(numbers)
        if rng.random() < 0.5:  # the same number written another way
            number = number.replace(" ", "").replace("-", "")
        at = T0 + timedelta(minutes=rng.randrange(0, 38 * 24 * 60))
        rows[env.pk].append(_row(env, f"c{i}", at, number, rng.choice(["inbound", "outbound"]),
                                 rng.choice(["completed", "completed", "no-answer"]),
                                 testing=rng.random() < 0.05))
    envs = {env_a.pk: env_a, env_a2.pk: env_a2, env_b2.pk: env_b2}
    # Batches of random size in random order: late calls arrive after the ones following them.
    batches = []
    for pk, env_rows in rows.items():
        rng.shuffle(env_rows)
        while env_rows:
            n = rng.randint(1, 40)
            batches.append((envs[pk], env_rows[:n]))
            env_rows = env_rows[n:]
    rng.shuffle(batches)
    for env, batch in batches:
        _write(env, batch)
    return env_a2, env_b2


def _check_next(org) -> None:
    calls = list(Call.objects.filter(environment__organization=org))
    expected = _expected_next(calls)
    assert {c.external_id: c.next_contact_at for c in calls} == expected


def _expected_totals(org, envs, start: date, end: date, now: datetime = NOW) -> dict:
    window = timedelta(days=org.resolution_window_days)
    calls = [c for c in Call.objects.filter(environment__in=envs)
             if not c.is_testing and c.direction in ("inbound", "outbound")
             and start <= c.started_at.astimezone(org.tzinfo).date() <= end]
    answered = [c for c in calls if c.status == "completed"]
    settled = [c for c in answered if c.started_at + window <= now]
    org_contacts = [(o.started_at, _contact(o))
                    for o in Call.objects.filter(environment__organization=org)
                    if not o.is_testing and o.direction in ("inbound", "outbound")]
    repeats = [c for c, number in ((c, _contact(c)) for c in settled) if number and any(
        other == number and c.started_at < at < c.started_at + window
        for at, other in org_contacts)]
    return {"calls": len(calls), "answered": len(answered), "settled": len(settled),
            "repeat_contacts": len(repeats), "resolved": len(settled) - len(repeats),
            "pending": len(answered) - len(settled)}


def _totals(summary) -> dict:
    t = summary.totals
    return {k: getattr(t, k) for k in ("calls", "answered", "settled", "repeat_contacts",
                                       "resolved", "pending")}


@pytest.fixture
def mirrored(settings):
    """Every day counts as mirrored: coverage is not what this test checks."""
    import reports.queries.outcomes as module
    real = module.calls_coverage

    class _All:
        missing_days: list = []

    module.calls_coverage = lambda *a, **k: _All()
    yield
    module.calls_coverage = real


def test_next_contact_kept_in_any_order_and_report_matches_the_rule(org_a, env_a, org_b,
                                                                    mirrored):
    env_a2, env_b2 = _world(org_a, env_a, org_b)
    _check_next(org_a)
    _check_next(org_b)
    start, end = date(2026, 3, 1), date(2026, 4, 7)
    resolved = {}
    for days in (7, 1, 30):
        org_a.resolution_window_days = days
        org_a.save()
        env_a.organization = org_a
        summary = outcomes_summary([env_a, env_a2], start, end, "week", now=NOW)
        assert _totals(summary) == _expected_totals(org_a, [env_a, env_a2], start, end)
        assert summary.totals.settled >= summary.totals.repeat_contacts > 0
        # The series adds up to the totals.
        assert sum(r.calls for r in summary.series) == summary.totals.calls
        assert sum(r.resolved for r in summary.series) == summary.totals.resolved
        resolved[days] = summary.totals.resolved
    assert resolved[1] > resolved[7] > 0  # a shorter window resolves more calls
    # Recomputing everything from scratch changes nothing; from nothing (a mirror from
    # before outcomes were kept: the migration's back-fill) it is the same rule.
    assert settle_organisation(org_a.pk) == 0
    Call.objects.filter(environment__organization=org_a).update(next_contact_at=None)
    assert settle_organisation(org_a.pk) > 0
    _check_next(org_a)
    # Erasing a caller anonymises their numbers: the figures stay what they were.
    before = _totals(outcomes_summary([env_a, env_a2], start, end, "day", now=NOW))
    erase_caller(org_a, "+5511987654303")
    assert Call.objects.filter(from_number__startswith="erased:").exists()
    assert _totals(outcomes_summary([env_a, env_a2], start, end, "day", now=NOW)) == before
    _check_next(org_a)
    # A call of the erased number arriving later still matches its earlier calls.
    late = _row(env_a, "late-1", datetime(2026, 4, 2, 9, tzinfo=UTC), "+5511987654303",
                "inbound", "completed")
    _write(env_a, [late])
    assert Call.objects.get(external_id="late-1").from_number.startswith("erased:")
    _check_next(org_a)


def _rollup_is_a_recount(envs) -> None:
    """The outcome rollup as kept equals one recounted from the calls (then rolled back)."""
    def rows():
        return sorted(OutcomeDayRollup.objects.filter(environment__in=envs).values_list(
            "environment_id", "day", "utc_day", "agent_external_id", "direction", "calls",
            "answered", "vendor_costed", "vendor_cost", "unpriced", "unpriced_seconds",
            "currencies", *REPEAT_COLUMNS))
    kept = rows()
    with transaction.atomic():
        rebuild_outcome_days([e.pk for e in envs], connection)
        assert kept == rows()
        transaction.set_rollback(True)


def _report_is_the_rule(org, envs) -> None:
    """The report's totals (read from the rollup but for the window's edge day) equal a
    brute-force recount, whatever day the edge falls on, and so does each day."""
    start, end = date(2026, 3, 1), date(2026, 4, 7)
    window = timedelta(days=org.resolution_window_days)
    # The edge just after an answered call early in its local day (the calls up to the edge
    # read), just before one late in its day (those after it read), before the period,
    # after it.
    answered = [c.started_at.astimezone(org.tzinfo) for c in Call.objects.filter(
        environment__in=envs, status="completed", is_testing=False,
        direction__in=["inbound", "outbound"]).order_by("started_at")]
    early = next(t for t in answered if 1 <= t.hour < 11) + timedelta(minutes=1) + window
    late = next(t for t in answered if 13 <= t.hour < 23) - timedelta(minutes=1) + window
    for now in (NOW, early, late, datetime(2026, 2, 20, tzinfo=UTC),
                datetime(2026, 6, 1, tzinfo=UTC)):
        summary = outcomes_summary(envs, start, end, "day", now=now)
        assert _totals(summary) == _expected_totals(org, envs, start, end, now)
    summary = outcomes_summary(envs, start, end, "day", now=NOW)
    for row in summary.series[::3]:
        assert _totals(SimpleNamespace(totals=row)) == _expected_totals(
            org, envs, row.start, row.end)


def test_outcome_rollup_equals_a_recount_through_syncs_erasure_and_window_change(
        org_a, env_a, org_b, mirrored):
    env_a2, _ = _world(org_a, env_a, org_b)
    envs = [env_a, env_a2]
    assert OutcomeDayRollup.objects.filter(environment__in=envs).exists()
    _rollup_is_a_recount(envs)
    _report_is_the_rule(org_a, envs)
    # Late calls (before calls already mirrored, settling them and settled by them) and a
    # call whose status changed, in another batch order.
    rng = random.Random(7)
    late = [_row(env_a2, f"late{i}", T0 + timedelta(minutes=rng.randrange(0, 30 * 24 * 60)),
                 f"+55 11 98765-43{rng.randrange(12):02d}", rng.choice(["inbound", "outbound"]),
                 "completed") for i in range(25)]
    _write(env_a2, late)
    first = Call.objects.filter(environment=env_a, status="completed").order_by("pk").first()
    changed = _row(env_a, first.external_id, first.started_at, _contact(first),
                   first.direction, "no-answer")
    changed["payload_hash"] = "changed"
    _write(env_a, [changed])
    _rollup_is_a_recount(envs)
    _report_is_the_rule(org_a, envs)
    # Erasure keeps it exact, and so does a call of the erased number arriving afterwards.
    erase_caller(org_a, "+5511987654305")
    _write(env_a, [_row(env_a, "after-erasure", datetime(2026, 3, 12, 9, tzinfo=UTC),
                        "+5511987654305", "inbound", "completed")])
    _rollup_is_a_recount(envs)
    _report_is_the_rule(org_a, envs)
    # A change of window recomputes nothing and reads right.
    for days in (3, 30, 1):
        org_a.resolution_window_days = days
        org_a.save()
        for env in envs:
            env.organization = org_a
        _report_is_the_rule(org_a, envs)


def _call_rows_updated() -> int:
    """Row versions the calls' partitions took by UPDATE in this transaction so far, with
    what earlier transactions of this connection did that the statistics have not taken
    yet (PostgreSQL 15 counts those too): a test takes the difference within one
    transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_xact_user_tables "
                       "WHERE relid IN (SELECT relid FROM pg_partition_tree('sync_call'))")
        return cursor.fetchone()[0]


def _batch(env, rng: random.Random, prefix: str, days: int) -> list[dict]:
    """60 calls over 19 days from `days` on: 8 numbers, written other ways too, both
    directions, some test calls, some equal starts."""
    numbers = [f"+55 11 98765-43{i:02d}" for i in range(8)]
    rows = []
    for i in range(60):
        number = rng.choice(numbers)
        if i % 2:
            number = number.replace(" ", "").replace("-", "")
        at = T0 + timedelta(days=days, hours=rng.randrange(0, 19 * 24))
        rows.append(_row(env, f"{prefix}{i}", at, number, rng.choice(["inbound", "outbound"]),
                         "completed", testing=i % 13 == 0))
    return rows


def test_a_back_filled_call_is_written_once_with_its_next_contact(org_a, env_a):
    """A back-fill writes each call once, its next contact with it, whether that contact
    is in the same batch or in one mirrored before (newest first: the older batch's calls
    find theirs in the newer one); every call ends with the rule's next contact."""
    rng = random.Random(3)
    newer, older = _batch(env_a, rng, "new", 19), _batch(env_a, rng, "old", 0)
    for rows in (newer, older):
        with transaction.atomic():
            before = _call_rows_updated()
            _write(env_a, rows)
            assert _call_rows_updated() == before
            _check_next(org_a)
    assert Call.objects.filter(external_id__startswith="old",
                               next_contact_at__gte=T0 + timedelta(days=19)).exists()


def test_a_batch_merged_while_the_one_before_is_in_flight_takes_its_next_contacts(
        org_a, env_a):
    """The batch writer merges a batch while the batch before it has not committed (its
    rows are invisible to the probes before the merge): once that one commits, the calls
    whose next contact it holds take it, and only those are rewritten."""
    rng = random.Random(5)
    newer, older = _batch(env_a, rng, "new", 19), _batch(env_a, rng, "old", 0)
    merged, commit = threading.Event(), threading.Event()
    first = Settling()

    def write_newer() -> None:
        try:
            with transaction.atomic():
                upsert_keys(Call, env_a, newer, key="external_id",
                            update_fields=CALL_UPDATE_FIELDS, settling=first)
                merged.set()
                commit.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=write_newer)
    thread.start()
    assert merged.wait(30)

    def ordered() -> None:  # as `sync.write.batch_writer` orders batches
        commit.set()
        thread.join(30)

    alone = _expected_next([Call(**r) for r in older])
    with transaction.atomic():
        before = _call_rows_updated()
        upsert_keys(Call, env_a, older, key="external_id", update_fields=CALL_UPDATE_FIELDS,
                    ordered=ordered, settling=Settling(first))
        final = {c.external_id: c.next_contact_at
                 for c in Call.objects.filter(external_id__startswith="old")}
        rewritten = _call_rows_updated() - before
        assert rewritten == sum(final[k] != alone[k] for k in alone) > 0
    _check_next(org_a)


def test_earlier_contacts_are_probed_only_when_a_call_not_written_here_could_be_one(
        org_a, env_a):
    """The earlier contacts' statement is left out when every call within the horizon
    before the written ones is one this write created (a back-fill, newest first, finds
    only its own batch there); a call mirrored before, even one staged again unchanged,
    still takes its next contact from a new call."""
    from django.test.utils import CaptureQueriesContext

    def probed(rows: list[dict]) -> bool:
        with CaptureQueriesContext(connection) as queries:
            _write(env_a, rows)
        return any("hits AS" in q["sql"] for q in queries.captured_queries)

    rng = random.Random(11)
    newer, older = _batch(env_a, rng, "new", 19), _batch(env_a, rng, "old", 0)
    assert probed(newer) is False
    assert probed(older) is False
    _check_next(org_a)
    # An unchanged call staged again with a new call of its number a minute after it
    # (starts are whole hours: before its next contact).
    first = Call.objects.filter(external_id__startswith="old", is_testing=False,
                                direction__in=["inbound", "outbound"]).order_by("pk").first()
    again = next(r for r in older if r["external_id"] == first.external_id)
    late = _row(env_a, "late-1", first.started_at + timedelta(minutes=1), _contact(first),
                first.direction, "completed")
    assert probed([again, late]) is True
    _check_next(org_a)
    assert Call.objects.get(pk=first.pk).next_contact_at == late["started_at"]


def test_calls_sharing_one_number_written_oldest_first_keep_exact_next_contacts(
        org_a, env_a, org_b):
    """A trunk or test line: every call reaches one number, written oldest first in batches
    (as an Origins back-fill reads its history), with calls at the same start, a second
    environment's calls of the number, gaps longer than the horizon and calls mirrored late
    into the middle. Each written call settles only the last contact before it, yet every
    call's next contact and the rollup stay what a recount gives."""
    env_a2 = make_env(org_a, "A second", "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa3333")
    rng = random.Random(86)
    starts, at = [], T0
    for _ in range(240):
        at += timedelta(minutes=rng.choice([0, 5, 90])) if rng.random() < 0.97 else \
            timedelta(days=HORIZON_DAYS + 2)
        starts.append(at)
    rows = [_row(rng.choice([env_a, env_a, env_a2]), f"s{i}", start,
                 rng.choice(["+55 11 3000-0000", "+551130000000"]),
                 rng.choice(["inbound", "outbound"]), "completed",
                 testing=rng.random() < 0.05) for i, start in enumerate(starts)]
    late = rows[::17]
    kept = [r for r in rows if r not in late]
    for i in range(0, len(kept), 25):  # oldest first, one environment's batch at a time
        for env in (env_a, env_a2):
            batch = [r for r in kept[i:i + 25] if r["environment_id"] == env.pk]
            if batch:
                _write(env, batch)
    for row in late:
        _write(env_a if row["environment_id"] == env_a.pk else env_a2, [row])
    _check_next(org_a)
    _rollup_is_a_recount([env_a, env_a2])
    assert settle_organisation(org_a.pk) == 0
