"""Abstract model parts shared by the apps' models."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Timestamped(models.Model):
    """Made and last changed by someone in the portal: when (the row's own clock, not the
    upstream's). Its fields come first among the model's fields (Django orders inherited
    fields before the model's own); only column order in forms without `fields` notices."""

    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        abstract = True


def member_reference(verbose_name: str, **options) -> models.ForeignKey:
    """The user who did something to a row (invited, accepted, created, acknowledged, erased,
    asked for a send): the row outlives their account (null once it is deleted), and the user
    gains no reverse accessor for it."""
    return models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+",
                             verbose_name=verbose_name, **options)
