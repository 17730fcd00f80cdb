"""The sync's streams, named: a leaf module, so every model module of `sync` can name them
(`sync.models` re-exports `Stream`)."""
from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stream(models.TextChoices):
    AGENTS = "agents", _("Agents")
    CALLS = "calls", _("Calls")
    CALLBACK_DAYS = "callback_days", _("Callback stats")
