"""Template helper for the navigation: the Quality tab exists only with a provider that sends
voice-quality fields (`ProviderSpec.quality`)."""
from __future__ import annotations

from collections.abc import Iterable

from django import template

from portal.models import Environment

register = template.Library()


@register.filter
def has_quality(environments: Iterable[Environment]) -> bool:
    """Whether any of the (already loaded) environments has voice quality (no query)."""
    return any(e.spec.quality for e in environments or ())
