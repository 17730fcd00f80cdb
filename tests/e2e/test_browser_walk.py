"""The ops lead's walk in a real headless chromium: every portal page at 1920×1080, 1440 and
390 px, in English and Portuguese, as the owner, a team lead and a viewer restricted to a
team, and a viewer of the whole organisation. Each member meets exactly the status their role
gives (a page above the role is the portal's own 403, another team's rule or call its 404).
On each rendered page:

- no sideways scroll (a phone widens its layout viewport to wide content: the device width is
  compared too), and at 1440 px no element wider than its box (a table hiding columns behind
  an inner scroll, a value running out of its card);
- at 1920×1080 the wallboard has no vertical scroll;
- its visible text holds no raw ISO time, no raw enum key and, in Portuguese, no English
  string the catalogues know (`tests/portal/test_pt_br_complete.untranslated`) and no role or
  status under its stored name;
- a filter's list of environments shows each name whole at 390 px;
- as the owner: a table wider than its box scrolls in its own box with a sticky first column,
  every section tab is in reach, values read as one token keep to one line at 1440 px, the
  no-match message stays in view, report pages offer every period preset and rates are
  written the language's one way; no script error on any page.

The summary and alert emails are rendered at 1440 and 390 px in both languages without
sideways scroll. One walk holds every check of a page (each page load is the walk's cost):
one browser for the module, one context per member, width and language, reused for every
page (the owner's pages at 1440 px are then resized to the TV's 1920×1080 and checked again,
not loaded a second time); screenshots of the pages that failed in var/screenshots/walk/ (of
every page with `SCREENSHOTS=all`).
"""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import Membership, Role, Team
from reports.alerts.models import AlertRule
from tests.portal.test_pt_br_complete import untranslated
from tests.support.browser import SHOTS, resize
from tests.support.browser_pages import portal_pages, signed_in_context
from tests.support.cast import make_member
from tests.support.factories import make_subscription

pytestmark = [
    pytest.mark.browser,
]

WALK_SHOTS = SHOTS / "walk"
TV = {"width": 1920, "height": 1080}
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
LANGUAGES = ("en", "pt-br")
EVERY_SHOT = os.environ.get("SCREENSHOTS") == "all"

# Visible text, without what is shown as sent on purpose (code, the raw record, inputs).
VISIBLE = """() => {
  const skip = 'script, style, template, code, pre, details.card, textarea, select, option';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.getClientRects().length) continue;
    const text = n.textContent.trim();
    if (text) out.push(text);
  }
  return out;
}"""
# An element whose content is wider than its box (hidden or scrolled), or that sticks out of
# the page's main column: at desktop width everything must fit where it is.
TOO_WIDE = """() => {
  const main = document.querySelector('main');
  if (!main) return [];
  const right = main.getBoundingClientRect().right + 1;
  const out = [];
  for (const el of main.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (style.display === 'none' || el.closest('details:not([open]), .sr-only')) continue;
    const r = el.getBoundingClientRect();
    if (!r.width) continue;
    const clips = style.overflowX !== 'visible';
    if ((clips && el.scrollWidth > el.clientWidth + 1) || r.right > right) {
      const what = (el.querySelector('caption, th, h2') || el).textContent.trim();
      out.push(`${el.tagName.toLowerCase()}.${el.className} ${what.slice(0, 40)}`);
    }
  }
  return out.slice(0, 5);
}"""
# At a phone's width each environment of a filter's list is shown whole.
CUT_OPTIONS = """() => [...document.querySelectorAll('.filters select[multiple]')].flatMap(s => {
  const box = s.getBoundingClientRect();
  const canvas = document.createElement('canvas').getContext('2d');
  canvas.font = getComputedStyle(s).font;
  return [...s.options].filter(o => canvas.measureText(o.text).width + 12 > box.width)
    .map(o => o.text);
})"""
ISO_TIME = re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d|\b)")
# Keys as stored: snake_case words, a status or outcome written with a hyphen, a provider's
# stored key, a state in capitals as a vendor sends it.
RAW_KEY = re.compile(r"(?<![\w@./-])(?:[a-z]+_[a-z_]+|no-answer|origins|talkover|vapi"
                     r"|QUEUED|INITIATED|ANSWERED|FAILED)(?![\w@/-])")
