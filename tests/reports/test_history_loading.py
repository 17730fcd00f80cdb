"""While a back-fill is under way every page's freshness line says how much history is in
("history: 34 of 90 days mirrored"), in English and Portuguese, and says nothing once it is
whole: the older days are loading, not zero."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from portal.models import Environment, Provider
from sync.coverage import history_loading
from sync.models import StreamState
from sync.stream_names import Stream

NOW = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
TODAY = NOW.date()


def _cursor(oldest_days_ago: int, through: datetime | None) -> dict:
    """The calls cursor of a back-fill read newest first back to `oldest_days_ago` days
    before today, its window read up to `through` (None: nothing read yet)."""
    cursor = {"oldest": (TODAY - timedelta(days=oldest_days_ago)).isoformat()}
    if through is not None:
        cursor.update(read_through=through.isoformat(),
                      synced_through=through.date().isoformat())
    return cursor


def _env(**fields) -> Environment:
    return Environment(name="E", backfill_days=90, **fields)


def test_the_days_in_are_counted_from_the_window_and_nothing_is_said_once_whole():
    env = _env()
    assert history_loading(env, None, NOW) == (0, 90), "nothing read: 0, not silence"
    assert history_loading(env, {"oldest": TODAY.isoformat()}, NOW) == (0, 90)
    assert history_loading(env, _cursor(0, NOW), NOW) == (1, 90), "today, read so far"
    assert history_loading(env, _cursor(33, NOW), NOW) == (34, 90)
    yesterday_end = datetime.combine(TODAY, time.min, tzinfo=UTC)
    assert history_loading(env, _cursor(2, yesterday_end), NOW) == (2, 90)
    assert history_loading(env, _cursor(88, NOW), NOW) == (89, 90)
    assert history_loading(env, _cursor(89, NOW), NOW) is None, "whole: the back-fill's day 1"
    assert history_loading(env, _cursor(120, NOW - timedelta(days=3)), NOW) is None, \
        "a paused environment's history is whole, only late"
    env.backfill_days = 120
    assert history_loading(env, _cursor(89, NOW), NOW) == (90, 120), "a longer back-fill"
    origins = _env(provider=Provider.ORIGINS)
    assert history_loading(origins, None, NOW) is None, "whole histories: no days to count"


@pytest.mark.parametrize("language,words", [
    ("en", "history: 34 of 90 days mirrored"),
    ("pt-br", "histórico: 34 de 90 dias espelhados"),
])
def test_every_page_says_which_days_are_still_loading(alice, env_a, language, words):
    env_a.backfill_days = 90
    env_a.last_synced_at = timezone.now()
    env_a.save()
    now = timezone.now()
    oldest = now.astimezone(UTC).date() - timedelta(days=33)
    state = StreamState.objects.create(environment=env_a, stream=Stream.CALLS, cursor={
        "oldest": oldest.isoformat(), "read_through": now.isoformat(),
        "synced_through": now.astimezone(UTC).date().isoformat()})
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(alice)
    for page in ("", "calls/", "agents/", "sync/"):
        html = client.get(f"/o/org-a/{page}").content.decode()
        assert words in html, page
    state.cursor["oldest"] = (oldest - timedelta(days=56)).isoformat()  # day 1 of 90 read
    state.save()
    # As the sync does with the batch that ends a day: kept frames are stamped by it.
    Environment.objects.filter(pk=env_a.pk).update(data_version=F("data_version") + 1)
    html = client.get("/o/org-a/calls/").content.decode()
    assert words not in html and words.split(":")[0] + ":" not in html
