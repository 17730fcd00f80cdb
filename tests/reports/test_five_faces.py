"""One report, five faces, the same figures and the same coverage.

The same scope — two environments of one organisation, 1–14 March 2026, one of them mirrored
only from the 5th — is asked of every face a user or a client reads: the dashboard page
(its context and its rendered page), the reports API (JSON), the Talkover-compatible API
(its listing total over the days both environments were read: the one comparable figure it
has), the dashboard's CSV export, and the emailed summary (text and its CSV attachment).
Each face's answer is read back the way its reader would, and compared with the raw calls:
totals over the covered days only, and the never-mirrored days named alike everywhere.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from portal.durations import format_duration
from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from sync.models import Call
from sync.models.core import ANSWERED_STATUSES
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_calls, make_subscription, mark_read

START, END = date(2026, 3, 1), date(2026, 3, 14)
READ_FROM = date(2026, 3, 5)  # the second environment was back-filled from here only
MISSING = {START + timedelta(days=i) for i in range((READ_FROM - START).days)}
SHORT_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


@dataclass(frozen=True)
class Answer:
    """What one face says. `missing`: never-mirrored days per environment name (None when
    the face has no word for coverage); `union_missing`: the days left out of the totals."""

    total: int
    answered: int | None
    talk_time: int | None
    missing: dict[str, set[date]] | None
    union_missing: set[date] | None


@pytest.fixture
def world(org_a, env_a, alice):
    second = make_env(org_a, "A second", "talq_cccccccccccccccccccccccccccc3333")
    make_calls(env_a, 240, START, END, seed=21, agents=make_agents(env_a, 2), testing_share=0)
    make_calls(second, 120, READ_FROM, END, seed=22, agents=make_agents(second, 2),
               testing_share=0)
    mark_read(env_a, START - timedelta(days=20), END + timedelta(days=3))
    mark_read(second, READ_FROM, END + timedelta(days=3))
    return org_a, [env_a, second]


def raw_figures(envs) -> tuple[int, int, int]:
    """Total, answered and talk time of the raw calls on the days every environment read."""
    tz = envs[0].organization.tzinfo
    total = answered = talk = 0
    for status, duration, started in Call.objects.filter(
            environment__in=envs, is_testing=False).values_list("status", "duration",
                                                                "started_at"):
        day = started.astimezone(tz).date()
        if START <= day <= END and day not in MISSING:
            total += 1
            if status in ANSWERED_STATUSES:
                answered += 1
                talk += duration or 0
    return total, answered, talk


def days_in_words(text: str) -> set[date]:
    """Days of a coverage note ("03/01/2026 – 03/04/2026, 03/09/2026"), as a reader reads it."""
    days: set[date] = set()
    for part in text.split(","):
        found = [date(int(y), int(m), int(d)) for m, d, y in SHORT_DATE.findall(part)]
        if found:
            first, last = found[0], found[-1]
            days.update(first + timedelta(days=i) for i in range((last - first).days + 1))
    return days


def read_csv(text: str) -> list[dict[str, str]]:
    """Rows of a CSV as a spreadsheet reads it (the UTF-8 byte-order mark names the encoding)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


# --- the faces ------------------------------------------------------------------------------

def page_face(client, org, envs) -> Answer:
    response = client.get(f"/o/{org.slug}/", {
        "range": "custom", "start": START.isoformat(), "end": END.isoformat(),
        "env": [e.pk for e in envs]})
    assert response.status_code == 200
    kpis = {str(k.label): k.value for k in response.context["kpis"]}
    notes = {n.environment: days_in_words(n.ranges) for n in response.context["calls_missing"]}
    page = response.content.decode()
    # What the page shows, not only what it was given: the talk time in the one format.
    assert format_duration(kpis["Talk time"]) in page
    for name in notes:
        assert name in page
    return Answer(kpis["Calls"], None, kpis["Talk time"], notes,
                  {d for days in notes.values() for d in days})


