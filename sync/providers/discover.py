"""A provider package's optional parts, found by their module's name, not by the provider's.

The few places outside a provider package that must know something of every provider before
the registry can be imported (the stored-record forms, which `sync.models` reads; the
simulator, which runs without the sync) look for a module of a given name in each package
`SWITCHBOARD_PROVIDERS` lists — `stored_form.py`, `simulator.py` — so adding a provider adds
its module and names it nowhere else.
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from django.conf import settings


def provider_modules(name: str) -> list[ModuleType]:
    """`<package>.<name>` of every listed provider package that has one, by package."""
    found = []
    for package in sorted(settings.SWITCHBOARD_PROVIDERS):
        dotted = f"{package}.{name}"
        if importlib.util.find_spec(dotted) is not None:
            found.append(importlib.import_module(dotted))
    return found
