"""Alerts: rules per organisation over the mirror's figures, evaluated after syncs and on a
beat tick, with a notification exactly once per state change (ok → firing → resolved).

Modules, one idea each:

- `models`: `AlertRule` (what to watch, where, when to fire, whom to tell, its current state)
  and `AlertEvent` (one state change, its figures and its notification record);
- `windows`: the window a rule judges and the one it compares with, from a clock;
- `coverage`: whether a window is mirrored yet (a small stand-in for the shared coverage
  module, see its docstring);
- `metrics`: the value of a metric over a window (rollups for days, indexed calls for hours);
- `hourly`: a scope's calls per local hour, from the rollups' `hour_counts`;
- `counts`: calls judged as counts (the usual level, a negative binomial, runs of 2–6
  hours, firings), over `count_tails` (its tails from the incomplete beta function);
- `seasonal`: the rates' statistics (median/MAD band, the binomial test);
- `anomaly`: the `anomaly` condition, an hour against the same hour of past weeks, read
  from the rollups (live and preview alike); `quiet_hours`: the hours a rule on calls
  judges only in runs, or not at all;
- `explain`: an anomaly verdict in words and as chart data; `preview`: when a rule would
  have fired over a past period;
- `evaluate`: judging a rule and moving its state with a conditional UPDATE;
- `deliver`: claiming an event's notification and sending it (email trio, webhooks);
- `webhooks`: webhook bodies and the HMAC-SHA256 signature;
- `api`, `views`, `forms`, `urls`, `admin`: the doors users come through.
"""
