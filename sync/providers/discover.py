"""A provider package's optional parts, found by their module's name, not by the provider's.

The few places outside a provider package that must know something of every provider before
the registry can be imported (the stored-record forms, which `sync.models` reads; the
simulator, which runs without the sync) look for a module of a given name in each package
under `sync/providers/` — `stored_form.py`, `simulator.py` — so adding a provider adds its
module and names it nowhere else.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path
from types import ModuleType

_PROVIDERS = Path(__file__).resolve().parent


def provider_modules(name: str) -> list[ModuleType]:
    """`sync.providers.<package>.<name>` of every provider package that has one."""
    found = []
    for info in sorted(pkgutil.iter_modules([str(_PROVIDERS)]), key=lambda i: i.name):
        if not info.ispkg:
            continue
        dotted = f"{__package__}.{info.name}.{name}"
        if importlib.util.find_spec(dotted) is not None:
            found.append(importlib.import_module(dotted))
    return found
