"""Template helper for the navigation: the Quality tab exists only with Origins AI data."""
from __future__ import annotations

from collections.abc import Iterable

from django import template

from portal.models import Environment, Provider

register = template.Library()


@register.filter
def has_origins(environments: Iterable[Environment]) -> bool:
    """Whether any of the (already loaded) environments is an Origins AI one (no query)."""
    return any(e.provider == Provider.ORIGINS for e in environments or ())
