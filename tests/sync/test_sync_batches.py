"""The write path: pages are merged and committed a batch at a time, with one cursor update
per batch; a worker killed mid-run loses at most the batches in flight and a rerun converges."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sync.engine import sync_environment
from sync.models import Call, StreamState, SyncRun
from sync.models.core import RunStatus
from sync.write.batch_writer import BatchWriter
from tests.support.sync_support import mirror_diff, point_env, served, small_config


def test_one_cursor_update_per_batch_and_the_mirror_is_exact(org_a, settings):
    settings.SYNC_BATCH_ROWS = 300
    with served(small_config(days=3, calls_per_day=300)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, streams=["agents"], now=sim.now)
        StreamState.objects.create(environment=env, stream="calls", cursor={})
        with CaptureQueriesContext(connection) as queries:
            outcome = sync_environment(env, streams=["calls"], now=sim.now)
        run = outcome.runs[0]
        assert run.status == RunStatus.SUCCEEDED, run.error
        cursor_writes = [q for q in queries.captured_queries
                         if q["sql"].lstrip().startswith('UPDATE "sync_streamstate"')]
        calls = Call.objects.filter(environment=env).count()
        # Several 100-row pages per batch (the last one may be smaller): far fewer cursor
        # writes than pages.
        assert run.pages >= calls // 100
        assert 1 <= len(cursor_writes) <= calls // 300 + 1, (len(cursor_writes), calls)
        assert 2 * len(cursor_writes) <= run.pages, (len(cursor_writes), run.pages)
        sync_environment(env, streams=["callback_days"], now=sim.now)
        assert mirror_diff(env, sim) == []


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs, no handler catches it."""


@contextmanager
def killed_at_the_third_batch(org_a, monkeypatch, method: str):
    """Four days of 150 calls a day, agents mirrored, then a calls sync whose
    `BatchWriter.<method>` dies (`Killed`) at the third batch; the first two run as usual.
    Yields (sim, env, counts, threads): the mirrored count after each batch that ran and the
    threads that ran them; `method` is restored for the rerun."""
    real = getattr(BatchWriter, method)
    counts: list[int] = []
    threads: set[int] = set()
    started = 0

    def dying(self, *args, **kwargs):
        nonlocal started
        threads.add(threading.get_ident())
        started += 1
        if started == 3:  # counted as batches start: two writer threads run them at once
            raise Killed
        result = real(self, *args, **kwargs)
        counts.append(Call.objects.filter(environment=self.ctx.environment).count())
        return result

    with served(small_config(days=4, calls_per_day=150)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, streams=["agents"], now=sim.now)
        monkeypatch.setattr(BatchWriter, method, dying)
        with pytest.raises(Killed):
            sync_environment(env, streams=["calls"], now=sim.now)
        monkeypatch.setattr(BatchWriter, method, real)
        yield sim, env, counts, threads


