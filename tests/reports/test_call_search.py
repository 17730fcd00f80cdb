"""One search rule for calls (`reports.call_search`), the same on the three faces that search:
the calls explorer, the Talkover-compatible listing and `calls_in_range`.

The IDs carry digit runs on purpose: a cut ID must find its call, never a call whose phone
number happens to share those digits, and a needle that is neither an ID part nor a phone
number finds nothing.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reports import call_search
from reports.queries import calls_in_range
from tests.support.factories import build_call, insert_bulk_calls, make_agents, save_calls

pytestmark = pytest.mark.django_db

# What the explorer asks for a cut-SID search: the user, the membership, the environments, the
# probe (a savepoint here, BEGIN in a request: SET LOCAL, ids, ROLLBACK, RELEASE), the page's
# calls with their agents, the organisations (the switcher), the frame's flags. The agents
# of the filter's choices come from the report cache after the first page.
QUERIES = 11

DAY = date(2026, 3, 3)
TARGET_SID = "CA9ff1b856ccf0417aa2"
TARGET_ID = "7c1d2e3f-0917-4b8a-9c56-1200aa77bb99"
ORIGINS_ID = "orig-55abc-20260303-9931"


@pytest.fixture
def calls(env_a, env_b):
    """The target call, a decoy whose number holds the target ID's digits (9, 1, 856 …), an
    id-only call (no SID, as Origins sends) and another tenant's copy of the target."""
    at = datetime(2026, 3, 3, 10, 0).astimezone(env_a.organization.tzinfo)

    def call(env, minutes: int, ext: str, sid: str, to: str):
        c = build_call(env, at + timedelta(minutes=minutes))
        c.external_id, c.sid, c.to_number, c.to_formatted = ext, sid, to, to
        c.from_number = c.from_formatted = "+14440000000"
        return c

    rows = {
        "target": call(env_a, 0, TARGET_ID, TARGET_SID, "+15550001111"),
        "decoy": call(env_a, 1, "0b0b0b0b-aaaa-4bbb-8ccc-dddddddddddd", "CAdecoy",
                      "+1919185600"),  # holds 9, 1, 856 and 91856
        "id_only": call(env_a, 2, ORIGINS_ID, "", "+15550002222"),
        "phone": call(env_a, 3, "0c0c0c0c-aaaa-4bbb-8ccc-dddddddddddd", "CAphone",
                      "+5511987654321"),
        # Ends like "phone" (its last 7 digits), but holds no longer run of its digits.
        "tail": call(env_a, 4, "0d0d0d0d-aaaa-4bbb-8ccc-dddddddddddd", "CAtail",
                     "+131297654321"),
        # Ends like the target's SID (its last 12 characters: more than the index is asked
        # for), but is another SID.
        "twin": call(env_a, 5, "0e0e0e0e-aaaa-4bbb-8ccc-dddddddddddd",
                     "CA0000000056ccf0417aa2", "+15550003333"),
    }
    save_calls(env_a, [rows[k] for k in ("target", "decoy", "id_only", "phone", "tail",
                                         "twin")])
    save_calls(env_b, [call(env_b, 0, TARGET_ID, TARGET_SID, "+15550001111")])
    return rows


def explorer(client, user, needle: str) -> set[str]:
    client.force_login(user)
    response = client.get("/o/org-a/calls/", {"search": needle, "date_from": DAY,
                                              "date_to": DAY})
    assert response.status_code == 200
    return {c.external_id for c in response.context["page"].object_list}


def compatible(api_client_for, user, env, needle: str) -> set[str]:
    body = api_client_for(user).get(f"/api/v1/environments/{env.pk}/calls",
                                    {"search": needle}).json()
    return {c["id"] for c in body["data"]}


def in_range(env, needle: str) -> set[str]:
    return set(calls_in_range([env], DAY, DAY, search=needle)
               .values_list("external_id", flat=True))


@pytest.mark.parametrize("needle,found", [
    (TARGET_SID, {"target"}),                   # whole SID
    ("CA9ff1b856ccf", {"target"}),              # cut as the table shows it
    ("CA9ff1b856ccf…", {"target"}),             # … with the table's cut mark
    ("ca9FF1B", {"target"}),                    # prefix, any case
    ("856ccf04", {"target"}),                   # inner part, digits and letters
    ("0417aa2", {"target", "twin"}),            # suffix (the twin ends alike)
    ("zzzz999", set()),                         # neither: nothing, not fragments
    ("91856", {"decoy"}),                       # digits: numbers (and SIDs) holding them
    ("+55 (11) 98765-4321", {"phone"}),         # a number as people write it
    ("11 98765-4321", {"phone"}),               # … without its country code
    ("7654321", {"phone", "tail"}),             # the last digits both numbers share
    ("87654", {"phone"}),                       # part of a number
    ("", {"target", "decoy", "id_only", "phone", "tail", "twin"}),  # no needle, no filter
])
def test_one_rule_on_every_face(client, alice, api_client_for, env_a, calls, needle, found):
    want = {calls[k].external_id for k in found}
    assert explorer(client, alice, needle) == want
    assert compatible(api_client_for, alice, env_a, needle) == want
    assert in_range(env_a, needle) == want


