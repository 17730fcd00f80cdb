"""Every declared metric (`reports.registry`) has one value on every face.

One organisation with an environment of each vendor (Talkover with callback statistics and
agent prices read after the period began, Origins AI with voice quality, Vapi with its own
per-call cost and web calls), two periods (a settled month, and a week whose last days are
still pending), each environment alone and all together, read as the owner, as the owner
with `?team=`, and as a member restricted to that team. For each metric the reference is the
declaration's own value; the faces read it back as their reader would:

- the reports API's JSON totals, and its CSV (one period of one row, or the days summed);
- the dashboard's, the Outcomes page's and the KPIs page's cards (the card's text in the page);
- the emailed summary's figures (as the recipient's team reads them);
- an alert rule's value over the same local days (shares in percent);
- the wallboard's calls and answer rate of today.

The clock is frozen (the settled part of a period moves with it).
"""
from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import time_machine
from django.test import Client

from portal.formatting import format_int, format_percent
from portal.models import Membership, Team, TeamAgent
from portal.tenancy import context as tenant_context
from portal.tenancy.context import TenantContext
from reports import registry
from reports.alerts import metrics as alert_metrics
from reports.alerts.models import Metric as AlertMetric
from reports.alerts.windows import Span
from reports.api.reports import field_names, query_serializer
from reports.pages.dashboard import ACHIEVED
from reports.registry import Unit
from reports.scope import build_scope
from reports.summaries.figures import build_summary
from reports.summaries.recipients import summary_as, team_restriction
from reports.summaries.schedule import Period
from reports.templatetags.kpi_tags import _value as card_text
from reports.wallboard.board import board
from sync.models import AgentPrice
from sync.outcomes import settle_organisation
from tests.support.cast import make_env
from tests.support.factories import (
    build_call,
    make_agents,
    make_callback_days,
    mark_read,
    save_calls,
)

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
FIRST, LAST = date(2026, 10, 1), date(2026, 11, 25)  # the last day is today, open
PERIODS = {"october": (date(2026, 10, 1), date(2026, 10, 31), "month"),
           "pending_week": (date(2026, 11, 16), date(2026, 11, 22), "week")}
# The reports a face reads back whole (totals): API JSON for all; CSV where one table holds
# the period's totals as one row (or days that add up).
REPORT_OF = {name: declared.kind for name, (declared, _m) in registry.metrics().items()}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def vendors(frozen, org_a, bob):
    """An environment of each vendor, with calls over FIRST..LAST, and team Red (each
    environment's first agent) that bob is restricted to."""
    org = org_a
    envs = {"talkover": make_env(org, "Talk desk", "talq_aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111"),
            "origins": make_env(org, "Origins desk", "orig_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222",
                                provider="origins", price_per_minute=Decimal("0.0450")),
            "vapi": make_env(org, "Vapi desk", "vapi_cccccccccccccccccccccccccccc3333",
                             provider="vapi")}
    rng = random.Random(80)
    numbers = [f"+55 11 9{n:04d}-0000" for n in range(40)]
    red = Team.objects.create(organization=org, name="Red")
    for kind, env in envs.items():
        agents = make_agents(env, 2, prefix=kind)
        TeamAgent.objects.create(team=red, environment=env,
                                 agent_external_id=agents[0].external_id)
        if kind == "talkover":  # prices read from 15 October on: earlier days take the first
            for agent, price in zip(agents, ("0.0875", "0.1200"), strict=True):
                AgentPrice.objects.create(environment=env, agent_external_id=agent.external_id,
                                          valid_from=date(2026, 10, 15), checked_on=LAST,
                                          currency="USD", per_minute=Decimal(price))
        calls = []
        for _ in range(700):
            day = FIRST + timedelta(days=rng.randrange((LAST - FIRST).days + 1))
            at = datetime.combine(day, time(rng.randrange(24), rng.randrange(60)),
                                  tzinfo=org.tzinfo)
            if at >= NOW:
                continue
            direction = rng.choice(["inbound", "outbound", "outbound"]
                                   + (["web"] if kind == "vapi" else []))
            number = rng.choice(numbers)
            fields = ({"to_number": number} if direction == "outbound" else
                      {"from_number": number} if direction == "inbound" else
                      {"from_number": "", "to_number": ""})
            if kind == "vapi":
                fields.update(vendor_cost=Decimal(rng.randrange(1, 900)) / 1000,
                              vendor_cost_currency="USD")
            calls.append(build_call(
                env, at, agent=rng.choice(agents), direction=direction, rng=rng,
                status=rng.choice(["completed", "completed", "answered", "no-answer", "busy",
                                   "failed"]),
                is_testing=rng.random() < 0.03, **fields))
        save_calls(env, calls)
        mark_read(env, FIRST - timedelta(days=40), LAST)
    make_callback_days(envs["talkover"], [FIRST + timedelta(days=i)
                                          for i in range((LAST - FIRST).days + 1)], seed=8)
    settle_organisation(org.pk)
    Membership.objects.get(user=bob, organization=org).teams.set([red])
    return org, envs, red


