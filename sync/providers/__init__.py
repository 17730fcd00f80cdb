"""Upstream providers: one package each (client, streams, record parsing), plus what they share.

- `http`, `errors`: the shared HTTP core (timeouts, retries, budget) and its typed errors;
- `records`: record helpers every provider uses (timestamps, rejections, update fields);
- `prefetch`: reading pages ahead on a thread while the previous page is written;
- `adapter`, `registry`: what the engine reads of a provider (`ProviderAdapter`, each package's
  `provider.ADAPTER`) and the providers `SWITCHBOARD_PROVIDERS` lists, loaded;
- `discover`: a listed provider package's optional modules found by name (`stored_form`,
  `simulator`);
- `talkover/`, `origins/`, `vapi/`: one package per provider, its simulator included.
"""