@pytest.mark.parametrize("needle", ["+1444", "CA", "7654321", "CA9ff1b856ccf", "zzzz999"])
def test_matches_listed_by_id_or_applied_as_they_are_find_the_same_calls(
        client, alice, env_a, calls, monkeypatch, needle):
    """Up to PROBE matches are read first and listed by id; a needle matching more is
    applied as it is (and one too short for an index always is): the same calls either way."""
    by_id = in_range(env_a, needle), explorer(client, alice, needle)
    monkeypatch.setattr(call_search, "PROBE", 0)
    assert (in_range(env_a, needle), explorer(client, alice, needle)) == by_id


def test_the_call_id_by_part_in_the_explorer_exactly_in_the_compatible_api(
        client, alice, api_client_for, env_a, calls):
    """Talkover documents `search` as phone numbers or call SID: the compatible listing
    finds a call by its whole id only; the explorer (which shows SID-less calls by a cut
    id) by any part."""
    for needle in ("orig-55abc", "20260303-99", ORIGINS_ID):
        assert explorer(client, alice, needle) == {ORIGINS_ID}
        assert in_range(env_a, needle) == {ORIGINS_ID}
    assert compatible(api_client_for, alice, env_a, ORIGINS_ID) == {ORIGINS_ID}
    assert compatible(api_client_for, alice, env_a, "orig-55abc") == set()


def test_too_long_a_needle_is_a_400_and_a_422(client, alice, api_client_for, env_a, calls):
    client.force_login(alice)
    assert client.get("/o/org-a/calls/", {"search": "x" * 101}).status_code == 400
    answer = api_client_for(alice).get(f"/api/v1/environments/{env_a.pk}/calls",
                                       {"search": "x" * 101})
    assert answer.status_code == 422


@pytest.mark.parametrize("needle, found", [("CA9ff1b856ccf", 1), ("7654321", 2),
                                           ("56ccf0417aa2", 2), ("zzzz999", 0)])
def test_a_searched_page_counts_its_calls_from_the_probe(client, alice, env_a, calls,
                                                         needle, found):
    """The explorer's "N calls" of a probed search is the number of ids the probe read: no
    COUNT query of its own (compiled and planned over every month of the period), and the
    figure is the listed calls'."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/o/org-a/calls/", {"search": needle, "date_from": DAY,
                                                  "date_to": DAY})
    assert response.status_code == 200
    assert f'data-calls="{found}"' in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"]
              and "sync_call" in q["sql"]]
    assert counts == []


def test_a_search_narrowed_after_the_probe_is_counted_again(env_a, calls):
    """`probed` holds only for the queryset the probe returned: a condition added
    since (another filter) makes it unknown, never a wrong figure."""
    from sync.models import Call

    probed = call_search.search_calls(Call.objects.filter(environment=env_a), "7654321")
    assert len(call_search.probed(probed.order_by("-started_at").defer("raw")).ids) == 2
    assert call_search.probed(probed.filter(sid="CAphone")) is None
    assert call_search.probed(Call.objects.all()) is None


def probe_scans(client, user, needle: str) -> list[str]:
    """The index conditions of the explorer's id probe for `needle` on the search index,
    planned as the request plans it (`call_search.PROBE_PLANS_OFF`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sync.partitions import ddl

    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:  # the month of the bulk calls
        client.get("/o/org-a/calls/", {"search": needle, "date_from": DAY - timedelta(days=30),
                                       "date_to": DAY + timedelta(days=9)})
    probe, = [q["sql"] for q in queries.captured_queries
              if q["sql"].endswith(f" LIMIT {call_search.PROBE + 1}")]
    leaves = set(ddl.leaf_indexes("call_env_search_gin"))
    with connection.cursor() as cursor:
        for name in call_search.PROBE_PLANS_OFF:
            cursor.execute(f"SET LOCAL {name} = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + probe)
        plan = cursor.fetchone()[0][0]["Plan"]
    nodes, conditions = [plan], []
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node.get("Index Name") in leaves:
            conditions.append(node["Index Cond"])
    return conditions


def test_a_cut_sid_is_narrowed_by_its_trigrams_alone_a_number_with_its_environment(
        client, alice, env_a, calls):
    """A cut SID's core (its last 8 characters, letters and digits mixed) narrows a month to
    its few rows whoever's: the search index reads its trigrams only, not the environment's
    postings (every call of the tenant's month), and the environment is checked on those
    rows (another tenant's copy of the target is not found). A number's core (7 digits) is
    common, and so may be a word or a run of digits as long as a SID's core ("anonymous",
    a shared prefix): read with the environment."""
    insert_bulk_calls(env_a, "", datetime(2026, 3, 13, tzinfo=UTC), 30_000)
    assert explorer(client, alice, "CA9ff1b856ccf") == {calls["target"].external_id}
    scans = probe_scans(client, alice, "CA9ff1b856ccf")
    assert scans and not any("environment_id" in cond for cond in scans), scans
    for common in ("7654321", "anonymous", "551198765432", "restrictedcaller"):
        scans = probe_scans(client, alice, common)
        assert scans and all("environment_id" in cond for cond in scans), (common, scans)


def test_a_cut_sid_page_reads_the_environments_once_and_joins_the_agents(
        client, alice, env_a, calls, assert_max_queries):
    """Around the search: the organisation's environments are read once (the filter's rows
    are the frame's chips', `sync.health.org_environments`), and the few calls a probed search
    lists join their agent rather than prefetch it in a query of its own."""
    from sync.models import Call

    agent = make_agents(env_a, 1)[0]
    Call.objects.filter(external_id=TARGET_ID, environment=env_a).update(
        agent=agent, agent_external_id=agent.external_id)
    assert explorer(client, alice, "CA9ff1b856ccf") == {calls["target"].external_id}
    # Not counted: the development cache's table (without Redis the cache is the database).
    with assert_max_queries(QUERIES) as queries:
        page = client.get("/o/org-a/calls/", {"search": "CA9ff1b856ccf", "date_from": DAY,
                                              "date_to": DAY})
    assert [(c.external_id, c.agent.name) for c in page.context["page"].object_list] == [
        (TARGET_ID, agent.name)]
    sqls = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sqls if s.startswith('SELECT "portal_environment"."id"')]) == 1
    assert not [s for s in sqls if 'FROM "sync_agent" WHERE' in s]


