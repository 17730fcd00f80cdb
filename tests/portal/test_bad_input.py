"""Nothing a user types gives a 500.

Every URL pattern from the resolver is driven with a fixed list of hostile values: in each
path parameter (besides org A's real ids), and in each query parameter a view reads (absurd
and impossible dates, a 21-digit integer, a NUL byte, wrong types, repeated parameters), as
org A's owner (staff), as the superuser (admin changelists and their filters) and anonymously.
Nothing may answer 5xx. Stored calls with timestamps at the edges of what PostgreSQL and
Python hold (year 1, year 9999 in any offset) must not break the pages that render them.

Hostile values are sampled, not crossed: each query parameter gets each value once in a
request that sets every parameter to the same hostile value, and once alone. Requests that
would reach no view are sent once per face (page, API, admin), not once per URL: a hostile
path value the URL's converter refuses (the resolver's 404), and a NUL anywhere (refused by
portal/input_guard.py before any view). Django's own changelist parameters (page, popup,
"show all", …) are walked on one changelist: every changelist reads them through the same
`ChangeList`; each model's own (search, ordering, filters, date drill-down) on its own. A
model's admin object views (change, history, delete, its old URL) share its `get_object`: each
gets one hostile id, the values in turn, so the model meets every one of them. The
reports API's parameters are checked by one serializer family, every field's error at once:
each alone on its first report, all of them at once on every report. A form
walk posts hostile values in the fields a view reads from the body, not in the query
parameters a page reads (the layout's carried filters: read from the query string, never from
a body).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.contrib import admin
from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, models, transaction
from django.http import QueryDict
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils.functional import cached_property

from sync.models import Agent, Call
from tests.support.factories import make_call
from tests.support.routes import Route, all_routes, fill, sample_values

HOSTILE = ("0001-01-01", "9999-12-31", "2026-02-30", "100000000000000000000", "-1", "\x00",
           "abc", "1.5", "[]", "ü" * 300, "2026-01-01T00:00:00", "")

# Query parameters tried besides those a view is seen to read (`reads_recorded`): the
# reports API reads its serializer's fields by name; the admin changelist's own.
QUERY_PARAMS = (
    "range", "start", "end", "env", "agent", "status", "direction", "agent_id", "date_from",
    "date_to", "search", "page", "per_page", "sort", "format", "export", "interval", "table",
    "environment", "start_date", "end_date", "include_testing", "transcript",
)
ADMIN_PARAMS = ("q", "o", "p", "e", "all", "_to_field", "_popup", "_changelist_filters")
# Read by Django's one ChangeList the same way on every changelist: walked on one.
CHANGELIST_OWN = {"p", "e", "all", "_to_field", "_popup", "_changelist_filters", "_facets"}

# Admin changelist lookups built from each model admin's list_filter (and date_hierarchy).
ADMIN_LOOKUPS = ("__exact", "__id__exact", "__gte", "__isnull")
# The values every parameter a view reads gets alone (the ones that overflowed dates and
# integers), plus one more rotating through the rest; every value is also sent once in all
# parameters together.
HUGE = "100000000000000000000"
SHARP = ("9999-12-31", "0001-01-01", HUGE)
VALUES_PER_PARAM = len(SHARP)


@contextmanager
def reads_recorded(body_only: bool = False) -> Iterator[set[str]]:
    """The query and form parameter names read (get, getlist, [], in) while inside: the
    parameters a view actually reads, found by asking it, not by a list kept by hand
    (`body_only`: not those read from the query string)."""
    seen: set[str] = set()
    originals = {name: getattr(QueryDict, name)
                 for name in ("get", "getlist", "__getitem__", "__contains__")}
    query_string = WSGIRequest.__dict__["GET"]

    def recording(original):
        def method(self, key, *args, **kwargs):
            if isinstance(key, str) and not (body_only and getattr(self, "of_query", False)):
                seen.add(key)
            return original(self, key, *args, **kwargs)
        return method

    def marked_query(request):
        query = query_string.func(request)
        query.of_query = True
        return query

    marked = cached_property(marked_query)
    marked.__set_name__(WSGIRequest, "GET")
    for name, original in originals.items():
        setattr(QueryDict, name, recording(original))
    WSGIRequest.GET = marked
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(QueryDict, name, original)
        WSGIRequest.GET = query_string


def _path_values(route: Route) -> list[str]:
    return [p[0] or p[1] for p in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route.path)]


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _face(url: str) -> str:
    return next((face for face in ("api", "admin") if url.startswith(f"/{face}/")), "page")


def _reaches_a_view(url: str) -> bool:
    """Whether `url` gets past the NUL guard and the resolver to some view."""
    from urllib.parse import unquote

    path = unquote(url)
    if "\x00" in path:
        return False
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def urls_for(world, route: Route, sampled: set[str] | None = None) -> list[str]:
    """The route with org A's real ids, then with each path parameter hostile in turn. With
    `sampled` (what was sent once already), a hostile URL that reaches no view is kept only
    as its face's first."""
    real = sample_values(world, route)
    urls = [fill(route, real)]
    for name in _path_values(route):
        for value in ("0", HUGE, "\x00", "abc", "%"):
            url = fill(route, {**real, name: _quote(value)})
            if sampled is not None and not _reaches_a_view(url):
                if _face(url) in sampled:
                    continue
                sampled.add(_face(url))
            urls.append(url)
    return list(dict.fromkeys(urls))


