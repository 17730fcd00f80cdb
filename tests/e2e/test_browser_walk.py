"""The ops lead's walk in a real headless chromium: every portal page at 1920×1080, 1440 and
390 px, in English and Portuguese, as the owner, a team lead (restricted to a team) and a
viewer. On each rendered page:

- no sideways scroll, and at 1440 px no element wider than its box (a table hiding columns
  behind an inner scroll, a value running out of its card);
- at 1920×1080 the wallboard has no vertical scroll;
- its visible text holds no raw ISO time, no raw enum key and, in Portuguese, no English
  string the catalogues know (`tests/portal/test_pt_br_complete.untranslated`);
- a filter's list of environments shows each name whole at 390 px.

The summary email is rendered at 390 px in both languages without sideways scroll. One
browser for the module, one context per member, width and language, reused for every page;
screenshots of the pages that failed in var/screenshots/walk/.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import Membership, Role, Team
from tests.portal.test_pt_br_complete import untranslated
from tests.support.browser import SHOTS
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
# Pages every member reads (the report pages); the others may be above a role (403) or
# another team's (404) — then the portal's own error page is walked instead.
EVERYONE = ("dashboard", "calls", "calls-no-match", "call-detail", "agents", "callbacks",
            "quality", "outcomes", "sync", "saved-views", "live")

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
# What the walk finds on pages another change of the same round rewrites (the outcomes
# page: its vendor table's keys, its tables at 1440 px in Portuguese); (page, problem kind).
# Remove an entry once that change is in: the walk then holds the page to the same rules.


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
    return problems


def _walk(page, base: str, pages, who: str, width: str, language: str, viewport: dict,
          expected) -> tuple[list[str], int]:
    problems, seen = [], 0
    for name, path in pages:
        response = page.goto(base + path, wait_until="load")
        seen += 1
        where = f"{name} ({who}, {width}, {language})"
        status = response.status if response else None
        if status not in expected(name):
            problems.append(f"{where}: HTTP {status}, expected {expected(name)}")
            continue
        found = len(problems)
        scroll_width, inner = page.evaluate(
            "() => [document.documentElement.scrollWidth, innerWidth]")
        if scroll_width > min(inner, viewport["width"]):
            problems.append(f"{where}: scrolls sideways ({scroll_width} > {inner} px)")
        if viewport is DESKTOP and (wide := page.evaluate(TOO_WIDE)):
            problems.append(f"{where}: wider than its box: {wide}")
        if viewport is TV and name == "live":
            height = page.evaluate("() => document.documentElement.scrollHeight")
            if height > viewport["height"]:
                problems.append(f"{where}: scrolls down ({height} > {viewport['height']} px)")
        if viewport is PHONE and (cut := page.evaluate(CUT_OPTIONS)):
            problems.append(f"{where}: names cut in a filter: {cut}")
        problems += [f"{where}: {p}" for p in _text_problems(page, language)]
        if len(problems) > found:
            WALK_SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(WALK_SHOTS / f"{who}-{width}-{language}-{name}.png"),
                            full_page=True)
    return problems, seen


def test_every_page_as_each_role_at_three_widths_in_both_languages(
        browser, live_server, cast, env_a, django_user_model):
    pages = portal_pages(cast, env_a)
    org = env_a.organization
    lead = make_member(django_user_model, "lena", org, Role.ANALYST)
    red = Team.objects.get(organization=org, name="Red")
    Membership.objects.get(user=lead, organization=org).teams.set([red])
    red.leads.add(lead)
    members = {"owner": cast["alice"], "lead": lead, "viewer": cast["bob"]}

    def expected(role: str):
        def of(name: str) -> set[int]:
            if role == "owner" or name in EVERYONE and not (
                    role == "lead" and name == "call-origins"):
                return {200}
            return {200, 403, 404}
        return of

    # The owner at every width; the team lead and the viewer at desktop and phone width.
    walks = [("owner", "tv", TV), ("owner", "desktop", DESKTOP), ("owner", "phone", PHONE),
             ("lead", "desktop", DESKTOP), ("lead", "phone", PHONE),
             ("viewer", "desktop", DESKTOP), ("viewer", "phone", PHONE)]
    base, problems, seen = live_server.url, [], 0
    for role, width, viewport in walks:
        for language in LANGUAGES:
            context = signed_in_context(browser, base, members[role], viewport, language,
                                        phone=viewport is PHONE)
            page = context.new_page()
            found, count = _walk(page, base, pages, role, width, language, viewport,
                                 expected(role))
            problems += found
            seen += count
            if viewport is PHONE and role == "owner":
                problems += _summary_email(page, org, language)
            context.close()
    assert seen == len(walks) * len(LANGUAGES) * len(pages)
    assert problems == [], "\n".join([*problems, f"screenshots: {WALK_SHOTS}"])


def _summary_email(page, org, language: str) -> list[str]:
    """The summary email as a phone's mail app shows it: no sideways scroll."""
    from reports.summaries.figures import build_summary
    from reports.summaries.render import build_message
    from reports.summaries.schedule import Period

    today = timezone.localdate(timezone=org.tzinfo)
    sub = make_subscription(org, name=f"Ops {language}", addresses=["ops@example.com"],
                            language=language)
    summary = build_summary(org, list(org.environments.all()),
                            Period(today - timedelta(days=7), today - timedelta(days=1)))
    message = build_message(sub, summary, "ops@example.com")
    html = next(body for body, mime in message.alternatives if mime == "text/html")
    page.set_content(html)
    scroll = page.evaluate("document.documentElement.scrollWidth")
    if scroll > PHONE["width"]:
        return [f"summary email ({language}): scrolls sideways ({scroll} > 390 px)"]
    return []
