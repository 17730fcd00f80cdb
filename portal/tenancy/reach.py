"""The tenancy registry's data: how each model reaches its organisation.

Filled by each app's `AppConfig.ready` through `register`; read by the doors
(`portal.tenancy.registry`) and by the context's scoping of queries (`portal.tenancy.query`).
Re-exported by `portal.tenancy.registry`, the module callers import.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.contrib.admin.utils import get_fields_from_path
from django.db import models

VIA_ENVIRONMENT = "environment__organization"


class TenantRequired(LookupError):
    """A tenant door was asked for rows without saying of which organisation(s)."""


@dataclass(frozen=True)
class Reach:
    """How a model reaches its organisation: a foreign-key `path` to Organization, or
    `members`, the path to the user whose memberships decide (many organisations)."""

    path: str | None = None
    members: str | None = None

    @property
    def via_environment(self) -> bool:
        return self.path is not None and self.path.endswith(VIA_ENVIRONMENT)


_REGISTRY: dict[type[models.Model], Reach] = {}


def register(*models_: type[models.Model], path: str | None = None,
             members: str | None = None) -> None:
    """Declare how `models_` reach their organisation (exactly one of `path`, `members`).
    A path is checked now: it must end at Organization."""
    organization = apps.get_model("portal", "Organization")
    if (path is None) == (members is None):
        raise ValueError("give exactly one of path= or members=")
    for model in models_:
        if path not in (None, "pk"):
            target = get_fields_from_path(model, path)[-1]
            if target.related_model is not organization:
                raise ValueError(f"{model._meta.label}.{path} does not reach Organization")
        if path == "pk" and model is not organization:
            raise ValueError("path='pk' is Organization's own")
        _REGISTRY[model] = Reach(path=path, members=members)


def registered() -> dict[type[models.Model], Reach]:
    return dict(_REGISTRY)


def reach(model: type[models.Model]) -> Reach:
    try:
        return _REGISTRY[model]
    except KeyError:
        raise LookupError(f"{model._meta.label} is not in the tenancy registry "
                          "(portal/tenancy/registry.py): declare it in its app's "
                          "AppConfig.ready") from None


def path_of(model: type[models.Model]) -> str | None:
    """The foreign-key path to Organization; None for a model of many organisations (or
    one not registered: not tenant data)."""
    found = _REGISTRY.get(model)
    return found.path if found is not None else None
