"""The stored provider choice: one value per provider package listed in
`SWITCHBOARD_PROVIDERS` (a new provider adds its line here and the `portal` migration that
records it). The one module of `portal/` that names vendors: everything else reads a
provider's spec (`portal.providers`)."""
from __future__ import annotations

from django.db import models


class Provider(models.TextChoices):
    TALKOVER = "talkover", "Talkover"
    ORIGINS = "origins", "Origins AI"
    VAPI = "vapi", "Vapi"
    RETELL = "retell", "Retell AI"


# What a new environment's provider is until one is chosen (the model field's default).
DEFAULT_PROVIDER = Provider.TALKOVER
