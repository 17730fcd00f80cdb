"""No 500 from input, by construction: each input that once gave a 500 is a
clear 4xx now, and stored values outside the bounds rendered instead of breaking pages.

- ids are integers within bigint (`portal.bounds`): `?environment=<21 digits>` on the
  reports API, `{"environments": [1e400]}` (and NaN, 1.5, true) on alert rules;
- a snooze is a moment within 2000-01-01 … 2100-12-31 (API, page form, admin form); one
  stored before the rule (year 1, year 9999 in a +14 h organisation) is read back clamped;
- a saved view's dates stay within the same bounds;
- every admin changelist refuses impossible date parts with a 400.
"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from reports.alerts.models import AlertRule
from reports.saved_views.models import SavedView

HUGE = "99999999999999999999"
BOUNDS = "Choose a date between 2000-01-01 and 2100-12-31."


@pytest.fixture
def rule(env_a) -> AlertRule:
    rule = AlertRule.objects.create(organization=env_a.organization, name="Volume",
                                    metric="calls", window="day", condition="above",
                                    threshold=5, min_calls=1)
    rule.environments.set([env_a])
    return rule


def test_ids_beyond_their_column_are_400(alice, env_a, rule, api_client_for):
    api = api_client_for(alice)
    response = api.get("/api/v1/reports/calls/", {"environment": HUGE})
    assert response.status_code == 400 and "environment" in response.json()
    assert api.get("/api/v1/alert-events/", {"rule": HUGE}).status_code == 400
    for raw in ("1e400", "-1e400", "NaN", "Infinity", "1.5", "true", HUGE, "0"):
        body = ('{"name": "x", "metric": "calls", "condition": "above", "threshold": 1, '
                f'"environments": [{raw}]}}')
        response = api.post("/api/v1/alert-rules/", body, content_type="application/json")
        assert response.status_code == 400, (raw, response.content)
    response = api.patch(f"/api/v1/alert-rules/{rule.pk}/", '{"threshold": 1e400}',
                         content_type="application/json")
    assert response.status_code == 400 and "threshold" in response.json()
    assert AlertRule.objects.across_organizations().count() == 1


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                    "1999-12-31T23:59:59Z"])
def test_a_snooze_outside_the_bounds_is_refused_everywhere(alice, rule, api_client_for,
                                                           moment):
    api = api_client_for(alice)
    response = api.patch(f"/api/v1/alert-rules/{rule.pk}/", {"snoozed_until": moment},
                         format="json")
    assert response.status_code == 400
    assert response.json()["snoozed_until"] == [BOUNDS]
    if moment.startswith("1999"):
        return  # in the organisation's zone (UTC-3) that is 2000-01-01 on the page
    client = Client()
    client.force_login(alice)
    local = moment[:16]
    page = client.post(f"/o/org-a/settings/alerts/{rule.pk}/edit/", {
        "name": rule.name, "environments": [e.pk for e in rule.environments.all()],
        "metric": "calls", "window": "day", "condition": "above", "threshold": "5",
        "min_calls": "1", "severity": "warning", "language": "en", "webhook_format": "json",
        "snoozed_until": local})
    assert page.status_code == 400 and BOUNDS in page.content.decode()
    rule.refresh_from_db()
    assert rule.snoozed_until is None


def test_the_admin_form_bounds_every_date(rule, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-1")
    request = RequestFactory().get("/admin/")
    request.user = root
    model_admin = admin.site._registry[AlertRule]
    form_class = model_admin.get_form(request, rule)
    form = form_class({"snoozed_until_0": "0001-01-01", "snoozed_until_1": "00:00:00"},
                      instance=rule)
    assert not form.is_valid() and form.errors["snoozed_until"] == [BOUNDS]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12"])
def test_a_snooze_stored_at_the_edges_renders(alice, rule, api_client_for, django_user_model,
                                              zone):
    """Stored before the rule (a direct UPDATE here): year 1 and year 9999 in an organisation
    whose offset pushed them past what Python holds; read back clamped to the bounds."""
    org = rule.organization
    org.timezone = zone
    org.save()
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-1")
    client = Client(raise_request_exception=False)
    for moment, shown in ((datetime(1, 1, 1, tzinfo=UTC), "2000-01-01T00:00:00Z"),
                          (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
                           "2100-12-31T23:59:59Z")):
        AlertRule.objects.across_organizations().filter(pk=rule.pk).update(snoozed_until=moment)
        assert api_client_for(alice).get(f"/api/v1/alert-rules/{rule.pk}/").json()[
            "snoozed_until"] == shown
        client.force_login(alice)
        for url in ("/o/org-a/settings/alerts/", f"/o/org-a/settings/alerts/{rule.pk}/",
                    f"/o/org-a/settings/alerts/{rule.pk}/edit/", "/o/org-a/"):
            assert client.get(url).status_code == 200, (moment, url)
        client.force_login(root)
        for url in (f"/admin/reports/alertrule/{rule.pk}/change/", "/admin/reports/alertrule/"):
            assert client.get(url).status_code == 200, (moment, url)


def test_a_saved_view_keeps_its_dates_in_bounds(alice):
    client = Client()
    client.force_login(alice)
    for query in ("range=custom&start=0001-01-01&end=2026-01-01", "date_from=9999-12-31",
                  "start=2026-02-30"):
        response = client.post("/o/org-a/views/save/", {"name": "Far", "page": "calls",
                                                         "query": query})
        assert response.status_code == 400 and BOUNDS in response.content.decode(), query
    assert not SavedView.objects.across_organizations().exists()
    saved = client.post("/o/org-a/views/save/", {"name": "Near", "page": "calls",
                                                 "query": "start=2026-01-01&end=2026-01-31"})
    assert saved.status_code == 302
    assert SavedView.objects.across_organizations().get().name == "Near"


IMPOSSIBLE = ("created_at__year=0", "created_at__year=-1", "created_at__year=10000",
              f"created_at__year={HUGE}", "created_at__year__gte=0", "updated_at__month=13",
              "snoozed_until__day=0", "state_changed_at__year__in=2026,0")


def test_every_changelist_refuses_impossible_date_parts(rule, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "root-pw-1")
    client = Client(raise_request_exception=False)
    client.force_login(root)
    for url, queries in (("/admin/reports/alertrule/", IMPOSSIBLE),
                         ("/admin/reports/savedview/", IMPOSSIBLE[:6]),
                         ("/admin/portal/organization/", IMPOSSIBLE[:5]),
                         ("/admin/reports/alertevent/", ["rule__created_at__year=0"])):
        for query in queries:
            response = client.get(f"{url}?{query}")
            assert response.status_code == 400, (url, query)
            assert b"year, month and day" in response.content
    assert client.get("/admin/reports/alertrule/?created_at__year=2026").status_code == 200
    # A field whose name is a date part is no drill-down: Django's own answer (?e=1).
    assert client.get("/admin/sync/rejectedrecord/?day=0").status_code == 302
