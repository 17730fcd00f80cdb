"""The KPI report's faces: `GET /api/v1/reports/kpis/` (JSON and `?format=csv`, strict
parameters, another organisation's environment 404) and the KPIs page (cards, chart, tables,
every figure opening exactly its calls), all the figures of `kpis_summary`; a figure Talkover
sends nothing for is null with Talkover's own words, never 0."""
from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from portal.models import Provider
from reports.pages.dashboard import ACHIEVED
from reports.queries.kpis import METRIC_KEYS, METRICS, kpis_summary
from sync.models import Call
from sync.outcomes import settle_organisation
from tests.reports.test_drill_links import _explorer_total, _walk
from tests.support.cast import make_env
from tests.support.factories import build_call, make_agents, make_call, save_calls

pytestmark = pytest.mark.django_db(transaction=True)

# On an hour: the report's "as of" (`sync.outcomes.as_of`, the hour) is now, so the explorer's
# settled calls (measured to the same hour) are the report's.
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
DAYS = 14


@pytest.fixture
def world(org_a, env_a):
    """Talkover calls (env_a) and Vapi-like calls (judged, transferred, voicemail, answered
    after a wait) over DAYS local days before NOW, a few numbers calling again."""
    with time_machine.travel(NOW, tick=False):
        vapi = make_env(org_a, "Vapi desk", "vapi_cccccccccccccccccccccccccccc3333",
                        provider=Provider.VAPI)
        rng = random.Random(83)
        numbers = [f"+5511987654{i:03d}" for i in range(40)]
        first = timezone.localdate(timezone=org_a.tzinfo) - timedelta(days=DAYS - 1)
        for env in (env_a, vapi):
            agents = make_agents(env, 2)
            calls = []
            for _ in range(220):
                at = NOW - timedelta(seconds=rng.randrange(3600, (DAYS - 1) * 86400))
                direction = rng.choice(["inbound", "outbound"])
                status = rng.choice(["completed", "completed", "no-answer", "busy", "failed"])
                answered = status == "completed"
                fields = {"to_number" if direction == "outbound" else "from_number":
                          rng.choice(numbers)}
                if env is vapi:
                    fields.update(
                        answered_at=at + timedelta(seconds=rng.randint(1, 20))
                        if answered else None,
                        transferred=answered and rng.random() < 0.2,
                        voicemail=answered and rng.random() < 0.1,
                        judgement=rng.choice(["succeeded", "succeeded", "failed", ""])
                        if answered else "")
                calls.append(build_call(env, at, agent=rng.choice(agents), status=status,
                                        direction=direction, rng=rng, **fields))
            save_calls(env, calls)
        settle_organisation(org_a.pk)
    return {"envs": [env_a, vapi], "first": first,
            "last": first + timedelta(days=DAYS - 1)}


def _query(world, **extra) -> dict:
    return {"environment": ",".join(str(e.pk) for e in world["envs"]),
            "start_date": world["first"].isoformat(), "end_date": world["last"].isoformat(),
            **extra}


