"""One provider, one package: the layout the engine reads. (Provider names outside their
package and import cycles are `make lint`'s.)"""
from __future__ import annotations

from pathlib import Path

from portal.models import Provider
from sync.providers.registry import ADAPTERS

SYNC = Path(__file__).resolve().parent.parent.parent / "sync"


def test_every_provider_has_one_package_with_client_streams_and_records():
    for provider in Provider.values:
        package = SYNC / "providers" / provider
        assert {"client.py", "streams.py", "records.py"} <= {p.name for p in package.iterdir()}
        assert provider in ADAPTERS
