"""The explorer's CSV is named like every other export: switchboard-<kind>-<table>-<slug>-
<start>_<end>.csv (all dates: `all-dates`)."""
from __future__ import annotations

import re

from tests.support.factories import make_call

NAME = re.compile(r'attachment; filename="(switchboard-[a-z]+-[a-z]+-org-a-'
                  r'(\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}|all-dates)\.csv)"')


def test_the_explorer_csv_is_named_like_the_other_exports(env_a, alice, client):
    call = make_call(env_a, None, 1)
    client.force_login(alice)
    explorer = client.get("/o/org-a/calls/", {"format": "csv", "start": "2026-11-01",
                                              "end": "2026-11-07"})
    assert NAME.fullmatch(explorer["Content-Disposition"]).group(1) == \
        "switchboard-calls-list-org-a-2026-11-01_2026-11-07.csv"
    agents = client.get("/o/org-a/agents/", {"format": "csv", "start": "2026-11-01",
                                             "end": "2026-11-07"})
    assert NAME.fullmatch(agents["Content-Disposition"])  # the same shape as a report's
    whole = client.get("/o/org-a/calls/", {"format": "csv", "search": call.sid})
    assert NAME.fullmatch(whole["Content-Disposition"]) is not None
    everything = client.get("/o/org-a/calls/", {"format": "csv", "start": "", "end": ""})
    assert everything["Content-Disposition"].endswith('org-a-all-dates.csv"')