def query_variants(params: Iterable[str], offset: int = 0, alone: Iterable[str] | None = None,
                   per_param: int = VALUES_PER_PARAM) -> list[dict[str, list[str]]]:
    """Every parameter set to one hostile value (once per value); each parameter of `alone`
    (default all) alone with the first `per_param` SHARP values and one more hostile value
    (rotating, so parameters get different ones); every parameter repeated with two values;
    a custom range at the edges the scope accepts."""
    params = sorted(set(params))
    if not params:
        return []
    variants: list[dict[str, list[str]]] = [{p: [v] for p in params} for v in HOSTILE]
    others = [v for v in HOSTILE if v not in SHARP]
    for i, p in enumerate(sorted(set(params if alone is None else alone))):
        variants.extend({p: [value]} for value in SHARP[:per_param])
        variants.append({p: [others[(offset + i) % len(others)]]})
    variants.append({p: ["2026-01-01", "2026-01-02"] for p in params})
    variants.append({"range": ["custom"], "start": ["2000-01-01"], "end": ["2100-12-31"],
                     "start_date": ["2000-01-01"], "end_date": ["2100-12-31"],
                     "date_from": ["2000-01-01"], "date_to": ["2100-12-31"]})
    return variants


def _without_nul(variants: list[dict[str, list[str]]], url: str, sampled: set[str]
                 ) -> list[dict[str, list[str]]]:
    """`variants` less those holding a NUL (a 400 before any view) once `url`'s face had
    one (`sampled`: what was sent once already)."""
    kept = []
    for params in variants:
        if any("\x00" in value for values in params.values() for value in values):
            if f"nul {_face(url)}" in sampled:
                continue
            sampled.add(f"nul {_face(url)}")
        kept.append(params)
    return kept


def _one_hostile_id(urls: list[str], n: int) -> list[str]:
    """The real URL and one of its hostile ids that reach the view, the `n`-th in turn (a
    model's object views, consecutive routes, share its `get_object`: between them they get
    every value), with any kept as its face's one refused request."""
    reaching = [url for url in urls[1:] if _reaches_a_view(url)]
    refused = [url for url in urls[1:] if not _reaches_a_view(url)]
    return urls[:1] + reaching[n % len(reaching):][:1] + refused if reaching else urls


def _reads(client: Client, url: str, failures: list) -> set[str]:
    """The parameters the view at `url` reads on a plain GET (checked for 5xx too)."""
    with reads_recorded() as seen:
        response = _get(client, url, {})
    if response.status_code >= 500:
        failures.append((url, {}, response.status_code))
    return seen


def _get(client: Client, url: str, params: dict[str, list[str]]):
    """GET inside a savepoint: a database error behind one 500 is reported, and does not
    abort the test's transaction for the requests after it."""
    savepoint = transaction.savepoint()
    try:
        response = client.get(url, params)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
    finally:
        try:
            transaction.savepoint_commit(savepoint)
        except DatabaseError:
            transaction.savepoint_rollback(savepoint)
    return response


def _is_admin(route: Route) -> bool:
    return route.path.startswith("admin/")


def _is_changelist(route: Route) -> bool:
    return bool(route.name and route.name.endswith("_changelist"))