@time_machine.travel(NOW, tick=False)
def test_the_api_answers_the_reports_figures_as_json_and_csv(client, alice, world):
    client.force_login(alice)
    answer = client.get("/api/v1/reports/kpis/", _query(world, interval="week"))
    assert answer.status_code == 200, answer.content
    summary = kpis_summary(world["envs"], world["first"], world["last"], "week", now=NOW)
    body = answer.json()["summary"]
    assert {k: body["totals"][k] for k in METRIC_KEYS} == {
        k: getattr(summary.totals, k) for k in METRIC_KEYS}
    assert len(body["series"]) == len(summary.series) >= 2
    assert body["totals"]["reasons"]["voicemail"] == "not reported by Talkover"
    vendors = {v["vendor"]: v for v in body["vendors"]}
    assert vendors["talkover"]["voicemail_rate"] is None
    assert vendors["talkover"]["transfer_rate"] is None
    assert vendors["talkover"]["avg_time_to_answer_seconds"] is None
    assert vendors["talkover"]["success_rate"] is None
    assert vendors["talkover"]["reasons"]["success_rate"] == "not reported by Talkover"
    assert vendors["talkover"]["calls"] == 220 and vendors["talkover"]["peak_concurrency"] >= 1
    assert vendors["vapi"]["transfer_rate"] > 0 and "transfer_rate" not in vendors["vapi"][
        "reasons"]
    for table in ("series", "agents", "vendors"):
        csv_answer = client.get("/api/v1/reports/kpis/", _query(
            world, interval="week", format="csv", table=table))
        assert csv_answer.status_code == 200
        rows = list(csv.DictReader(io.StringIO(b"".join(csv_answer.streaming_content)
                                               .decode())))
        assert len(rows) == len(body[table])
        for row, want in zip(rows, body[table], strict=True):
            assert row["calls"] == str(want["calls"])
            assert row["transfer_rate"] == ("" if want["transfer_rate"] is None
                                            else str(want["transfer_rate"]))


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("extra", [{"interval": "year"}, {"start_date": "2026-13-01"},
                                   {"start_date": "2026-11-19", "end_date": "2026-11-01"},
                                   {"colour": "blue"}, {"table": "nope", "format": "csv"}])
def test_bad_parameters_are_a_clear_400(client, alice, world, extra):
    client.force_login(alice)
    answer = client.get("/api/v1/reports/kpis/", _query(world, **extra))
    assert answer.status_code == 400, answer.content


@time_machine.travel(NOW, tick=False)
def test_another_organisations_environment_is_404(client, carol, world):
    client.force_login(carol)
    assert client.get("/api/v1/reports/kpis/", _query(world)).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_every_kpi_figure_of_the_page_opens_exactly_its_calls(client, alice, world):
    client.force_login(alice)
    url = f"/o/org-a/kpis/?start={world['first']}&end={world['last']}"
    page = client.get(url)
    html = page.content.decode()
    for text in ("KPIs for AI agents", "Transfer rate", "not reported by Talkover",
                 "Successful, then came back", "chart-kpis"):
        assert text in html
    # Cards, 4 agents, 2 vendors and 14 days, each with up to nine doors.
    assert _walk(client, url) > 150
    chart = page.context["chart"]
    opened = 0
    for key, urls in chart["doors"].items():
        for value, href in zip(chart["rates"][key], urls, strict=True):
            assert (href is None) == (value is None) or value == 0, key
            if href:
                assert _explorer_total(client, href) >= 0
                opened += 1
    assert opened > 20
    csv_answer = client.get(url + "&format=csv&table=agents")
    assert csv_answer.status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_page_reads_in_portuguese(client, alice, world):
    client.force_login(alice)
    html = client.get(f"/o/org-a/kpis/?start={world['first']}&end={world['last']}",
                      headers={"accept-language": "pt-br"}).content.decode()
    assert "Taxa de transferência" in html and "não informado pela Talkover" in html


