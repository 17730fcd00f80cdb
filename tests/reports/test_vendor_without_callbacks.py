"""An environment whose provider has no callback statistics (its spec's `callback_stats`):
the dashboard shows no callback cards and no coverage note about callbacks for it, and the
summary email writes no callback lines for it; a vendor without callbacks is not a gap."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.text import capfirst

from portal.providers import spec_for
from reports.coverage_notes import callbacks_differ_words
from reports.models import ReportSubscription
from reports.summaries.figures import build_summary
from reports.summaries.render import build_message
from reports.summaries.schedule import Period
from tests.support.cast import make_env
from tests.support.factories import make_agents, make_callback_days, make_calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def vapi_desk(org_a):
    env = make_env(org_a, "Vapi desk", "vapi-private-key-0000000000000000",
                   provider="vapi", base_url="https://api.vapi.ai")
    today = timezone.localdate(timezone=org_a.tzinfo)
    make_calls(env, 120, today - timedelta(days=40), today, agents=make_agents(env, 2))
    return env


def _dashboard(alice, env, language: str = "en") -> str:
    client = Client()
    client.force_login(alice)
    client.cookies["django_language"] = language
    page = client.get(f"/o/{env.organization.slug}/", {"env": env.pk, "range": "30d"},
                      HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_a_vendor_without_callback_statistics_has_no_callback_cards(alice, vapi_desk,
                                                                     language):
    assert not vapi_desk.spec.callback_stats
    html = _dashboard(alice, vapi_desk, language)
    with translation.override(language):
        for words in ("Callbacks received", "Callbacks answered", "Callback statistics not "
                      "mirrored", "No callback statistics mirrored", "Unmatched callbacks"):
            assert translation.gettext(words) not in html, words
        said = translation.gettext("%(vendor)s does not report callback statistics.") % {
            "vendor": spec_for("vapi").label}
    assert said in html
    # Four call cards and three cost cards; then the five of what the calls achieved.
    assert html.count('class="kpi"') == 7 + 5


def test_a_talkover_environment_keeps_its_callback_cards(alice, env_a, vapi_desk):
    """Beside a vendor without them: the Talkover desk's cards, and a coverage note that
    names only a desk whose vendor reports callbacks."""
    today = timezone.localdate(timezone=env_a.organization.tzinfo)
    make_calls(env_a, 60, today - timedelta(days=40), today)
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(3, 40)])
    html = _dashboard(alice, env_a)
    assert "Callbacks received" in html and html.count('class="kpi"') == 10 + 5
    client = Client()
    client.force_login(alice)
    both = client.get(f"/o/{env_a.organization.slug}/", {
        "env": [env_a.pk, vapi_desk.pk], "range": "30d"}).content.decode()
    assert both.count('class="kpi"') == 10 + 5
    missing = both.split("Callback statistics not mirrored for these days:")[1].split("</ul>")[0]
    assert env_a.name in missing and vapi_desk.name not in missing


def _summary_bodies(org, envs, period: Period, language: str) -> tuple[str, str]:
    sub = ReportSubscription.objects.create(organization=org, name="Weekly",
                                            addresses=["ops@example.com"], language=language)
    message = build_message(sub, build_summary(org, envs, period), "ops@example.com")
    html = next(body for body, mime in message.alternatives if mime == "text/html")
    return message.body, html


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_the_summary_writes_no_callback_lines_for_a_vendor_without_them(org_a, env_a,
                                                                         vapi_desk, language):
    today = timezone.localdate(timezone=org_a.tzinfo)
    make_calls(env_a, 120, today - timedelta(days=40), today)
    make_callback_days(env_a, [today - timedelta(days=n) for n in range(40)])
    period = Period(today - timedelta(days=7), today - timedelta(days=1))
    with translation.override(language):
        per_env = translation.gettext("Callbacks received / answered / unmatched")
        text_line = "  " + translation.gettext("Callbacks") + ": "
        received = translation.gettext("Callbacks received")
        differ = capfirst(callbacks_differ_words([env_a, vapi_desk]))
    text, html = _summary_bodies(org_a, [env_a, vapi_desk], period, language)
    assert html.count(per_env) == 1 and text.count(text_line) == 1  # the Talkover desk's
    # The funnel against the vendor, in the callbacks page's words, the vendor by its label.
    with translation.override(language):
        summary = build_summary(org_a, [env_a, vapi_desk], period)
        assert capfirst(summary.callbacks_differ) == differ
    assert spec_for(env_a.provider).label in differ
    assert spec_for(vapi_desk.provider).label not in differ
    text, html = _summary_bodies(org_a, [vapi_desk], period, language)
    assert per_env not in html and text_line not in text
    assert received not in html and received not in text
    assert " / 0 / 0" not in html


@pytest.mark.parametrize(("language", "same", "compared"), [
    ("en", "over the same 6 days", "Compared day for day: "),
    ("pt-br", "nos mesmos 6 dias", "Comparado dia a dia: ")])
def test_the_summary_says_its_changes_compare_the_same_days(org_a, env_a, language, same,
                                                            compared):
    """Today is still being mirrored: the changes leave it out (and a day of the previous
    period), and each says over how many days it compares; the heading names them."""
    today = timezone.localdate(timezone=org_a.tzinfo)
    make_calls(env_a, 400, today - timedelta(days=20), today)
    text, html = _summary_bodies(org_a, [env_a], Period(today - timedelta(days=6), today),
                                 language)
    for body in (text, html):
        assert same in body and compared in body
    assert html.count(same) == 3  # calls, answer rate, talk time
