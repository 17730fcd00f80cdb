"""The agents table adds up: answered, no answer, busy, failed and "other / in progress"
(calls without a final status) sum to each row's calls, and the new column opens its calls."""
from __future__ import annotations

import re
from datetime import date

from tests.support.factories import make_agents, make_calls

START, END = date(2026, 11, 2), date(2026, 11, 8)


def test_every_agent_row_sums_to_its_calls(env_a, alice, client):
    make_calls(env_a, 400, START, END, seed=7, agents=make_agents(env_a, 3))
    client.force_login(alice)
    html = client.get("/o/org-a/agents/", {"start": START, "end": END}).content.decode()
    assert "Other / in progress" in html
    rows = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)[0].split("</tr>")[:-1]
    assert len(rows) == 3
    others = 0
    for row in rows:
        cells = [re.sub(r"<[^>]+>|,", "", c).strip()
                 for c in re.findall(r'<td class="num">(.*?)</td>', row, re.S)]
        total, answered, _rate, no_answer, busy, failed, other = cells[:7]
        assert _rate.endswith("%")
        parts = [int(answered), int(no_answer), int(busy), int(failed), int(other)]
        assert sum(parts) == int(total), row
        others += int(other)
        assert "outcome=other" in row
    assert others > 0  # the factory's initiated / ringing / queued calls