# --- reading a face's figures back ------------------------------------------------------------

def _number(text: str, unit: Unit) -> object:
    """A cell as the figure it writes (a day or a word stays text)."""
    if text in ("", None):
        return None
    if unit == Unit.MONEY:
        return Decimal(text)
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _namespace(values: dict, name: str) -> SimpleNamespace:
    """A JSON or CSV row of totals as the metric reads totals (money exact)."""
    unit = registry.metric(name).unit
    converted = {}
    for key, value in values.items():
        if isinstance(value, str):
            money = key in ("cost", "settled_cost") or key.startswith("cost_per_")
            value = _number(value, unit if money else Unit.COUNT)
        converted[key] = value
    return SimpleNamespace(**converted)


def _csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


class Reader:
    """Who reads: a client signed in as `user`, with `?team=` (or none), and the tenant
    context the same reader's email and alert are computed in."""

    def __init__(self, user, org, team: Team | None, restricted: bool) -> None:
        self.client = Client()
        self.client.force_login(user)
        self.org = org
        self.team = team if not restricted else None
        self.restriction = team_restriction(team) if team is not None else None

    def params(self, **more) -> dict:
        return {**more, **({"team": self.team.pk} if self.team is not None else {})}

    def context(self, envs):
        if self.restriction is None:
            return tenant_context.using(None)
        return tenant_context.using(TenantContext(
            organizations=frozenset((self.org.pk,)), teams=self.restriction,
            known_environment_ids=lambda: [e.pk for e in envs], door="summary"))


def _api(reader: Reader, declared, envs, start, end, interval, **more):
    if "interval" in field_names(query_serializer(declared)):
        more["interval"] = interval
    return reader.client.get(f"/api/v1/reports/{declared.path}/", reader.params(
        environment=[e.pk for e in envs], start_date=start.isoformat(),
        end_date=end.isoformat(), **more))


def _faces(reader: Reader, envs, start, end, interval) -> dict[str, dict[str, object]]:
    """Each face's value of each metric it shows: {face: {metric: value}}."""
    faces: dict[str, dict[str, object]] = {"api": {}, "csv": {}, "page": {}, "dashboard": {},
                                           "email": {}, "alert": {}}
    params = {"env": [e.pk for e in envs], "start": start.isoformat(),
              "end": end.isoformat(), "interval": interval}
    for kind, declared in registry.reports().items():
        answer = _api(reader, declared, envs, start, end, interval)
        if answer.status_code == 400:  # a report these environments cannot answer
            assert kind == "quality", answer.content
            continue
        assert answer.status_code == 200, (kind, answer.content)
        totals = answer.json()["summary"]["totals"]
        for m in declared.metrics:
            faces["api"][m.name] = m.value(_namespace(totals, m.name))
        if kind == "quality":
            continue  # its tables are per day and agent: no totals row
        table = "days" if kind == "callbacks" else "series"
        rows = _csv_rows(_api(reader, declared, envs, start, end, interval, format="csv",
                              table=table))
        if kind == "callbacks":
            summed = {k: sum(int(r[k]) for r in rows if r[k]) for k in
                      ("received", "answered", "unmatched")}
            row = summed
        else:
            assert len(rows) == 1, (kind, rows)  # one period: the totals
            row = rows[0]
        for m in declared.metrics:
            faces["csv"][m.name] = m.value(_namespace(row, m.name))
    # The dashboard's cards: the calls', callbacks' and outcomes' (`kpis`), and what the
    # calls achieved (`achieved`: the KPI report's).
    for path, keys in ((f"/o/{reader.org.slug}/", ("kpis", "achieved")),
                       (f"/o/{reader.org.slug}/outcomes/", ("cards",))):
        page = reader.client.get(path, reader.params(**params))
        assert page.status_code == 200
        html = page.content.decode()
        labels = {str(registry.metric(n).label): n for n in REPORT_OF}
        for card in (card for key in keys for card in page.context[key]):
            name = labels[str(card.label)]
            faces["page"].setdefault(name, card.value)
            assert faces["page"][name] == card.value, (path, name)
            assert card_text(card) in html, (path, name, card_text(card))
            if "cards" not in keys:
                faces["dashboard"][name] = card.value
    kpis = reader.client.get(f"/o/{reader.org.slug}/kpis/", reader.params(**params))
    assert kpis.status_code == 200
    for metric, value, _door, _reason in kpis.context["cards"]:
        if metric.key in REPORT_OF:
            faces["page"].setdefault(metric.key, value)
            assert faces["page"][metric.key] == value, ("kpis", metric.key)
    with reader.context(envs):
        summary = (summary_as(reader.restriction, reader.org, envs, Period(start, end))
                   if reader.restriction is not None
                   else build_summary(reader.org, envs, Period(start, end)))
        read = {"calls": summary.calls.totals, "callbacks": summary.callbacks.totals,
                "callback_funnel": summary.funnel.totals, "outcomes": summary.outcomes.totals,
                "kpis": summary.kpis.totals}
        for name, kind in REPORT_OF.items():
            if kind in read:
                faces["email"][name] = registry.metric(name).value(read[kind])
        span = Span(datetime.combine(start, time.min, tzinfo=reader.org.tzinfo),
                    datetime.combine(end + timedelta(days=1), time.min,
                                     tzinfo=reader.org.tzinfo), start, end)
        as_of = registry.report("outcomes").as_of()
        for name in AlertMetric.values:
            if name in REPORT_OF:
                figures = alert_metrics.figures(name, [e.pk for e in envs], span, now=as_of)
                value = figures.value(name)
                percent = registry.metric(name).unit == Unit.RATE
                faces["alert"][name] = (None if value is None
                                        else value / 100 if percent else value)
    return faces