def test_owners_set_an_agents_success_threshold_and_its_calls_are_judged_again(
        client, alice, bob, carol, org_a, env_a):
    vapi = make_env(org_a, "Vapi desk", "vapi_cccccccccccccccccccccccccccc3333",
                    provider=Provider.VAPI)
    agent = make_agents(vapi, 1)[0]
    calls = [make_call(vapi, agent, n, judgement="failed" if n < 3 else "succeeded",
                       judgement_raw=str(n * 2), judgement_score=n * 20.0) for n in range(1, 5)]
    url = f"/o/{org_a.slug}/kpis/thresholds/"
    client.force_login(alice)
    page = client.get(url)
    assert page.status_code == 200 and agent.name in page.content.decode()
    talkover_agent = make_agents(env_a, 1)[0]  # Talkover judges no call: not offered
    assert [a.pk for a in client.get(url).context["agents"]] == [agent.pk]
    assert client.post(url, {"agent": talkover_agent.pk, "threshold": "50"}).status_code == 400
    assert client.post(url, {"agent": agent.pk, "threshold": "150"}).status_code == 400
    answer = client.post(url, {"agent": agent.pk, "threshold": "40"})
    assert answer.status_code == 302
    judged = {c.pk: c.judgement for c in Call.objects.filter(pk__in=[c.pk for c in calls])}
    assert judged == {calls[0].pk: "failed", calls[1].pk: "succeeded",
                      calls[2].pk: "succeeded", calls[3].pk: "succeeded"}
    client.force_login(bob)  # a viewer reads the KPIs, never changes a threshold
    assert client.post(url, {"agent": agent.pk, "threshold": "90"}).status_code == 403
    client.force_login(carol)
    assert client.get(url).status_code == 404


@time_machine.travel(NOW, tick=False)
def test_the_dashboards_kpi_cards_are_the_reports_and_open_their_calls(client, alice, world):
    client.force_login(alice)
    url = f"/o/org-a/?start={world['first']}&end={world['last']}"
    page = client.get(url)
    summary = kpis_summary(world["envs"], world["first"], world["last"], "day", now=NOW)
    cards = {c.label: c for c in page.context["achieved"]}
    assert set(cards) == {str(m.label) for m in METRICS if m.key in ACHIEVED}
    for m in METRICS:
        if m.key in ACHIEVED:
            card = cards[str(m.label)]
            assert card.value == getattr(summary.totals, m.key) is not None, m.key
            assert card.door and card.door.calls > 0, m.key
            assert _explorer_total(client, card.door.url) == card.door.calls, m.key
            assert f'data-calls="{card.door.calls}"' in page.content.decode(), m.key


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(("language", "words"), [("en", "Not reported by Talkover"),
                                                  ("pt-br", "Não informado pela Talkover")])
def test_a_kpi_card_talkover_sends_nothing_for_is_empty_with_its_reason(client, alice, world,
                                                                        language, words):
    """Talkover alone: no transfer, so no transfer or containment rate (never 0 %)."""
    client.force_login(alice)
    talkover = world["envs"][0]
    page = client.get(f"/o/org-a/?env={talkover.pk}&start={world['first']}"
                      f"&end={world['last']}", headers={"accept-language": language})
    html = page.content.decode()
    labels = {str(m.label): m.key for m in METRICS}
    cards = {labels[str(c.label)]: c for c in page.context["achieved"]}
    for key in ("transfer_rate", "containment_rate", "success_rate"):
        assert cards[key].value is None and cards[key].door is None, key
        assert cards[key].note.lower() == words.lower(), key
    assert words in html
    assert cards["abandon_rate"].value is not None


@time_machine.travel(NOW, tick=False)
def test_a_cached_summary_holds_one_lazy_reason_per_list_of_vendors(world):
    """Every row lacking a figure for the same vendors shares one lazy reason, so a cached
    summary pickles each once (each lazy string is unpickled through `lazy()`, a class made
    per object): read back, the reasons are still in the reader's language."""
    import pickle

    from django.utils import translation
    from django.utils.functional import Promise

    summary = kpis_summary(world["envs"], world["first"], world["last"], "day", now=NOW)
    rows = [summary.totals, *summary.series, *summary.agents, *summary.vendors]
    reasons = [r for row in rows for r in row.reasons.values() if isinstance(r, Promise)]
    assert len(reasons) > 40
    assert len({id(r) for r in reasons}) == len({str(r) for r in reasons})
    read = pickle.loads(pickle.dumps(summary))
    with translation.override("pt-br"):
        assert read.totals.reasons["voicemail"] == "não informado pela Talkover"
    assert read.totals.reasons["voicemail"] == "not reported by Talkover"
