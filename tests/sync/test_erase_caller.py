"""Erasing a caller against the simulator over real HTTP: every table and the cache
hold the number in no form afterwards, reports and the ledger are unchanged, and later syncs
(incremental, webhook-triggered, full re-read) anonymise the caller's calls on arrival.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client

from portal.models import AuditLog
from portal.phone import national_digits, number_pattern, number_regex, to_e164
from sync.engine import sync_environment
from sync.models import Agent, Call, CallDayLedger, CallerTombstone, Erasure, RejectedRecord
from sync.models.core import Trigger
from sync.privacy.keys import number_hash, token_of
from tests.support.sync_support import point_env, served, small_config

SIMULATED = pytest.mark.django_db(transaction=True)


def caller_of(env) -> str:
    """A Brazilian caller (not an agent's own line) with several calls, as E.164."""
    lines = " ".join(str(raw) for raw in Agent.objects.filter(environment=env)
                     .values_list("raw", flat=True))
    counts: dict[str, int] = {}
    for direction, to, frm in Call.objects.filter(environment=env).values_list(
            "direction", "to_number", "from_number"):
        caller = frm if direction == "inbound" else to
        if caller.startswith("+55") and caller not in lines:
            counts[caller] = counts.get(caller, 0) + 1
    return max(counts, key=counts.get)


def forms_of(e164: str) -> list[str]:
    """The number as a person, a spreadsheet or an upstream may write it."""
    code, nsn = national_digits(e164)
    return [e164, e164[1:], nsn, f"({nsn[:2]}) {nsn[2:-4]}-{nsn[-4:]}", f"{nsn[2:-4]}-{nsn[-4:]}"]


def dump_database() -> str:
    """Every column of every row of every table, as text (each leaf partition)."""
    parts = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                       "AND c.relkind IN ('r', 'p')")
        tables = [row[0] for row in cursor.fetchall()]
        for table in tables:
            cursor.execute(f"SELECT t::text FROM {table} t")
            parts += [row[0] for row in cursor.fetchall()]
    assert len(tables) > 30
    return "\n".join(parts)


def dump_cache() -> str:
    """Every value of the Redis cache (empty when the database cache is in use: dumped with
    the tables)."""
    from django.core.cache import caches

    redis = getattr(caches["default"], "_cache", None)
    if redis is None or not hasattr(redis, "get_client"):
        return ""
    client = redis.get_client(write=False)
    values = []
    for key in client.scan_iter(count=1000):
        if client.type(key) == b"string":
            values.append(key.decode(errors="replace"))
            values.append((client.get(key) or b"").decode("latin-1"))
    return "\n".join(values)


def found_forms(text: str, e164: str) -> list[str]:
    found = [form for form in forms_of(e164) if form in text]
    digits_only = re.sub(r"[^0-9\n]", "", text)
    if national_digits(e164)[1] in digits_only.replace("\n", " "):
        found.append("digits")
    return found


def report(client: Client, env) -> dict:
    answer = client.get("/api/v1/reports/calls/", {
        "environment": env.pk, "start_date": "2026-03-07", "end_date": "2026-03-10",
        "interval": "day"})
    assert answer.status_code == 200
    body = answer.json()
    return {k: v for k, v in body.items() if k not in ("generated_at", "freshness")}


