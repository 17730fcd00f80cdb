"""A one-day period: the hourly answer-rate line leaves out hours of fewer than five calls (one
call swung it 100 → 0), and the callbacks chart draws bars (one day's point as a line was
invisible while its card said 24)."""
from __future__ import annotations

import json
import random
import re
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.test import Client

from tests.support.factories import build_call, save_calls

DAY = date(2026, 11, 18)


def test_hourly_rates_need_five_calls_and_callbacks_draw_bars(env_a, alice):
    tz = env_a.organization.tzinfo
    rng = random.Random(3)
    calls = [build_call(env_a, datetime.combine(DAY, time(9, m), tzinfo=tz), rng=rng)
             for m in range(6)]  # 09:00: six calls, a rate
    calls.append(build_call(env_a, datetime.combine(DAY, time(14, 0), tzinfo=tz), rng=rng,
                            status="no_answer"))  # 14:00: one call, no rate
    save_calls(env_a, calls)
    client = Client()
    client.force_login(alice)
    html = client.get("/o/org-a/", {"range": "custom", "start": DAY.isoformat(),
                                    "end": DAY.isoformat()}).content.decode()
    data = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)'
                                r"</script>", html, re.S)[1])
    assert data["hourly"] and data["answer_rate"][9] == 100.0
    assert data["answer_rate"][14] is None
    assert sum(series[14] for series in data["status"].values()) == 1  # its count stays
    script = Path(settings.BASE_DIR, "static/js/dashboard.js").read_text()
    assert 'draw("chart-callbacks", { type: "bar"' in script