def test_a_search_pages_calls_are_scoped_by_the_environments_it_read(
        client, alice, env_a, calls, assert_max_queries):
    """The frame's environment rows tell the tenant context their ids
    (`Tenant.know_environments`): the probe and the page's calls are scoped by those literal
    ids, not by a subquery of the organisation's environments (compiled and planned in every
    statement); the frame's rows are one statement, no join on the organisation."""
    explorer(client, alice, "CA9ff1b856ccf")
    with assert_max_queries(QUERIES) as queries:
        client.get("/o/org-a/calls/", {"search": "CA9ff1b856ccf", "date_from": DAY,
                                       "date_to": DAY})
    sqls = [q["sql"] for q in queries.captured_queries]
    call_statements = [s for s in sqls if 'FROM "sync_call"' in s]
    assert len(call_statements) == 2, sqls  # the probe and the page
    assert not [s for s in call_statements if '"portal_environment"' in s], call_statements
    environments = [s for s in sqls if s.startswith('SELECT "portal_environment"."id"')]
    assert len(environments) == 1 and '"portal_organization"' not in environments[0]


@pytest.mark.django_db(transaction=True)
def test_a_requests_probe_is_one_round_trip(client, alice, env_a, calls):
    """Outside a transaction (a request in production) the probe's plans are switched off in
    its own query string: one round trip, not BEGIN, SET LOCAL, the probe and ROLLBACK, and
    the plans are on again for the next statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert explorer(client, alice, "CA9ff1b856ccf") == {calls["target"].external_id}
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/o/org-a/calls/", {"search": "CA9ff1b856ccf", "date_from": DAY,
                                              "date_to": DAY})
    assert [c.external_id for c in page.context["page"].object_list] == [TARGET_ID]
    sqls = [q["sql"] for q in queries.captured_queries]
    probes = [s for s in sqls if "SET LOCAL" in s]
    assert len(probes) == 1 and 'FROM "sync_call"' in probes[0], sqls
    assert not [s for s in sqls if s in ("BEGIN", "ROLLBACK")], sqls
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        assert cursor.fetchone() == ("on",)


@pytest.mark.django_db(transaction=True)
def test_a_search_keeps_the_connections_prepared_statements(client, alice, env_a, calls):
    """With server-side binding (`DB_PREPARED_STATEMENTS`) a statement a connection runs
    often is prepared there; psycopg forgets them all on a ROLLBACK, which the probe's
    rolled-back block sent on every search. The probe's one query string keeps them."""
    from django.db import connection

    client.force_login(alice)
    with connection.cursor() as cursor:
        for _ in range(6):  # prepared from the 5th run on (psycopg's prepare_threshold)
            cursor.execute("SELECT %s::integer", [1])
    page = client.get("/o/org-a/calls/", {"search": "CA9ff1b856ccf", "date_from": DAY,
                                          "date_to": DAY})
    assert [c.external_id for c in page.context["page"].object_list] == [TARGET_ID]
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert "SELECT $1::integer" in [s for (s,) in cursor.fetchall()]