# Vendor field names shown as sent on purpose (a rejected record's reason, a setting).
KEYS_AS_SENT = {"call_id", "agent_ids", "provider_settings"}
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

# Role and status names as stored: a pt-BR page must never show one of them bare.
RAW_NAMES = (r"\b(owner|admin|analyst|viewer|no_answer|no-answer|completed|answered|failed"
             r"|busy|initiated|ringing|queued|succeeded|running|pending|firing|resolved)\b")
# The pages a role below admin may not open: the portal's own 403 page, in its language.
ADMIN_PAGES = ("environment-add", "environment-token", "members", "teams", "team",
               "subscription-new", "alert-new", "live-thresholds")
# What a team-restricted member may not read: a rule watching the whole organisation.
NOT_THEIRS = ("alert", "call-origins")  # a rule of the whole organisation; another team's call


def _text_problems(page, language: str) -> list[str]:
    nodes = page.evaluate(VISIBLE)
    problems = []
    iso = sorted({m.group(0) for n in nodes for m in ISO_TIME.finditer(n)})
    if iso:
        problems.append(f"raw ISO times {iso[:3]}")
    keys = sorted({m.group(0) for n in nodes for m in RAW_KEY.finditer(n)} - KEYS_AS_SENT)
    if keys:
        problems.append(f"raw keys {keys[:5]}")
    if language == "pt-br":
        english = untranslated(page.content())
        if english:
            problems.append(f"English {english[:3]}")
        raw = sorted(set(re.findall(RAW_NAMES, page.locator("main").inner_text())))
        if raw:
            problems.append(f"raw names {raw}")
    return problems


def _owner_problems(page, name: str, language: str, phone: bool) -> list[str]:
    """What the owner's walk checks besides everyone's: tables in their boxes, tabs in reach
    and the report conventions (tokens kept whole, one vocabulary)."""
    problems = []
    if unboxed := page.evaluate(TABLES_UNBOXED):
        problems.append(f"tables overflow without their own scroll box and sticky first "
                        f"column: {unboxed}")
    if hidden := page.evaluate(TABS_OUT_OF_REACH):
        problems.append(f"tabs out of reach: {hidden}")
    if not phone and (wrapped := page.evaluate(WRAPPED_VALUES, ONE_VALUE)):
        problems.append(f"values wrap mid-value: {wrapped[:5]}")
    if page.evaluate(NO_MATCH_CUT):
        problems.append("the no-match message runs out of view")
    if name in REPORT_PAGES:
        offered = page.evaluate(PRESET_VALUES)
        if [p for p in PRESETS if p not in offered]:
            problems.append(f"period presets {offered}, expected {PRESETS}")
    bad = [r for r in page.evaluate(RATES) if not re.match(RATE_FORMAT[language], r)]
    if bad:
        problems.append(f"rates not written the {language} way: {bad[:5]}")
    return problems


def _found(page, name: str, who: str, language: str, viewport: dict) -> list[str]:
    """What is wrong with the page as shown now at `viewport`."""
    found = []
    scroll_width, inner = page.evaluate(
        "() => [document.documentElement.scrollWidth, innerWidth]")
    if scroll_width > min(inner, viewport["width"]):
        found.append(f"scrolls sideways ({scroll_width} > {inner} px)")
    if viewport is DESKTOP and (wide := page.evaluate(TOO_WIDE)):
        found.append(f"wider than its box: {wide}")
    if viewport is TV and name == "live":
        height = page.evaluate("() => document.documentElement.scrollHeight")
        if height > viewport["height"]:
            found.append(f"scrolls down ({height} > {viewport['height']} px)")
    if viewport is PHONE and (cut := page.evaluate(CUT_OPTIONS)):
        found.append(f"names cut in a filter: {cut}")
    found += _text_problems(page, language)
    if who == "owner" and viewport is not TV:
        found += _owner_problems(page, name, language, viewport is PHONE)
    return found


