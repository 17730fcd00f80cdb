"""The compatible calls listing at scale: exact totals, every page right, index-only plans.

Pages are read from the rollups' per-day counts (see `reports.talkover.listing`); these tests
walk every page of many filter combinations and compare them with the plain ordered query,
check Talkover's tie order, the fallback when a rollup is out of step, and (PostgreSQL) that
no listing plan sorts or scans the whole environment.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from reports import call_search
from reports.call_search import CALL_ID_EXACT, search_q
from sync.models import AgentDayRollup, Call
from tests.support.factories import (
    build_call,
    insert_bulk_calls,
    make_agents,
    make_calls,
    save_calls,
)

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2026, 3, 1), date(2026, 3, 12)


@pytest.fixture
def mirror(env_a, env_b):
    agents = make_agents(env_a, 3)
    make_calls(env_a, 700, FIRST, LAST, seed=21, agents=agents, testing_share=0.1)
    make_calls(env_b, 200, FIRST, LAST, seed=22)  # another tenant's calls never leak in
    return agents


def url(env, tail: str = "calls") -> str:
    return f"/api/v1/environments/{env.pk}/{tail}"


def every_page(client, path: str, params: dict) -> tuple[list[str], int]:
    ids, page = [], 1
    while True:
        body = client.get(path, {**params, "page": page}).json()
        ids.extend(c["id"] for c in body["data"])
        if page >= body["pagination"]["last_page"]:
            return ids, body["pagination"]["total"]
        page += 1


def expected(env, **filters) -> list[str]:
    return list(Call.objects.filter(environment=env, **filters)
                .order_by("-started_at", "-external_id").values_list("external_id", flat=True))


def filter_cases(env, agents) -> list[tuple[dict, dict]]:
    tz = env.organization.tzinfo
    lo = datetime.combine(date(2026, 3, 4), datetime.min.time(), tzinfo=tz)
    hi = datetime.combine(date(2026, 3, 8), datetime.min.time(), tzinfo=tz)
    agent = agents[0].external_id
    return [
        ({}, {}),
        ({"status": "completed"}, {"status": "completed"}),
        ({"status": "busy"}, {"status": "busy"}),
        ({"direction": "inbound"}, {"direction": "inbound"}),
        ({"agent_id": agent}, {"agent_external_id": agent}),
        ({"agent_id": agent, "status": "completed", "direction": "outbound"},
         {"agent_external_id": agent, "status": "completed", "direction": "outbound"}),
        ({"date_from": "2026-03-04", "date_to": "2026-03-07"},
         {"started_at__gte": lo, "started_at__lt": hi}),
        ({"date_from": "2026-03-04", "status": "no-answer"},
         {"started_at__gte": lo, "status": "no-answer"}),
        ({"date_to": "2026-02-01"}, {"started_at__lt": lo - timedelta(days=100)}),
    ]


@pytest.mark.parametrize("per_page", [7, 100])
def test_every_page_of_every_filter_is_the_ordered_query(env_a, mirror, alice, api_client_for,
                                                         per_page):
    client = api_client_for(alice)
    for params, filters in filter_cases(env_a, mirror):
        ids, total = every_page(client, url(env_a), {"per_page": per_page, **params})
        want = expected(env_a, **filters)
        assert total == len(want), params
        assert ids == want, params


def test_agent_calls_pages_match_the_ordered_query(env_a, mirror, alice, api_client_for):
    agent = mirror[1].external_id
    ids, total = every_page(api_client_for(alice), url(env_a, f"agents/{agent}/calls"),
                            {"per_page": 9, "status": "completed"})
    assert ids == expected(env_a, agent_external_id=agent, status="completed")
    assert total == len(ids)


def test_pages_past_the_end_and_the_last_partial_page(env_a, mirror, alice, api_client_for):
    client = api_client_for(alice)
    total = Call.objects.filter(environment=env_a).count()
    assert total % 30
    last = client.get(url(env_a), {"per_page": 30, "page": total // 30 + 1}).json()
    assert len(last["data"]) == total % 30
    assert last["pagination"]["to"] == total
    beyond = client.get(url(env_a), {"per_page": 100, "page": 1000}).json()
    assert beyond["data"] == [] and beyond["pagination"]["total"] == total
    assert beyond["pagination"]["from"] is None


def test_ties_on_created_at_are_id_descending_as_talkover(env_a, alice, api_client_for):
    moment = datetime(2026, 3, 3, 12, 0, 0).astimezone()
    calls = [build_call(env_a, moment) for _ in range(5)]
    for call, ext in zip(calls, ["0b", "a1", "07", "ff", "5c"], strict=True):
        call.external_id = f"{ext}000000-0000-4000-8000-000000000000"
    save_calls(env_a, calls)
    data = api_client_for(alice).get(url(env_a), {"per_page": 2, "page": 2}).json()["data"]
    assert [c["id"][:2] for c in data] == ["5c", "0b"]  # ff, a1 | 5c, 0b | 07


def test_a_page_the_rollups_misplace_is_served_from_the_calls(env_a, mirror, alice,
                                                              api_client_for):
    """Rollups are kept in step by the sync; if one were not, a page whose rows disagree
    with it is answered from the calls alone (exact count, plain offset), never short."""
    newest = AgentDayRollup.objects.filter(environment=env_a).order_by("-day").first()
    AgentDayRollup.objects.filter(pk=newest.pk).update(calls=F("calls") + 100)
    body = api_client_for(alice).get(url(env_a), {"per_page": 100}).json()
    assert body["pagination"]["total"] == Call.objects.filter(environment=env_a).count()
    assert [c["id"] for c in body["data"]] == expected(env_a)[:100]


@pytest.mark.parametrize("needle_of", [
    lambda c: c.sid,                      # whole SID
    lambda c: c.sid[:6].lower(),          # prefix, any case
    lambda c: c.sid[3:8],                 # inner part
    lambda c: c.sid[-4:],                 # suffix
    lambda c: c.to_number,                # whole number
    lambda c: c.to_number[-4:],           # suffix
    lambda c: c.to_number[3:9],           # inner part
    lambda c: f"+{c.to_number[1]} ({c.to_number[2:5]}) {c.to_number[5:8]}-{c.to_number[8:]}",
    lambda c: c.external_id,              # the call id itself
])
def test_search_finds_calls_by_any_part(env_a, mirror, alice, api_client_for, needle_of):
    call = Call.objects.filter(environment=env_a).order_by("external_id")[17]
    needle = needle_of(call)
    ids, total = every_page(api_client_for(alice), url(env_a),
                            {"search": needle, "per_page": 5})
    assert call.external_id in ids
    assert total == len(ids) == len(set(ids))
    ordered = expected(env_a, external_id__in=ids)
    assert ids == ordered


def test_search_with_filters_and_no_match(env_a, mirror, alice, api_client_for):
    client = api_client_for(alice)
    call = Call.objects.filter(environment=env_a, status="completed").first()
    hit = client.get(url(env_a), {"search": call.sid, "status": "completed"}).json()
    assert [c["id"] for c in hit["data"]] == [call.external_id]
    miss = client.get(url(env_a), {"search": call.sid, "status": "busy"}).json()
    assert miss["data"] == [] and miss["pagination"]["total"] == 0
    # A page past the matches still carries the exact number of matches.
    past = client.get(url(env_a), {"search": call.sid, "page": 3}).json()
    assert past["data"] == [] and past["pagination"]["total"] == 1


@pytest.mark.parametrize("per_page", [7, 100])
def test_a_search_matching_many_calls_pages_and_counts_exactly(env_a, mirror, alice,
                                                               api_client_for, per_page):
    """A broad needle (hundreds of matches through several conditions, ties on created_at
    among them): every page is the ordered query's, the total exact, past the end too."""
    moment = datetime(2026, 3, 3, 12, 0, 0).astimezone()
    tied = [build_call(env_a, moment) for _ in range(5)]
    for call, ext in zip(tied, ["0b", "a1", "07", "ff", "5c"], strict=True):
        call.external_id = f"{ext}000000-0000-4000-8000-000000000000"
    save_calls(env_a, tied)
    client = api_client_for(alice)
    needle = "0"  # in most numbers and SIDs, not all
    matches = list(Call.objects.filter(environment=env_a).filter(search_q(needle, CALL_ID_EXACT))
                   .order_by("-started_at", "-external_id").values_list("external_id",
                                                                        flat=True))
    assert 100 < len(matches) < Call.objects.filter(environment=env_a).count()
    ids, total = every_page(client, url(env_a), {"search": needle, "per_page": per_page})
    assert ids == matches and total == len(matches)
    past = client.get(url(env_a), {"search": needle, "per_page": per_page,
                                   "page": len(matches) // per_page + 2}).json()
    assert past["data"] == [] and past["pagination"]["total"] == len(matches)
    agent = mirror[0].external_id
    agent_ids, agent_total = every_page(client, url(env_a, f"agents/{agent}/calls"),
                                        {"search": needle, "per_page": per_page})
    agent_of = dict(Call.objects.filter(environment=env_a)
                    .values_list("external_id", "agent_external_id"))
    assert agent_ids == [e for e in matches if agent_of[e] == agent]
    assert agent_total == len(agent_ids)


def test_listing_query_count_is_fixed(env_a, mirror, alice, api_client_for,
                                      assert_max_queries):
    client = api_client_for(alice)
    for params in ({}, {"page": 9, "status": "completed"}, {"search": "CA"}):
        with assert_max_queries(8):
            assert client.get(url(env_a), {"per_page": 100, **params}).status_code == 200


def test_a_page_reads_its_environment_once_and_the_calls_by_its_id(env_a, env_b, mirror, alice,
                                                                   api_client_for):
    """The environment in one statement scoped by membership (with its organisation), the
    calls by its id alone: no other query of the page goes through the organisations again
    (each such subquery cost a compilation in the app and a plan in PostgreSQL)."""
    client = api_client_for(alice)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(env_a), {"per_page": 100, "status": "completed"})
    assert response.status_code == 200 and response.json()["data"]
    sqls = [q["sql"] for q in ctx.captured_queries if "django_cache" not in q["sql"]]
    environment_reads = [sql for sql in sqls if "portal_environment" in sql]
    assert len(environment_reads) == 1 and "portal_organization" in environment_reads[0]
    call_reads = [sql for sql in sqls if "sync_call" in sql]
    assert call_reads and not any("portal_" in sql for sql in call_reads), call_reads
    assert client.get(url(env_b)).json() == {"success": False, "message": "Environment not found"}


def test_the_body_is_drfs_json_byte_for_byte(env_a, mirror, alice, api_client_for):
    """The page is written by orjson (`compat.json_bytes`): the same bytes DRF's JSONRenderer
    writes, also for what the two encoders could treat apart (U+2028, control characters,
    quotes, non-ASCII)."""
    from rest_framework.renderers import JSONRenderer

    Call.objects.filter(environment=env_a).update(
        from_formatted="S\u00e3o \"Paulo\"\u2028\u2029\x01\t\x7f \U0001f600 </script>")
    response = api_client_for(alice).get(url(env_a), {"per_page": 100})
    assert response["Content-Type"] == "application/json"
    assert "\u2028" in response.json()["data"][0]["from_formatted"]
    assert response.content == JSONRenderer().render(json.loads(response.content))


# --- PostgreSQL plans --------------------------------------------------------------------------

def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def root_indexes(cursor) -> dict[str, str]:
    """Index name of every partition of `sync_call` → the table's index it belongs to."""
    cursor.execute("SELECT c.relname, r.relname FROM pg_index i JOIN pg_class r "
                   "ON r.oid = i.indexrelid JOIN pg_partition_tree(r.oid) t ON true "
                   "JOIN pg_class c ON c.oid = t.relid WHERE i.indrelid = 'sync_call'::regclass")
    return dict(cursor.fetchall())


TRIGRAM_INDEXES = ("call_env_search_gin",)


def test_no_listing_plan_sorts_or_scans_the_whole_environment(env_a, mirror, alice,
                                                               api_client_for):
    """Every query of every listing, planned with sorts and sequential scans priced out:
    a plan that still sorts calls (beyond the ties of one instant, which an Incremental Sort
    orders by id) or scans the environment has no index to do better.

    30,000 more calls (generated by the database) make the planner's choices those of a
    large mirror rather than of a table it could read in one page."""
    from sync.write.rollups import rebuild_rollups

    end = datetime(2026, 3, 13, tzinfo=env_a.organization.tzinfo)
    insert_bulk_calls(env_a, mirror[2].external_id, end, 30_000)
    rebuild_rollups(env_a)
    with connection.cursor() as cursor:
        index_of = root_indexes(cursor)
    client = api_client_for(alice)
    sid = Call.objects.filter(environment=env_a).first().sid
    listings = [{"per_page": 100, **params} for params, _ in filter_cases(env_a, mirror)]
    listings += [{**p, "page": 4} for p in listings]
    listings += [{"search": sid[2:9]}, {"search": "5550", "status": "completed", "page": 2}]
    checked = 0
    for params in listings:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(env_a), params).status_code == 200
        searching = "search" in params
        call_queries = [q["sql"] for q in captured.captured_queries
                        if '"sync_call"' in q["sql"] and q["sql"].startswith("SELECT")]
        checked += len(call_queries)
        with connection.cursor() as cursor:
            for sql in call_queries:
                probe = sql.endswith(" LIMIT 1")  # an agent's existence check
                # The search's id probe is planned as the request plans it (call_search).
                search_probe = sql.endswith(f" LIMIT {call_search.PROBE + 1}")
                for name in call_search.PROBE_PLANS_OFF if search_probe else ():
                    cursor.execute(f"SET {name} = off")
                cursor.execute("SET enable_seqscan = off")
                # A search sorts its matches (few): only other listings must need no sort
                # but of the calls of one instant (their ties, ordered by id).
                cursor.execute(f"SET enable_sort = {'on' if searching else 'off'}")
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                for name in ("enable_seqscan", *call_search.PROBE_PLANS_OFF, "enable_sort"):
                    cursor.execute(f"RESET {name}")
                plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
                nodes = list(plan_nodes(plan))
                kinds = {n["Node Type"] for n in nodes}
                assert "Seq Scan" not in kinds, (params, sql)
                # Partitioned (sync/partitions/ddl.py): each month's index stands for the table's.
                for n in nodes:
                    n["Index Name"] = index_of.get(n.get("Index Name"), n.get("Index Name"))
                scans = [n for n in nodes if n.get("Relation Name", "").startswith("sync_call")
                         and n.get("Index Name") != "sync_call_pkey"]
                if searching and not probe:
                    used = {n.get("Index Name") for n in nodes}
                    assert used & set(TRIGRAM_INDEXES), (params, sql)
                    scans = [n for n in scans if n["Node Type"] == "Index Scan"]
                else:
                    assert "Sort" not in kinds, (params, json.dumps(plan, indent=1))
                    for n in nodes:  # the index gives the order; only ties are sorted
                        if n["Node Type"] == "Incremental Sort":
                            assert n["Presorted Key"][0].endswith("started_at"), (params, n)
                for scan in scans:
                    cond = scan.get("Index Cond", "")
                    # One environment's calls narrowed to a window of days (or an agent's
                    # existence check): never the environment end to end.
                    assert "started_at" in cond or probe, (params, sql, cond)
    assert checked >= 12  # (an empty range or a page past the end reads no call at all)