def _admin_lookups(route: Route) -> list[str]:
    match = re.match(r"admin/(\w+)/(\w+)/$", route.path)
    if not match:
        return []
    for model, model_admin in admin.site._registry.items():
        if (model._meta.app_label, model._meta.model_name) == match.groups():
            names = [f if isinstance(f, str) else f[0] for f in model_admin.list_filter
                     if isinstance(f, str | tuple)]
            lookups = [name + lookup for name in names for lookup in ADMIN_LOOKUPS]
            if model_admin.date_hierarchy:
                lookups += [f"{model_admin.date_hierarchy}__{part}"
                            for part in ("year", "month", "day")]
            return lookups
    return []


# A date drill-down typed into the URL works on every changelist, for any date field, with or
# without a date hierarchy (`?<field>__year=0|-1|10000|<21 digits>` was a 500 on 10
# changelists).
IMPOSSIBLE_PARTS = ("0", "-1", "10000", HUGE)


def _date_part_variants(route: Route, offset: int) -> list[dict[str, list[str]]]:
    """Every date field's `__year` (and `__month`, `__day`) set at once to each impossible
    value, and each field's `__year` alone with one of them (rotating)."""
    match = re.match(r"admin/(\w+)/(\w+)/$", route.path)
    model = next((m for m in admin.site._registry
                  if match and (m._meta.app_label, m._meta.model_name) == match.groups()), None)
    if model is None:
        return []
    names = [f.name for f in model._meta.get_fields() if isinstance(f, models.DateField)]
    variants = [{f"{name}__{part}": [value] for name in names
                 for part in ("year", "month", "day")} for value in IMPOSSIBLE_PARTS]
    variants += [{f"{name}__year": [IMPOSSIBLE_PARTS[(offset + i) % len(IMPOSSIBLE_PARTS)]]}
                 for i, name in enumerate(names)]
    return variants if names else []


@pytest.fixture
def hostile_world(rich_world):
    """The admin world, alice is staff (owner of A) and A holds calls stamped at the limits
    of what can be stored: year 1 and year 9999 in the most distant offsets."""
    env = rich_world.env_a
    agent = Agent.objects.get(environment=env, external_id=rich_world.sample["agent_ext"])
    edges = [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12))),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    ]
    calls = [make_call(env, agent, 900 + i, started_at=moment, ended_at=moment,
                                   answered_at=moment, upstream_updated_at=moment)
             for i, moment in enumerate(edges)]
    rich_world.edge_calls = calls
    year_one = next(moment for moment in edges if moment.year == 1)
    Agent.objects.filter(pk=agent.pk).update(upstream_created_at=edges[0],
                                             upstream_updated_at=year_one)
    rich_world.edge_agent = agent
    return rich_world


def _check(client: Client, urls: list[str], variants, failures: list) -> None:
    for url in urls:
        for params in variants:
            response = _get(client, url, params)
            if response.status_code >= 500:
                failures.append((url, params, response.status_code))


@pytest.mark.parametrize("who", ["alice", "anonymous"])
def test_no_page_or_api_answers_5xx(rich_world, who):
    client = Client(raise_request_exception=False)
    if who == "alice":
        client.force_login(rich_world.users["alice"])
    failures: list = []
    layout_reads: set[str] = set()
    sampled: set[str] = set()
    routes = sorted(all_routes(), key=lambda r: r.name != "dashboard")  # it finds layout_reads
    for n, route in enumerate(routes):
        if _is_admin(route) or route.name in {"logout", "set_language"}:
            continue
        urls = urls_for(rich_world, route, sampled)
        # The real URL gets every variant over the parameters its view reads; the hostile
        # path values get the plain request.
        params = _reads(client, urls[0], failures)
        report_api = route.path.startswith("api/v1/") and "reports" in route.path
        if report_api:
            params |= set(QUERY_PARAMS)  # read by name from the serializer's fields
        # Parameters every organisation page reads (the layout's carried filters) are tried
        # one by one on the report pages; elsewhere all at once (sampling: runtime). The
        # reports API checks its parameters with one serializer family, every error at once:
        # one by one on its first report, all at once on each.
        alone = params if params - layout_reads - {"urlencode"} else set()
        if report_api:
            alone = set() if "report api" in sampled else params
            sampled.add("report api")
        if route.name == "dashboard":
            layout_reads = params - {"export", "urlencode"}
        variants = query_variants(params, offset=n, alone=alone)
        _check(client, urls[:1], _without_nul(variants, urls[0], sampled), failures)
        _check(client, urls[1:], [{}], failures)
    assert not failures, failures[:20]