def test_a_killed_worker_loses_only_the_batch_in_flight_and_a_rerun_converges(
        org_a, settings, monkeypatch):
    settings.SYNC_BATCH_ROWS = 200
    with killed_at_the_third_batch(org_a, monkeypatch, "flush") as (sim, env, flushes, _):
        # Exactly the two committed batches are kept, with the cursor that covers them.
        kept = Call.objects.filter(environment=env).count()
        assert kept == flushes[-1] >= 400
        cursor = StreamState.objects.get(environment=env, stream="calls").cursor
        assert cursor.get("in_progress") or cursor.get("synced_through")
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        # The killed run was found dead by the rerun, which converged to the upstream.
        assert SyncRun.objects.filter(environment=env, stream="calls",
                                      status=RunStatus.FAILED).count() == 1
        assert mirror_diff(env, sim) == []


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_dies_with_its_batch_and_a_rerun_converges(org_a, settings,
                                                                      monkeypatch):
    """Outside a transaction, batches are written by a thread of their own while
    the stream reads on; a batch that dies there stops the run, the batches before it stay."""
    settings.SYNC_BATCH_ROWS = 200
    with killed_at_the_third_batch(org_a, monkeypatch, "_write") as (sim, env, written,
                                                                     threads):
        assert threading.get_ident() not in threads, "written by the writer thread"
        assert Call.objects.filter(environment=env).count() == written[-1] >= 400
        outcome = sync_environment(env, now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert mirror_diff(env, sim) == []


@pytest.mark.django_db(transaction=True)
def test_two_batches_merge_at_once_and_commit_in_order(org_a, settings, monkeypatch):
    """Two writer threads: a batch's merge runs while the one before it is still in flight,
    never over a key that one holds, and the batches save their cursors in the order the
    stream handed them over; the mirror is exact."""
    from sync.run_context import RunContext
    from sync.write import batch_writer

    settings.SYNC_BATCH_ROWS = 150
    real_write, real_upsert = BatchWriter._write, batch_writer.upsert_keys
    real_save = RunContext.save_cursor
    guard, local = threading.Lock(), threading.local()
    handed: list[int] = []
    saved: list[int] = []
    active: dict[int, set] = {}
    overlaps: list[bool] = []

    def write(self, batch):
        with guard:
            local.n = len(handed)
            handed.append(local.n)
        return real_write(self, batch)

    def upsert(model, environment, rows, **kwargs):
        keys = {row["external_id"] for row in rows}
        with guard:
            assert all(not keys & other for other in active.values()), "a key merged twice"
            overlaps.append(bool(active))
            active[local.n] = keys
        try:
            time.sleep(0.05)  # a merge long enough for the next batch to start meanwhile
            return real_upsert(model, environment, rows, **kwargs)
        finally:
            with guard:
                del active[local.n]

    def save(self, cursor):
        if getattr(local, "n", None) is not None:
            saved.append(local.n)
        return real_save(self, cursor)

    monkeypatch.setattr(BatchWriter, "_write", write)
    monkeypatch.setattr(batch_writer, "upsert_keys", upsert)
    monkeypatch.setattr(RunContext, "save_cursor", save)
    with served(small_config(days=4, calls_per_day=300)) as (sim, server):
        env = point_env(org_a, sim, server)
        sync_environment(env, streams=["agents"], now=sim.now)
        outcome = sync_environment(env, streams=["calls", "callback_days"], now=sim.now)
        assert not outcome.failed, [r.error for r in outcome.runs]
        assert mirror_diff(env, sim) == []
    assert len(handed) >= 4 and any(overlaps), (handed, overlaps)
    assert saved == sorted(saved) and set(saved) == set(handed)


def test_a_batch_holding_a_key_of_the_batch_before_merges_after_it(org_a):
    """What `_must_follow` decides without a query: a shared key means wait."""
    from concurrent.futures import Future

    from sync.write.batch_writer import Batch

    before = Batch([{"external_id": "a"}], {"a": None}, [], 1, 0, None)
    writer = BatchWriter.__new__(BatchWriter)
    writer.key = "external_id"
    shared = Batch([{"external_id": "a"}], {"a": None}, [], 1, 0, None,
                   previous=(Future(), before))
    assert writer._must_follow(shared)


@pytest.mark.django_db
def test_fields_no_row_sets_are_written_as_constants_and_the_others_filled(env_a):
    """A merge copies only what its rows hold: a field no row sets is one typed constant of
    the statement (its default), a field some rows set is filled with its default in the
    others, and the columns the callback relink reads from the staging table stay copied."""
    from datetime import UTC, datetime

    from sync.write.upsert import canonical, fill_defaults, upsert_keys

    env = env_a
    start = datetime(2026, 11, 2, 10, tzinfo=UTC)

    def row(external_id: str, **extra) -> dict:
        raw = canonical({"id": external_id, **{k: str(v) for k, v in extra.items()}})
        return {"environment_id": env.pk, "external_id": external_id, "sid": f"CA{external_id}",
                "status": "completed", "duration": 42, "direction": "inbound",
                "started_at": start, "raw": raw, "payload_hash": raw.digest, **extra}

    rows = [row("a", transcript="hello", latency_ms=120), row("b")]
    constants = fill_defaults([dict(r) for r in rows], {"transcript": "", "latency_ms": None,
                                                        "hangup_cause": "", "is_testing": False},
                              keep=("is_testing",))
    assert constants == {"hangup_cause": ""}
    counts, changed = upsert_keys(Call, env, rows, key="external_id",
                                  update_fields=["status", "transcript", "payload_hash", "raw"])
    assert (counts.created, sorted(changed)) == (2, ["a", "b"])
    stored = {c.external_id: c for c in Call.objects.filter(environment=env)}
    assert (stored["a"].transcript, stored["a"].latency_ms) == ("hello", 120)
    assert (stored["b"].transcript, stored["b"].latency_ms) == ("", None)
    assert {(c.hangup_cause, c.billed_duration, c.is_testing) for c in stored.values()} == {
        ("", None, False)}
    assert stored["a"].first_seen_at == stored["b"].first_seen_at is not None
    # Again, one changed: classified through the constant first-seen instant.
    again = [row("a", transcript="hello again", latency_ms=120), row("b")]
    counts, changed = upsert_keys(Call, env, again, key="external_id",
                                  update_fields=["status", "transcript", "payload_hash", "raw"])
    assert (counts.created, counts.updated, counts.unchanged, changed) == (0, 1, 1, ["a"])
    assert Call.objects.get(environment=env, external_id="a").transcript == "hello again"


@pytest.mark.django_db(transaction=True)
def test_a_writer_blocked_on_a_lock_fails_its_run_instead_of_hanging(org_a, settings):
    """A writer thread's merge that waits on a lock held elsewhere gives up after
    SYNC_WRITER_LOCK_TIMEOUT_SECONDS: the run fails with the mirror as it was, and once the
    lock is gone a rerun converges. Without the timeout the run waits as long as the lock is
    held (here: until the test gives up on it)."""
    import psycopg
    from django.db import connection as django_connection
    from django.db import connections

    settings.SYNC_BATCH_ROWS = 100
    settings.SYNC_WRITER_LOCK_TIMEOUT_SECONDS = 1
    with served(small_config(days=2, calls_per_day=150)) as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed  # partitions made, agents in
        Call.objects.filter(environment=env).delete()
        StreamState.objects.filter(environment=env, stream="calls").delete()
        params = django_connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params) as holder:
            holder.execute("LOCK TABLE sync_call IN SHARE MODE")  # every INSERT waits on it
            outcome: list = []

            def sync_in_thread() -> None:
                try:
                    outcome.append(sync_environment(env, streams=["calls"], now=sim.now))
                finally:
                    connections.close_all()

            run = threading.Thread(target=sync_in_thread)
            started = time.monotonic()
            run.start()
            run.join(timeout=30)
            waited = time.monotonic() - started
            hung = run.is_alive()
            holder.rollback()  # the lock goes: a hung run would go on now
        run.join(timeout=60)
        assert not hung, f"the run still waited on the lock after {waited:.0f} s"
        assert outcome and outcome[0].failed
        assert "lock" in " ".join(r.error or "" for r in outcome[0].runs).lower()
        assert Call.objects.filter(environment=env).count() == 0  # the mirror as it was
        assert not sync_environment(env, now=sim.now).failed
        assert mirror_diff(env, sim) == []