def _walk(page, base: str, pages, who: str, widths: dict[str, dict], language: str,
          expected) -> tuple[list[str], int]:
    """Each page loaded at the first of `widths` and checked there, then at each other width
    the window is resized to (a desktop's window resized to a TV lays the page out as one
    opened there: the layout is CSS, and the wallboard pages its agents again on resize)."""
    problems, seen = [], 0
    (first, viewport), *resized = widths.items()
    for name, path in pages:
        page.set_viewport_size(viewport)
        response = page.goto(base + path, wait_until="load")
        status = response.status if response else None
        if status != expected(name):
            seen += len(widths)
            problems.append(f"{name} ({who}, {first}, {language}): HTTP {status}, expected "
                            f"{expected(name)}")
            continue
        for width, shown in ((first, viewport), *resized):
            if shown is not viewport:
                resize(page, shown)
            seen += 1
            found = _found(page, name, who, language, shown)
            problems += [f"{name} ({who}, {width}, {language}): {p}" for p in found]
            if found or EVERY_SHOT:
                WALK_SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(WALK_SHOTS / f"{who}-{width}-{language}-{name}.png"),
                                full_page=True)
    return problems, seen


def test_every_page_as_each_role_at_three_widths_in_both_languages(
        browser, live_server, cast, env_a, django_user_model):
    pages = portal_pages(cast, env_a)
    org = env_a.organization
    red = Team.objects.get(organization=org, name="Red")
    lead = make_member(django_user_model, "lena", org, Role.ANALYST)
    erin = make_member(django_user_model, "erin", org, Role.VIEWER)
    for member in (lead, erin):
        Membership.objects.get(user=member, organization=org).teams.set([red])
    red.leads.add(lead)
    members = {"owner": cast["alice"], "lead": lead, "team-viewer": erin, "viewer": cast["bob"]}

    def expected(role: str):
        def of(name: str) -> int:
            if role in ("lead", "team-viewer") and name in NOT_THEIRS:
                return 404
            return 403 if role != "owner" and name in ADMIN_PAGES else 200
        return of

    # The owner at every width (the TV's pass rides on the desktop's: each page resized); the
    # others at desktop and phone width (the viewer of a team at phone width: what it may
    # read is the lead's). A phone is a context of its own (a mobile viewport).
    walks = [("owner", {"desktop": DESKTOP, "tv": TV}), ("owner", {"phone": PHONE}),
             ("lead", {"desktop": DESKTOP}), ("lead", {"phone": PHONE}),
             ("team-viewer", {"phone": PHONE}),
             ("viewer", {"desktop": DESKTOP}), ("viewer", {"phone": PHONE})]
    base, problems, seen, errors = live_server.url, [], 0, []
    for role, widths in walks:
        width, viewport = next(iter(widths.items()))
        for language in LANGUAGES:
            context = signed_in_context(browser, base, members[role], viewport, language,
                                        phone=viewport is PHONE)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            found, count = _walk(page, base, pages, role, widths, language, expected(role))
            problems += found
            seen += count
            if language == "pt-br":
                assert page.locator("html").get_attribute("lang") == "pt-br"
            if role == "owner":
                page.set_viewport_size(viewport)
                problems += _emails(page, org, width, language, viewport)
            context.close()
    assert seen == sum(len(widths) for _, widths in walks) * len(LANGUAGES) * len(pages)
    assert problems == [], "\n".join([*problems, f"screenshots: {WALK_SHOTS}"])
    assert errors == []


def _emails(page, org, width_name: str, language: str, viewport: dict) -> list[str]:
    """The summary and alert emails, as a mail app shows them at this width: no sideways
    scroll (a phone is narrower than the 600 px layout). The subscription and the event made
    for them go after, so the pages walked next are the same for every member."""
    from reports.alerts.deliver import render_email
    from reports.alerts.models import AlertEvent
    from reports.summaries.figures import build_summary
    from reports.summaries.render import build_message
    from reports.summaries.schedule import Period

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
    event.delete()
    sub.delete()
    return problems