def _post_reads(client: Client, url: str, failures: list) -> set[str]:
    with reads_recorded(body_only=True) as seen:
        response = _post(client, url, {})
    if response.status_code >= 500:
        failures.append(("POST", url, {}, response.status_code))
    return seen


def _form_walk(client: Client, world, routes: list[Route], user: str | None) -> list:
    failures: list = []
    for route in routes:
        if user:
            client.force_login(world.users[user])
        url = urls_for(world, route)[0]
        fields = _post_reads(client, url, failures) - {"csrfmiddlewaretoken"}
        if not fields:
            continue
        for data in [{f: v for f in fields} for v in HOSTILE] + [
                {f: [HUGE, "abc"] for f in fields}]:
            response = _post(client, url, data)
            if response.status_code >= 500:
                failures.append(("POST", url, data, response.status_code))
    return failures


def test_no_form_answers_5xx(rich_world):
    """Every page and API URL posted to by org A's owner, and both login forms anonymously,
    with hostile values in each form field the view reads (found like the query
    parameters). Writes may succeed: the world is rebuilt for each test, and a deleted
    object only makes later URLs 404."""
    routes = all_routes()
    client = Client(raise_request_exception=False)
    failures = _form_walk(client, rich_world, [r for r in routes if r.name == "login"], None)
    failures += _form_walk(client, rich_world, [
        r for r in routes
        if not _is_admin(r) and r.name not in {"logout", "set_language", "login"}], "alice")
    assert not failures, failures[:20]


def test_stored_edge_timestamps_read_back_never_500_a_page(hostile_world):
    """A call or agent stamped year 1 or 9999 (as Python can hold them:
    in UTC) renders on every page that shows it, read back within 2000..2100. (PostgreSQL's
    year 10000 or year 0 in UTC no Python datetime holds: the sync refuses records outside
    2000..2100, and the one-off data migration that took such stored rows out of the
    mirror has run on every deployment the squashed migrations upgrade.)"""
    env = hostile_world.env_a
    edge = [c for c in hostile_world.edge_calls if c.started_at.utcoffset() == timedelta(0)]
    Call.objects.filter(pk__in=[c.pk for c in hostile_world.edge_calls if c not in edge]
                        ).delete()
    agent = hostile_world.edge_agent
    Agent.objects.filter(pk=agent.pk).update(
        upstream_created_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        upstream_updated_at=datetime(1, 1, 1, tzinfo=UTC))
    urls = ["/o/org-a/calls/", "/o/org-a/calls/?format=csv", "/o/org-a/", "/o/org-a/agents/",
            f"/api/v1/environments/{env.pk}/calls", f"/api/v1/environments/{env.pk}/agents/",
            "/admin/sync/call/", "/admin/sync/agent/", f"/admin/sync/agent/{agent.pk}/change/"]
    for call in edge:
        urls += [f"/o/org-a/calls/{call.pk}/", f"/api/v1/calls/{call.pk}",
                 f"/admin/sync/call/{call.pk}/change/"]
    client = Client(raise_request_exception=False)
    client.force_login(hostile_world.users["alice"])
    answers = [(url, _get(client, url, {}).status_code) for url in urls]
    assert [a for a in answers if a[1] != 200] == []
    detail = client.get(f"/o/org-a/calls/{edge[0].pk}/").content.decode()
    assert "2000" in detail or "2100" in detail, "read back within the bounds"


def test_admin_views_answer_no_5xx(rich_world):
    """Every admin URL as the superuser, with hostile object ids; every changelist with
    hostile values in its filters, date drill-down and own parameters. Org A's owner (staff)
    gets every URL plainly (the same views, scoped)."""
    client = Client(raise_request_exception=False)
    failures: list = []
    sampled: set[str] = set()
    own_walked = False
    for user in ("root", "alice"):
        client.force_login(rich_world.users[user])
        for n, route in enumerate(all_routes()):
            if not _is_admin(route) or route.name == "logout":
                continue
            urls = urls_for(rich_world, route, sampled)
            if user == "alice" or not _is_changelist(route):
                _check(client, _one_hostile_id(urls, n) if user == "root" else urls[:1], [{}],
                       failures)
                continue
            _check(client, urls[1:], [{}], failures)
            params = _reads(client, urls[0], failures) | set(ADMIN_PARAMS)
            if own_walked:
                params -= CHANGELIST_OWN
            own_walked = True
            lookups = _admin_lookups(route)
            variants = query_variants(params, offset=n, per_param=1)
            variants += [{name: [value] for name in lookups} for value in HOSTILE]
            variants += [{name: [value]} for i, name in enumerate(lookups)
                         for value in (HUGE, HOSTILE[(n + i) % len(HOSTILE)])]
            variants += _date_part_variants(route, n)
            _check(client, urls[:1], _without_nul(variants, urls[0], sampled), failures)
    assert not failures, failures[:20]