def _reference(reader: Reader, envs, start, end, interval) -> dict[str, object]:
    scope = build_scope(reader.org, envs, start, end, interval=interval)
    found = {}
    with reader.context(envs):
        for name, kind in REPORT_OF.items():
            if kind == "quality" and not any(e.spec.quality for e in envs):
                continue
            found[name] = registry.metric_value(name, scope)
    return found


def _same(face: str, name: str, value: object, expected: object) -> None:
    if face == "alert" and isinstance(expected, Decimal | float) and value is not None:
        # An alert judges a float: the same figure, to the float's precision.
        assert value == pytest.approx(float(expected), rel=1e-12), (face, name)
    elif face == "email" and name in ("cost", "cost_per_resolved") and expected is not None:
        assert Decimal(value) == expected, (face, name)
    else:
        assert value == expected, (face, name, value, expected)


@pytest.mark.parametrize("period", list(PERIODS))
def test_every_metric_has_one_value_on_every_face(vendors, alice, bob, period):
    org, envs, red = vendors
    start, end, interval = PERIODS[period]
    readers = {"owner": Reader(alice, org, None, False),
               "owner_team": Reader(alice, org, red, False),
               "restricted": Reader(bob, org, red, True)}
    env_sets = [[env] for env in envs.values()] + [list(envs.values())]
    checked = set()
    for who, reader in readers.items():
        for chosen in env_sets if who == "owner" else env_sets[-1:]:
            expected = _reference(reader, chosen, start, end, interval)
            for face, values in _faces(reader, chosen, start, end, interval).items():
                for name, value in values.items():
                    _same(face, name, value, expected[name])
                    checked.add((face, name))
    every = set(REPORT_OF)
    assert {n for f, n in checked if f == "api"} == every
    assert {n for f, n in checked if f == "email"} == every - {
        n for n, k in REPORT_OF.items() if k == "quality"}
    assert {n for f, n in checked if f == "alert"} == set(AlertMetric.values) & every
    assert set(ACHIEVED) <= {n for f, n in checked if f == "dashboard"}


def test_a_restricted_reader_sees_the_teams_figures_not_the_organisations(vendors, alice,
                                                                          bob):
    """The team's figures are its own: fewer calls than the organisation's, the same on the
    owner's `?team=` and on the restricted member's pages (the walk above compares faces)."""
    org, envs, red = vendors
    start, end, interval = PERIODS["october"]
    everyone = _reference(Reader(alice, org, None, False), list(envs.values()), start, end,
                          interval)
    team = _reference(Reader(bob, org, red, True), list(envs.values()), start, end, interval)
    assert 0 < team["calls"] < everyone["calls"]


def test_the_wallboard_reads_todays_calls_report(vendors):
    org, envs, _red = vendors
    chosen = list(envs.values())
    today = NOW.astimezone(org.tzinfo).date()
    scope = build_scope(org, chosen, today, today)
    shown = board(org, chosen, NOW)
    assert registry.metric_value("calls", scope) > 0
    assert shown.calls_today == format_int(registry.metric_value("calls", scope))
    assert shown.answer_rate == format_percent(registry.metric_value("answer_rate", scope))
