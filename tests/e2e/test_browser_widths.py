"""Every portal page at desktop (1440 px) and phone (390 px) width, in English and
Portuguese, in a real headless chromium: a failure when a page scrolls sideways
(`scrollWidth > innerWidth`) or a section tab is out of reach, with a screenshot of each page
that failed in var/screenshots/widths/ (of every page with `SCREENSHOTS=all`: a full-page PNG
of each of the 84 pages cost ~10 s of CPU a run).

One browser and one context per width and language (logged in by a session cookie), so the
whole walk stays well under a minute and a half. Run with `pytest -m browser`.
"""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.models import Team
from reports.alerts.models import AlertRule
from tests.support.browser import SHOTS
from tests.support.browser_pages import portal_pages, signed_in_context
from tests.support.factories import make_subscription

pytestmark = [
    pytest.mark.browser,
]

EVERY_SHOT = os.environ.get("SCREENSHOTS") == "all"
WIDTH_SHOTS = SHOTS / "widths"
WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "pt-br")

OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# A table wider than its box must scroll inside that box and keep its first column.
TABLES_UNBOXED = """() => [...document.querySelectorAll('main table')].filter(t => {
  const box = t.parentElement;
  if (t.scrollWidth <= box.clientWidth + 1) return false;
  const scrolls = ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
  // (A no-match row keeps its words in view its own way: NO_MATCH_CUT.)
  const first = t.querySelector('tbody tr:not(.no-match) > :first-child');
  return !scrolls || (first && getComputedStyle(first).position !== 'sticky');
}).map(t => t.querySelector('caption, th')?.textContent.trim() || 'table')"""
# Tabs out of reach: outside the viewport horizontally (the tab bar wraps on phones).
TABS_OUT_OF_REACH = """() => [...document.querySelectorAll('nav.tabs a')].filter(a => {
  const r = a.getBoundingClientRect();
  return r.width === 0 || r.left < 0 || r.right > window.innerWidth + 0.5;
}).map(a => a.textContent.trim())"""

# A value read as one token (a time, a phone number, a duration, a count or a
# rate) that breaks over two lines of its table cell (checked at desktop width).
ONE_VALUE = (r"^(\+?[\d ().-]{8,}|\d{1,2}/\d{1,2}/\d{2,4}( \d{1,2}(:\d{2})?( [AP]M)?)?"
             r"|\d+ [hms]( \d{2} [ms])?|[\d.,]+%?)$")
WRAPPED_VALUES = r"""(pattern) => {
  const value = new RegExp(pattern);
  const out = [];
  for (const td of document.querySelectorAll('main td')) {
    const text = td.innerText.trim();
    if (!value.test(text)) continue;
    const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    const tops = new Set();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const range = document.createRange(); range.selectNodeContents(node);
      for (const r of range.getClientRects()) { if (r.width > 0) tops.add(Math.round(r.top)); }
    }
    if (tops.size > 1) out.push(text);
  }
  return out;
}"""
# A no-match row spans a table wider than a phone: its words must stay in view.
NO_MATCH_CUT = """() => [...document.querySelectorAll('tr.no-match td > div')].filter(d => {
  const r = d.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth + 0.5;
}).length"""
# Every report page offers the same period presets.
PRESETS = ["today", "yesterday", "this_week", "last_week", "7d", "30d", "90d"]
PRESET_VALUES = "() => [...document.querySelectorAll('#id_range option')].map(o => o.value)"
REPORT_PAGES = ("dashboard", "calls", "agents", "callbacks")
# Rates on a page: each written the language's one way ("64.6%" / "64,6%").
RATES = r"""() => (document.querySelector('main').innerText.match(/\d[\d.,]*\s*%/g) || [])"""
RATE_FORMAT = {"en": r"^\d{1,3}(\.\d)?%$", "pt-br": r"^\d{1,3}(,\d)?%$"}


@pytest.fixture
def pages(live_server, cast, env_a):
    """A seeded organisation and the URL of every portal page to visit."""
    return portal_pages(cast, env_a)


_context = signed_in_context