@pytest.mark.parametrize("term", ["\x00", "a\x00b", "100000000000000000000", "ü" * 500])
def test_admin_autocomplete_takes_any_term(rich_world, term):
    hostile_world = rich_world
    client = Client(raise_request_exception=False)
    client.force_login(hostile_world.users["root"])
    failures = []
    for app_label, model_name, field_name in (
            ("portal", "membership", "organization"), ("portal", "membership", "user"),
            ("sync", "call", "agent"), ("sync", "call", "environment")):
        response = _get(client, "/admin/autocomplete/", {
            "term": term, "app_label": app_label, "model_name": model_name,
            "field_name": field_name})
        if response.status_code >= 500:
            failures.append((model_name, field_name, response.status_code))
    assert not failures, failures


@pytest.mark.parametrize("selected", ["abc", "\x00", "100000000000000000000", "-1", "1.5"])
def test_admin_actions_take_any_selection(rich_world, selected):
    hostile_world = rich_world
    """An action posted with selected ids that are not ids is a message, not a 500."""
    client = Client(raise_request_exception=False)
    failures = []
    for user in ("root", "alice"):
        client.force_login(hostile_world.users[user])
        for model, model_admin in admin.site._registry.items():
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            actions = model_admin.get_actions(_request_for(hostile_world.users[user]))
            for action in list(actions)[:3]:
                response = _post(client, url, {"action": action,
                                               "_selected_action": [selected], "index": "0"})
                if response.status_code >= 500:
                    failures.append((user, url, action, response.status_code))
    assert not failures, failures


def _post(client: Client, url: str, data: dict):
    savepoint = transaction.savepoint()
    try:
        return client.post(url, data)
    finally:
        try:
            transaction.savepoint_commit(savepoint)
        except DatabaseError:
            transaction.savepoint_rollback(savepoint)


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_refusals_say_why(rich_world):
    """The 4xx answers found by the walk carry a message, in each face's way."""
    client = Client(raise_request_exception=False)
    client.force_login(rich_world.users["alice"])
    env = rich_world.env_a
    bound = "must be a date between 2000-01-01 and 2100-12-31"
    response = client.get(f"/api/v1/environments/{env.pk}/calls", {"date_to": "9999-12-31"})
    assert response.status_code == 422 and bound in response.content.decode()
    # The explorer words it as the report pages do (one vocabulary and wording).
    response = client.get("/o/org-a/calls/", {"date_from": "9999-12-31"})
    assert response.status_code == 400 and "between 2000-01-01 and 2100-12-31" in (
        response.content.decode())
    for url in ("/o/org-a/calls/?search=%00", f"/api/v1/environments/{env.pk}/agents/%00/calls",
                "/admin/autocomplete/?term=%00&app_label=sync&model_name=call"
                "&field_name=agent"):
        response = client.get(url)
        assert response.status_code == 400 and b"NUL character" in response.content, url
    assert client.get(f"/api/v1/environments/{env.pk}/calls?date_from=%00").json() == {
        "detail": "The request contains a NUL character, which no field accepts."}
    for suffix in ("json", "csv", "api"):
        assert client.get(f"/api/v1/reports/calls.{suffix}").status_code == 404
    client.force_login(rich_world.users["root"])
    response = client.post("/admin/sync/agent/", {"action": "delete_selected",
                                                  "_selected_action": ["abc"], "index": "0"})
    assert response.status_code == 400 and b"not ids of this list" in response.content
    response = client.get("/admin/portal/auditlog/", {"created_at__year": "9999"})
    assert response.status_code == 400 and b"year, month and day" in response.content


def test_a_multipart_body_without_boundary_is_refused_without_a_traceback(rich_world, caplog):
    client = Client(raise_request_exception=False)
    client.force_login(rich_world.users["alice"])
    for path in ("/api/v1/alert-rules/", "/o/org-a/settings/alerts/new/"):
        with caplog.at_level("WARNING"):
            response = client.post(path, b"x=1", content_type="multipart/form-data")
        assert response.status_code == 400 and b"boundary" in response.content, path
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("user", ["root", "alice"])
@pytest.mark.parametrize("lookup", ["environment__id__exact", "environment__exact",
                                    "agent__id__exact", "id__gte", "duration__lt"])
