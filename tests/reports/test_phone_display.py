"""Numbers written for people: national while a page's numbers are
all of the organisation's country, international once they span countries — never
"(21) 95013-1888" beside "(404) 341-6583"."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.phone import shown_numbers
from tests.support.factories import make_call

pytestmark = pytest.mark.django_db


def test_national_within_one_country_international_across_countries():
    br, us = "+5521950131888", "+14043416583"
    assert shown_numbers([br, "+5511987654321"], "BR") == {
        br: "(21) 95013-1888", "+5511987654321": "(11) 98765-4321"}
    assert shown_numbers([br, us, "anonymous", ""], "BR") == {
        br: "+55 21 95013-1888", us: "+1 404-341-6583"}
    assert shown_numbers([br], None) == {br: "+55 21 95013-1888"}  # no country: say it


def _page(client, alice, call=None, **query) -> str:
    client.force_login(alice)
    days = {"start": timezone.localdate(timezone.now() - timedelta(days=1)).isoformat(),
            "end": timezone.localdate().isoformat()}
    url = f"/o/org-a/calls/{call.pk}/" if call else "/o/org-a/calls/"
    # Another query each time: the page kept for the first is not the second's.
    return client.get(url, {**days, **query}).content.decode()


def test_calls_list_and_call_page_write_numbers_of_two_countries_internationally(
        env_a, alice, client):
    now = timezone.now()
    make_call(env_a, None, 1, started_at=now - timedelta(minutes=1), from_number="+5521950131888",
              from_formatted="(21) 95013-1888", to_number="+5511987654321",
              to_formatted="(11) 98765-4321")
    page = _page(client, alice)
    assert "(21) 95013-1888" in page and "+55 21" not in page  # one country: national
    us = make_call(env_a, None, 2, started_at=now - timedelta(minutes=2),
                   from_number="+14043416583", from_formatted="(404) 341-6583",
                   to_number="+5511987654321", to_formatted="(11) 98765-4321")
    page = _page(client, alice, sort="-started")
    assert "+55 21 95013-1888" in page and "+1 404-341-6583" in page
    assert "(21) 95013-1888" not in page and "(404) 341-6583" not in page
    detail = _page(client, alice, us)
    assert "+1 404-341-6583" in detail and "(404) 341-6583" not in detail