def test_every_page_fits_desktop_and_phone_in_both_languages(browser, live_server, cast,
                                                             pages):
    base, problems, errors = live_server.url, [], []
    for width_name, viewport in WIDTHS.items():
        phone = width_name == "phone"
        for language in LANGUAGES:
            context = _context(browser, base, cast["alice"], viewport, language, phone)
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            for name, path in pages:
                response = page.goto(base + path, wait_until="load")
                where = f"{name} ({width_name}, {language})"
                if response is None or response.status != 200:
                    problems.append(f"{where}: HTTP {response and response.status}")
                    continue
                found = len(problems)
                scroll, inner = page.evaluate(OVERFLOW)
                # A phone widens its layout viewport to wide content: compare with the
                # device width too, not only innerWidth.
                if scroll > min(inner, viewport["width"]):
                    problems.append(f"{where}: scrolls sideways ({scroll} > {inner} px)")
                unboxed = page.evaluate(TABLES_UNBOXED)
                if unboxed:
                    problems.append(f"{where}: tables overflow without their own scroll "
                                    f"box and sticky first column: {unboxed}")
                hidden = page.evaluate(TABS_OUT_OF_REACH)
                if hidden:
                    problems.append(f"{where}: tabs out of reach: {hidden}")
                problems += _details(page, name, where, language, phone)
                if len(problems) > found or EVERY_SHOT:
                    WIDTH_SHOTS.mkdir(parents=True, exist_ok=True)
                    shot = WIDTH_SHOTS / f"{width_name}-{language}-{name}.png"
                    page.screenshot(path=str(shot), full_page=True)
            if language == "pt-br":
                assert page.locator("html").get_attribute("lang") == "pt-br"
            problems += _emails(page, cast["alice"], width_name, language, viewport)
            context.close()
    assert problems == [], "\n".join([*problems, f"screenshots: {WIDTH_SHOTS}"])
    assert errors == []


def _details(page, name: str, where: str, language: str, phone: bool) -> list[str]:
    """The report conventions (tokens kept whole, one vocabulary) on one rendered page."""
    import re

    problems = []
    if not phone and (wrapped := page.evaluate(WRAPPED_VALUES, ONE_VALUE)):
        problems.append(f"{where}: values wrap mid-value: {wrapped[:5]}")
    if page.evaluate(NO_MATCH_CUT):
        problems.append(f"{where}: the no-match message runs out of view")
    if name in REPORT_PAGES:
        offered = page.evaluate(PRESET_VALUES)
        if [p for p in PRESETS if p not in offered]:
            problems.append(f"{where}: period presets {offered}, expected {PRESETS}")
    bad = [r for r in page.evaluate(RATES) if not re.match(RATE_FORMAT[language], r)]
    if bad:
        problems.append(f"{where}: rates not written the {language} way: {bad[:5]}")
    return problems


def _emails(page, alice, width_name: str, language: str, viewport: dict) -> list[str]:
    """The summary and alert emails, as a mail app shows them at this width: no sideways
    scroll (a phone is narrower than the 600 px layout)."""
    from reports.alerts.deliver import render_email
    from reports.alerts.models import AlertEvent
    from reports.summaries.figures import build_summary
    from reports.summaries.render import build_message
    from reports.summaries.schedule import Period

    org = alice.memberships.first().organization
    today = timezone.localdate(timezone=org.tzinfo)
    sub = make_subscription(org, addresses=["ops@example.com"], language=language)
    summary = build_summary(org, list(org.environments.all()),
                            Period(today - timedelta(days=7), today - timedelta(days=1)))
    rule = AlertRule.objects.across_organizations().get(organization=org)
    rule.language = language
    rule.save(update_fields=["language"])
    event = AlertEvent.objects.create(
        rule=rule, organization=org, seq=rule.events.count() + 1,
        state="firing", metric="answer_rate", value=0.41, threshold=50, calls=120,
        window_start=timezone.now() - timedelta(hours=1), window_end=timezone.now(),
        created_at=timezone.now())
    problems = []
    for kind, message in (("summary", build_message(sub, summary, "ops@example.com")),
                          ("alert", render_email(event, "ops@example.com"))):
        html = next(body for body, mime in message.alternatives if mime == "text/html")
        page.set_content(html)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > viewport["width"]:
            problems.append(f"{kind} email ({width_name}, {language}): scrolls sideways "
                            f"({scroll} > {viewport['width']} px)")
    return problems