def api_face(api_client, org, envs) -> Answer:
    body = api_client.get("/api/v1/reports/calls/", {
        "environment": [e.pk for e in envs], "start_date": START.isoformat(),
        "end_date": END.isoformat()}).json()["summary"]
    names = {str(e.pk): e.name for e in envs}
    missing = {names[k]: {date.fromisoformat(d) for d in v}
               for k, v in body["coverage"]["missing_by_environment"].items()}
    nulls = {date.fromisoformat(p["start"]) for p in body["series"] if p["figures"] is None}
    assert nulls == {date.fromisoformat(d) for d in body["coverage"]["missing_days"]}
    t = body["totals"]
    return Answer(t["total"], t["answered"], t["talk_time_total"], missing, nulls)


def talkover_face(api_client, org, envs) -> Answer:
    """Talkover's listing has no coverage and no aggregates; its total over the window both
    environments read is the comparable figure (the listing counts the calls it holds)."""
    total = 0
    for env in envs:
        response = api_client.get(f"/api/v1/environments/{env.pk}/calls", {
            "date_from": READ_FROM.isoformat(), "date_to": END.isoformat(), "per_page": 1})
        assert response.status_code == 200
        total += response.json()["pagination"]["total"]
    return Answer(total, None, None, None, None)


def csv_face(client, org, envs) -> Answer:
    response = client.get(f"/o/{org.slug}/", {
        "range": "custom", "start": START.isoformat(), "end": END.isoformat(),
        "env": [e.pk for e in envs], "format": "csv", "table": "series"})
    assert response.status_code == 200
    rows = read_csv(b"".join(response.streaming_content).decode())
    day_column = next(iter(rows[0]))
    blank = {date.fromisoformat(r[day_column]) for r in rows if r["total"] == ""}
    kept = [r for r in rows if r["total"] != ""]
    return Answer(sum(int(r["total"]) for r in kept), sum(int(r["answered"]) for r in kept),
                  sum(int(r["talk_time_total"]) for r in kept), None, blank)


def email_face(client, org, envs) -> Answer:
    subscription = make_subscription(org, addresses=["ops@example.com"], attach_csv=True)
    summary = build_summary(org, envs, Period(START, END))
    message = build_message(subscription, summary, "ops@example.com")
    text = message.body
    # The notice: its heading, then one indented line per environment ("  Name: ranges").
    after_heading = text.split("Calls not mirrored for these days", 1)[1].splitlines()[1:]
    missing = {}
    for line in after_heading:
        if not line.startswith("  "):
            break
        name, _, ranges = line.strip().partition(": ")
        missing[name] = days_in_words(ranges)
    (attachment,) = message.attachments
    total = next(r for r in read_csv(attachment[1]) if r["environment"] == "TOTAL")
    talk = int(total["talk_time_seconds"])
    assert format_duration(talk) in text  # the same words as the page (one format)
    return Answer(int(total["calls"]), int(total["answered"]), talk, missing,
                  {d for days in missing.values() for d in days})


FACES = {"page": page_face, "reports_api": api_face, "talkover_api": talkover_face,
         "csv": csv_face, "email": email_face}


@pytest.mark.parametrize("face", list(FACES))
def test_every_face_gives_the_same_figures_and_coverage(face, world, alice, client,
                                                        api_client_for):
    org, envs = world
    client.force_login(alice)
    reader = api_client_for(alice) if face in ("reports_api", "talkover_api") else client
    answer = FACES[face](reader, org, envs)
    total, answered, talk = raw_figures(envs)
    assert total > 0 and answered > 0 and talk > 0
    assert answer.total == total
    if answer.answered is not None:
        assert answer.answered == answered
    if answer.talk_time is not None:
        assert answer.talk_time == talk
    if answer.union_missing is not None:
        assert answer.union_missing == MISSING
    if answer.missing is not None:
        assert answer.missing == {"A second": MISSING}


def test_the_faces_agree_with_each_other(world, alice, client, api_client_for):
    """Side by side, so a face that drifts shows next to the others in one failure."""
    org, envs = world
    client.force_login(alice)
    api = api_client_for(alice)
    answers = {name: face(api if name in ("reports_api", "talkover_api") else client, org,
                          envs) for name, face in FACES.items()}
    assert len({a.total for a in answers.values()}) == 1, answers
    assert len({a.talk_time for a in answers.values() if a.talk_time is not None}) == 1
    assert len({frozenset(a.union_missing) for a in answers.values()
                if a.union_missing is not None}) == 1