def test_admin_filters_take_huge_integers(rich_world, user, lookup):
    """`?environment__id__exact=100000000000000000000` (past bigint), as the superuser and as
    a staff owner (whose related filters are scoped), on the calls changelist."""
    client = Client(raise_request_exception=False)
    client.force_login(rich_world.users[user])
    response = _get(client, "/admin/sync/call/", {lookup: ["100000000000000000000"]})
    assert response.status_code < 500


# --- JSON bodies: what a form cannot carry -------------------------------------------------
# Numbers beyond any column (`1e400` parses as infinity; NaN and Infinity are no JSON but
# Python reads them), fractions and booleans where ids go, and moments at the ends of what
# Python holds (a snooze until year 1 or 9999 was stored, then broke its pages and admin page).
JSON_NUMBERS = ("1e400", "-1e400", "NaN", "Infinity", "1.5", "true", HUGE, f"-{HUGE}")
JSON_MOMENTS = ('"0001-01-01T00:00:00Z"', '"9999-12-31T23:59:59Z"', '"0001-01-01"',
                '"9999-12-31T23:59:59-12:00"')


def _body_properties(schema: dict, operation: dict) -> dict[str, dict]:
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    return schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get(
        "properties", {}) if ref else {}


def _hostile_json(prop: dict) -> tuple[str, ...]:
    """The raw JSON values tried in a property: numbers in number, integer and array ones
    (bare and in a list), moments in date and date-time ones, one of each elsewhere."""
    kind, fmt = prop.get("type"), prop.get("format", "")
    if kind in ("integer", "number"):
        return JSON_NUMBERS
    if kind == "array":
        return tuple(f"[{v}]" for v in JSON_NUMBERS) + JSON_NUMBERS[:1]
    if fmt in ("date", "date-time"):
        return JSON_MOMENTS
    return ("1e400", JSON_MOMENTS[0])


def _object_path(client: Client, template: str) -> str | None:
    """`template` with `{id}` set to the first object its collection lists (org A's)."""
    if "{" not in template:
        return template
    collection = template.split("{", 1)[0]
    listing = client.get(collection)
    results = listing.json().get("results") if listing.status_code == 200 else None
    if not results or "{id}" not in template or template.count("{") > 1:
        return None
    return template.replace("{id}", str(results[0]["id"]))


def test_no_json_body_answers_5xx(rich_world):
    """Every API operation with a JSON body (from the OpenAPI schema), as org A's owner: each
    property alone with each hostile JSON value of its type, and all properties at once with
    each. Whatever was stored, the pages and admin pages of that resource still render."""
    client = Client(raise_request_exception=False)
    client.force_login(rich_world.users["alice"])
    schema = client.get("/api/schema/?format=json").json()
    failures: list = []
    written: set[str] = set()
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            properties = _body_properties(schema, operation) if isinstance(operation, dict) \
                else {}
            path = _object_path(client, template) if properties else None
            if path is None:
                continue
            bodies = [f'{{"{name}": {value}}}' for name, prop in properties.items()
                      if not prop.get("readOnly") for value in _hostile_json(prop)]
            bodies += ["{" + ", ".join(f'"{name}": {value}' for name in properties) + "}"
                       for value in JSON_NUMBERS + JSON_MOMENTS]
            for body in bodies:
                savepoint = transaction.savepoint()
                response = getattr(client, method)(path, body, content_type="application/json")
                transaction.savepoint_commit(savepoint)
                if response.status_code >= 500:
                    failures.append((method.upper(), path, body, response.status_code))
            written.add(template.split("/")[3].split("-")[0])  # "alert-rules" → "alert"
    assert written, "no API operation takes a JSON body?"
    root = Client(raise_request_exception=False)
    root.force_login(rich_world.users["root"])
    for route in all_routes():
        if not any(stem in route.path for stem in written) or route.name == "logout":
            continue
        url = urls_for(rich_world, route)[0]
        response = _get(root if _is_admin(route) else client, url, {})
        if response.status_code >= 500:
            failures.append(("GET after writes", url, response.status_code))
    assert not failures, failures[:20]
