"""The callback funnel's stored link: which outbound call each callback answers.

A table keyed by the inbound call's (environment, external_id), not a column on `Call`: calls
are partitioned by month, so a column would be written into the big table's rows (and its
indexes) every time a late outbound call relinks a callback days later, and the funnel would
have to read the calls themselves; the link rows are one per callback (about 5 % of calls),
carry exactly what the funnel counts, and an erasure deletes them by id. They hold ids and
times only, never a phone number (`sync.callback_links` finds numbers in the calls).

`CallbackFunnelDay` is the funnel per environment and UTC day, so the funnel reads about a
row per day whatever the calls: the outbound side (non-test outbound calls not answered),
refreshed with the rollups, and the link side (callbacks received, answered, by source
agent, the seconds to callback of those answering an outbound call not answered, sorted,
outbound calls called back), kept by PostgreSQL itself: statement triggers on the link
table recount the days any write of links touches, old and new (sync migrations
0001_mirror_and_partitioned_calls and 0003_time_to_callback_after_unanswered_calls), in the
writing statement's transaction — the sync's relinks, a late call's, a settings change's, a
deletion's alike.
"""
from __future__ import annotations

import sys
from array import array

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Environment
from portal.tenancy.registry import TenantModel


class CallbackLink(TenantModel):
    """One inbound call to a callback agent, and the outbound call it answers (none:
    unmatched). Written only by `sync.callback_links`; `source_*` are empty when unmatched."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, db_index=False,
                                    related_name="callback_links",
                                    verbose_name=_("environment"))
    callback_external_id = models.CharField(_("callback call ID"), max_length=255)
    callback_started_at = models.DateTimeField(_("callback started at"))
    # The callback's UTC day: the vendor's stats count calls by it.
    callback_day = models.DateField(_("callback day"))
    callback_agent_external_id = models.CharField(_("callback agent ID"), max_length=255)
    callback_answered = models.BooleanField(_("callback answered"), default=False)
    is_testing = models.BooleanField(_("is testing"), default=False)
    source_external_id = models.CharField(_("source call ID"), max_length=255, blank=True,
                                          default="")
    source_agent_external_id = models.CharField(_("source agent ID"), max_length=255,
                                                blank=True, default="")
    source_started_at = models.DateTimeField(_("source started at"), null=True, blank=True)
    source_day = models.DateField(_("source day"), null=True, blank=True)
    source_answered = models.BooleanField(_("source answered"), null=True, blank=True)
    seconds_to_callback = models.PositiveIntegerField(_("seconds to callback"), null=True,
                                                      blank=True)

    class Meta:
        verbose_name = _("callback link")
        verbose_name_plural = _("callback links")
        ordering = ["-callback_started_at"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "callback_external_id"],
                                    name="callbacklink_key"),
        ]
        indexes = [
            models.Index(fields=["environment", "callback_day"], name="callbacklink_day"),
            models.Index(fields=["environment", "source_external_id"],
                         name="callbacklink_source"),
            models.Index(fields=["environment", "source_day"], name="callbacklink_source_day"),
        ]

    def __str__(self) -> str:
        return f"{self.callback_external_id} -> {self.source_external_id or '-'}"

    @property
    def matched(self) -> bool:
        return bool(self.source_external_id)


class CallbackFunnelDay(TenantModel):
    """The funnel of one environment and UTC day: non-test outbound calls that were not
    answered (refreshed with the day's rollups, `sync.callback_links`) and the day's link
    figures (kept by the link table's triggers, see the module)."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, db_index=False,
                                    related_name="callback_funnel_days",
                                    verbose_name=_("environment"))
    day = models.DateField(_("day"))
    outbound_unanswered = models.PositiveIntegerField(_("outbound not answered"), default=0)
    # The non-test links of the day (PostgreSQL; see the module): by the callback's day …
    callbacks_received = models.PositiveIntegerField(_("callbacks received"), default=0)
    callbacks_answered = models.PositiveIntegerField(_("callbacks answered"), default=0)
    # … source agent id → matched callbacks, and the seconds of the callbacks of outbound
    # calls not answered (a callback after an answered call waited for nobody), ascending,
    # packed as 4-byte big-endian integers (`unpack_seconds`; PostgreSQL's int4send): the
    # funnel reads a day's seconds as bytes, not as a JSON text to parse …
    callbacks_by_source = models.JSONField(_("callbacks by source agent"), default=dict)
    seconds_to_callback = models.BinaryField(_("seconds to callback"), default=b"")
    # … and by the outbound call's day: outbound calls not answered that were called back.
    called_back = models.PositiveIntegerField(_("called back"), default=0)

    class Meta:
        verbose_name = _("callback funnel day")
        verbose_name_plural = _("callback funnel days")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "day"], name="callbackfunnelday_key"),
        ]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day}: {self.outbound_unanswered}"


_INT4 = next(code for code in "il" if array(code).itemsize == 4)  # a C int: "i" almost everywhere


def unpack_seconds(packed: bytes | memoryview | None) -> list[int]:
    """`CallbackFunnelDay.seconds_to_callback` as a list (ascending, as kept)."""
    values = array(_INT4)
    if packed:
        values.frombytes(packed)
        if sys.byteorder == "little":
            values.byteswap()
    return values.tolist()