@SIMULATED
def test_erased_everywhere_reports_equal_and_resync_brings_nothing_back(org_a, alice):
    alice.email = "alice@example.com"
    alice.save()
    client = Client()
    client.force_login(alice)
    with served(small_config(days=3, calls_per_day=60)) as (sim, server):
        env = point_env(org_a, sim, server)
        assert not sync_environment(env, now=sim.now).failed
        e164 = caller_of(env)
        nsn = national_digits(e164)[1]
        theirs = Call.objects.filter(environment=env).filter(
            to_number=e164) | Call.objects.filter(environment=env, from_number=e164)
        ids = set(theirs.values_list("external_id", flat=True))
        assert len(ids) >= 2
        # Their number in a rejected record, a saved search, and the cached explorer page.
        RejectedRecord.objects.create(environment=env, stream="calls", fingerprint="x" * 32,
                                      payload=f'{{"from": "{e164}"}}',
                                      reason=f"to: bad value '{nsn}'")
        from reports.models import SavedView
        SavedView.objects.create(organization=org_a, owner=alice, name="caller",
                                 page="calls", query=f"q=%2B55%20{nsn[:2]}%20{nsn[2:]}")
        page = client.get(f"/o/{org_a.slug}/calls/", {"start": "2026-03-01",
                                                        "end": "2026-03-10"})
        assert page.status_code == 200
        before = report(client, env)
        ledger = list(CallDayLedger.objects.filter(environment=env).order_by("day")
                      .values_list("day", "mirrored"))
        assert found_forms(dump_database() + dump_cache(), e164)

        # Written nationally, as a Brazilian operator would: the org is in São Paulo.
        national = f"({nsn[:2]}) {nsn[2:-4]}-{nsn[-4:]}"
        call_command("erase_caller", org_a.slug, "--number", national, "--yes")

        erasure = Erasure.objects.get()
        assert erasure.number_hash == number_hash(e164) and erasure.calls == len(ids)
        assert erasure.environments[str(env.pk)]["calls"] == len(ids)
        assert erasure.cache_purged
        dumped = dump_database()
        assert found_forms(dumped, e164) == [], [line[:300] for line in dumped.splitlines()
                                                 if found_forms(line, e164)][:5]
        assert found_forms(dump_cache(), e164) == []
        token = token_of(number_hash(e164))
        for call in Call.objects.filter(external_id__in=ids):
            assert token in (call.to_number, call.from_number)
            assert token in str(call.record.values())
        # Every report keeps its totals, the ledger its counts.
        assert report(client, env) == before
        assert list(CallDayLedger.objects.filter(environment=env).order_by("day")
                    .values_list("day", "mirrored")) == ledger
        # A log without the number: the audit entry and the owners' receipt.
        entry = AuditLog.objects.get(action="privacy.erasure")
        assert entry.details["number_hash"] == erasure.number_hash
        assert [m.to for m in mail.outbox] == [["alice@example.com"]]
        for text in (str(entry.details), mail.outbox[0].subject, mail.outbox[0].body,
                     mail.outbox[0].alternatives[0][0]):
            assert not any(form in text for form in forms_of(e164))

        # Later syncs: incremental, webhook-triggered, then a full re-read of every day.
        sim.advance(timedelta(hours=3))
        assert not sync_environment(env, now=sim.now).failed
        assert not sync_environment(env, now=sim.now, trigger=Trigger.WEBHOOK).failed
        full = sync_environment(env, now=sim.now, full=True)
        assert not full.failed
        assert found_forms(dump_database(), e164) == []
        assert Call.objects.filter(external_id__in=ids).count() == len(ids)
        mirrored = dict(CallDayLedger.objects.filter(environment=env)
                        .values_list("day", "mirrored"))
        assert all(mirrored[day] >= count for day, count in ledger)
        # A full re-read finds the anonymised calls unchanged: nothing to write again.
        again = sync_environment(env, now=sim.now, full=True)
        assert sum(r.updated for r in again.runs if r.stream == "calls") == 0
        assert CallerTombstone.objects.filter(organization=org_a).count() == 1


@SIMULATED
def test_anonymised_on_arrival_in_a_first_backfill(org_a):
    """A tombstone made before the environment ever synced (a second workspace, a re-created
    environment): the first back-fill writes the caller's calls anonymised."""
    with served(small_config(days=2, calls_per_day=40)) as (sim, server):
        first = point_env(org_a, sim, server)
        sync_environment(first, now=sim.now)
        e164 = caller_of(first)
        call_command("erase_caller", org_a.slug, "--number", e164[1:], "--yes")
        second = point_env(org_a, sim, server, name="Sales again")
        assert not sync_environment(second, now=sim.now).failed
        texts = [str(row) for row in Call.objects.filter(environment=second).values()]
        assert not any(form in text for text in texts for form in forms_of(e164))
        assert Call.objects.filter(environment=second).count() == \
            Call.objects.filter(environment=first).count()


def test_numbers_in_any_format_reach_the_same_caller(org_a):
    for written in ("+55 11 98765-4321", "(11) 98765-4321", "011 98765 4321", "5511987654321",
                    "+55 (11) 98765.4321", "0055 11 987654321"):
        assert to_e164(written, "BR") == "+5511987654321", written


def test_the_command_refuses_what_is_not_a_number_and_asks_first(org_a, alice, monkeypatch):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="phone number"):
        call_command("erase_caller", org_a.slug, "--number", "zzzz", "--yes")
    with pytest.raises(CommandError, match="No organisation"):
        call_command("erase_caller", "nope", "--number", "+5511987654321", "--yes")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CommandError, match="Nothing erased"):
        call_command("erase_caller", org_a.slug, "--number", "+5511987654321")
    assert not Erasure.objects.exists() and not CallerTombstone.objects.exists()
    assert not AuditLog.objects.exists() and mail.outbox == []


def test_no_pattern_of_an_erased_number_is_kept_in_the_process():
    """The patterns an erasure or a scrub looks for are made anew for each use: neither a
    function's cache nor `re`'s module cache keeps a copy of the number in a worker's memory
    once the erasure is done."""
    e164 = "+5511987654321"
    assert number_pattern(e164) is not number_pattern(e164)
    first, second = number_regex(e164), number_regex(e164)
    assert first is not second
    assert first.pattern not in {key[1] for key in re._cache}
    assert first.search("ligar para (11) 98765-4321 amanhã")
    assert not first.search("ligar para (11) 98765-43210")
