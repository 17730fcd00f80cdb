"""Upstream providers: one package each (client, streams, record parsing), plus what they share.

- `http`, `errors`: the shared HTTP core (timeouts, retries, budget) and its typed errors;
- `records`: record helpers every provider uses (timestamps, rejections, update fields);
- `prefetch`: reading pages ahead on a thread while the previous page is written;
- `registry`: which provider has which client and streams (what the engine reads);
- `talkover/`, `origins/`: one package per provider.
"""