def test_admin_environment_actions_are_usable(browser, live_server, cast, env_a,
                                              tmp_path, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-1")
    context = _context(browser, live_server.url, root, WIDTHS["desktop"], "en", False)
    page = context.new_page()
    page.goto(live_server.url + reverse("admin:portal_environment_change", args=[env_a.pk]))
    page.screenshot(path=str(tmp_path / "admin-environment.png"), full_page=True)
    box = page.locator("#environment-actions fieldset").bounding_box()
    assert box is not None and box["width"] > 600, box
    sync_now = page.get_by_role("button", name="Sync now").bounding_box()
    assert sync_now["width"] > 60 and sync_now["height"] < 60, sync_now
    assert "America/Sao_Paulo" in page.content()
    context.close()


CHART = """(id) => { const c = Chart.getChart(id); return c && {labels: c.data.labels,
  sets: c.data.datasets.map(d => d.data)}; }"""
# Hover a column of the chart; the tooltip lists one line per series (Chart.js draws it on the
# canvas, so its items are read from the chart object).
TOOLTIP = """(id) => { const t = Chart.getChart(id).tooltip;
  return t && t.opacity ? t.dataPoints.map(p => p.dataset.label) : []; }"""
BAR = """([id, set, i]) => { const c = Chart.getChart(id);
  const bar = c.getDatasetMeta(set).data[i];
  const box = c.canvas.getBoundingClientRect();
  return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2}; }"""


def test_charts_show_every_series_open_their_calls_and_go_hourly(browser, live_server, cast,
                                                                pages):
    """One tooltip per day with every series; a click on a bar opens exactly its
    calls; a one-day range is drawn per hour (24 points), in both languages."""
    base = live_server.url
    org = cast["alice"].memberships.first().organization
    for language in LANGUAGES:
        context = _context(browser, base, cast["alice"], WIDTHS["desktop"], language, False)
        page = context.new_page()
        page.goto(f"{base}/o/{org.slug}/?range=7d", wait_until="load")
        chart = page.evaluate(CHART, "chart-status")
        assert len(chart["labels"]) == 7 and len(chart["sets"]) == 5
        day = max(range(7), key=lambda i: chart["sets"][0][i] or 0)
        page.locator("#chart-status").scroll_into_view_if_needed()
        point = page.evaluate(BAR, ["chart-status", 0, day])
        page.mouse.move(point["x"], point["y"])
        assert len(page.evaluate(TOOLTIP, "chart-status")) == 5  # every series, one tooltip
        answered = chart["sets"][0][day]
        with page.expect_navigation():
            page.mouse.click(point["x"], point["y"])
        assert "/calls/" in page.url and "outcome=answered" in page.url, page.url
        shown = page.locator(".pager span").first.inner_text()
        assert str(answered) in shown, (shown, answered)

        page.goto(f"{base}/o/{org.slug}/?range=today", wait_until="load")
        hourly = page.evaluate(CHART, "chart-status")
        assert len(hourly["labels"]) == 24 and hourly["labels"][0] == "00:00"
        total = sum(v or 0 for values in hourly["sets"] for v in values)
        kpi = page.locator(".kpi .value").first.inner_text().replace(",", "").replace(".", "")
        assert total == int(kpi), (total, kpi)
        context.close()


# Role and status names as stored: a pt-BR page must never show one of them bare.
RAW_NAMES = (r"\b(owner|admin|analyst|viewer|no_answer|no-answer|completed|answered|failed"
             r"|busy|initiated|ringing|queued|succeeded|running|pending|firing|resolved)\b")
# The pages a role below admin may not open: the portal's own 403 page, in its language.
ADMIN_PAGES = ("environment-add", "environment-token", "members", "teams", "team",
               "subscription-new", "alert-new", "live-thresholds")
# What a team-restricted member may not read: a rule watching the whole organisation.
NOT_THEIRS = ("alert", "call-origins")  # a rule of the whole organisation; another team's call


def test_every_page_fits_a_phone_as_each_role_and_names_nothing_raw(
        browser, live_server, cast, pages, env_a, django_user_model):
    """Every portal page at 390 px, in both languages, as an owner, a team-restricted analyst
    and viewer, and an unrestricted viewer: none scrolls sideways (`scrollWidth ≤
    innerWidth`), none answers with an error (a page above the role is the portal's own
    403, another team's rule its 404), and no pt-BR page shows a role or status under its
    stored name. One browser, one page per member and language, reused for every URL."""
    import re

    from portal.models import Membership, Role
    from tests.support.cast import make_member

    org = env_a.organization
    team = Team.objects.get(organization=org, name="Red")
    dana = make_member(django_user_model, "dana", org, Role.ANALYST)
    erin = make_member(django_user_model, "erin", org, Role.VIEWER)
    for user in (dana, erin):
        Membership.objects.get(user=user, organization=org).teams.set([team])
    base, problems, seen = live_server.url, [], 0
    for user in (cast["alice"], dana, erin, cast["bob"]):
        admin = user == cast["alice"]
        for language in LANGUAGES:
            context = _context(browser, base, user, WIDTHS["phone"], language, True)
            page = context.new_page()
            for name, path in pages:
                response = page.goto(base + path, wait_until="load")
                seen += 1
                where = f"{name} ({user.username}, {language})"
                status = response.status if response else None
                expected = (200 if admin or name not in ADMIN_PAGES else 403) if not (
                    user in (dana, erin) and name in NOT_THEIRS) else 404
                if status != expected:
                    problems.append(f"{where}: HTTP {status}, expected {expected}")
                    continue
                scroll, inner = page.evaluate(OVERFLOW)
                if scroll > min(inner, WIDTHS["phone"]["width"]):
                    problems.append(f"{where}: scrolls sideways ({scroll} > {inner} px)")
                if language == "pt-br":
                    text = page.locator("main").inner_text()
                    raw = sorted(set(re.findall(RAW_NAMES, text)))
                    if raw:
                        problems.append(f"{where}: raw names {raw}")
                if len(problems) and problems[-1].startswith(where):
                    WIDTH_SHOTS.mkdir(parents=True, exist_ok=True)
                    shot = WIDTH_SHOTS / f"role-{user.username}-{language}-{name}.png"
                    page.screenshot(path=str(shot), full_page=True)
            context.close()
    assert seen == 4 * len(LANGUAGES) * len(pages)
    assert problems == [], "\n".join(problems)


# KPI cards per row (by their top edge), and the breakdown card's width beside the charts'.
KPI_ROWS = """() => { const rows = {};
  for (const k of document.querySelectorAll('.kpis .kpi')) {
    const top = Math.round(k.getBoundingClientRect().top); rows[top] = (rows[top] || 0) + 1; }
  return Object.values(rows); }"""
BREAKDOWN_SHARE = """() => { const card = [...document.querySelectorAll('.charts > .card')]
  .find(c => c.querySelector('table.breakdown'));
  return card.getBoundingClientRect().width
    / document.querySelector('.charts').getBoundingClientRect().width; }"""


def test_the_dashboard_fills_its_rows_at_desktop_width(browser, live_server, cast, pages):
    """No KPI card alone on a row, and the breakdown card spans its row (its tables side by
    side) rather than leaving two thirds of it empty."""
    context = _context(browser, live_server.url, cast["alice"], WIDTHS["desktop"], "en", False)
    page = context.new_page()
    page.goto(live_server.url + dict(pages)["dashboard"], wait_until="load")
    rows = page.evaluate(KPI_ROWS)
    assert len(rows) >= 1 and min(rows) >= 2, rows
    assert page.evaluate(BREAKDOWN_SHARE) > 0.9
    context.close()


def test_the_alert_form_shows_the_fields_of_its_condition(browser, live_server, cast, pages):
    """Fields by kind: a threshold rule hides sensitivity, direction and compare-with; an
    anomaly rule shows sensitivity and direction, not the threshold; a percent change shows
    compare-with; the webhook's format shows once a webhook is set."""
    context = _context(browser, live_server.url, cast["alice"], WIDTHS["desktop"], "en", False)
    page = context.new_page()
    page.goto(live_server.url + dict(pages)["alert-new"], wait_until="load")

    def shown(name: str) -> bool:
        return page.locator(f'[data-field="{name}"]').is_visible()

    page.select_option("select[name=condition]", "below")
    assert not shown("sensitivity") and not shown("compare_to") and shown("threshold")
    page.select_option("select[name=condition]", "anomaly")
    assert shown("sensitivity") and shown("anomaly_direction") and not shown("compare_to")
    assert not shown("threshold")  # the anomaly judges against its band
    page.select_option("select[name=condition]", "change_below_pct")
    assert shown("compare_to") and not shown("sensitivity") and shown("threshold")
    # A new rule has no secret to renew; its webhook's format once a URL is typed.
    assert not shown("new_webhook_secret") and not shown("webhook_format")
    page.fill("input[name=webhook_url]", "https://hooks.example.com/x")
    assert shown("webhook_format")
    context.close()
