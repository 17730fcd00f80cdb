"""What the page walk (tests/e2e/test_browser_walk.py) cannot see by loading each page: the
admin's environment actions, the dashboard's charts (tooltips, a bar's calls, the hourly day),
its rows of cards and the alert form's fields by condition, in a real headless chromium at
desktop width. Run with `pytest -m browser`.
"""
from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.browser_pages import portal_pages, signed_in_context

pytestmark = [
    pytest.mark.browser,
]

WIDTHS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ("en", "pt-br")


@pytest.fixture
def pages(live_server, cast, env_a):
    """A seeded organisation and the URL of every portal page to visit."""
    return portal_pages(cast, env_a)


_context = signed_in_context


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
