"""One provider, one package: the layout the engine reads. (Provider names outside their
package and import cycles are `make lint`'s.)"""
from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.models import Provider
from sync.providers import discover, registry
from sync.providers.registry import ADAPTERS

SYNC = Path(__file__).resolve().parent.parent.parent / "sync"


def test_every_provider_has_one_package_with_client_streams_and_records():
    for provider in Provider.values:
        package = SYNC / "providers" / provider
        assert {"client.py", "streams.py", "records.py"} <= {p.name for p in package.iterdir()}
        assert provider in ADAPTERS


def test_the_registry_loads_the_providers_settings_list_and_no_other(settings):
    """Providers are listed by dotted path (`SWITCHBOARD_PROVIDERS`), not imported one by one:
    the registry's adapters are the listed packages' `provider.ADAPTER`, in the listed order."""
    assert list(ADAPTERS) == [registry.load(p).spec.key for p in settings.SWITCHBOARD_PROVIDERS]
    first, *rest = settings.SWITCHBOARD_PROVIDERS
    assert list(registry.load_all(rest)) == list(ADAPTERS)[1:]
    assert [m.__name__ for m in discover.provider_modules("provider")] == sorted(
        f"{p}.provider" for p in settings.SWITCHBOARD_PROVIDERS)
    settings.SWITCHBOARD_PROVIDERS = rest
    assert f"{first}.provider" not in {m.__name__ for m in discover.provider_modules("provider")}


@pytest.mark.parametrize(("package", "said"), [
    ("sync.providers.nobody", "has no provider module"),
    ("sync.providers", "has no provider module"),
    ("sync.providers.transport", "has no provider module"),
])
def test_a_listed_package_that_is_no_provider_is_refused_by_name(package, said):
    with pytest.raises(ImproperlyConfigured) as info:
        registry.load(package)
    assert package in str(info.value) and said in str(info.value)
