"""The mirror: upstream agents, calls and callback statistics, plus the sync's own bookkeeping.

Natural keys are unique per environment, so every write is an upsert and a rerun converges.
`raw` keeps each upstream record whole: normalised columns serve queries, nothing is dropped.
"""
from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from portal.bounds import BoundedDateTimeField
from portal.models import Environment
from portal.tenancy.registry import TenantModel
from sync.stored_record import record_of
from sync.stream_names import Stream


class Agent(TenantModel):
    """A voice agent as the upstream last described it (Talkover agent or Origins agent id)."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="agents",
                                    verbose_name=_("environment"))
    external_id = models.CharField(max_length=255, verbose_name=_("external ID"))
    name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("name"))
    label = models.CharField(max_length=200, blank=True, default="", verbose_name=_("label"))
    description = models.TextField(blank=True, default="", verbose_name=_("description"))
    language = models.CharField(max_length=32, blank=True, default="", verbose_name=_("language"))
    direction = models.CharField(max_length=32, blank=True, default="", verbose_name=_("direction"))
    current_status = models.CharField(max_length=32, blank=True, default="",
                                      verbose_name=_("current status"))
    is_sandbox = models.BooleanField(default=False, verbose_name=_("is sandbox"))
    is_callback = models.BooleanField(default=False, verbose_name=_("is callback"))
    source_agent_ids = models.JSONField(default=list, blank=True,
                                        verbose_name=_("source agent IDs"))
    # Origins AI: the configured agent id answered 404 on its last sync.
    missing = models.BooleanField(default=False, verbose_name=_("missing"))
    # Set by the organisation: the score (0-100) at or above which the vendor's scored
    # judgement of this agent's calls counts as succeeded; null = `analysis.DEFAULT_THRESHOLD`.
    # Never written by the sync (not in its update fields).
    success_threshold = models.FloatField(null=True, blank=True,
                                          verbose_name=_("success threshold"))
    raw = models.JSONField(default=dict, blank=True, verbose_name=_("raw"))
    # Hash of what the upstream said (agent + callback config): unchanged rows are not written.
    payload_hash = models.CharField(max_length=32, blank=True, default="",
                                    verbose_name=_("payload hash"))
    upstream_created_at = BoundedDateTimeField(null=True, blank=True,
                                               verbose_name=_("upstream created at"))
    upstream_updated_at = BoundedDateTimeField(null=True, blank=True,
                                               verbose_name=_("upstream updated at"))
    first_seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("first seen at"))
    last_seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("last seen at"))

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "external_id"], name="agent_natural_key"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.external_id

    @staticmethod
    def shown_name(name: str, external_id: str) -> str:
        """An agent as every page writes it: the name the upstream gave it, else "Agent
        #<id>" (a provider that cannot describe its agents, an assistant left unnamed), else
        "(no agent)" for calls without one. A bare "4012" on a board reads as a figure, and
        the "#" tells the id apart from an agent named "Agent 12"."""
        if name:
            return name
        if external_id:
            return gettext("Agent #%(id)s") % {"id": external_id}
        return gettext("(no agent)")


class CallStatus(models.TextChoices):
    INITIATED = "initiated", _("Initiated")
    RINGING = "ringing", _("Ringing")
    # One call's status: "Atendida" in Portuguese (a count of them is "Atendidas").
    ANSWERED = "answered", pgettext_lazy("call status", "Answered")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    BUSY = "busy", _("Busy")
    NO_ANSWER = "no-answer", _("No answer")
    QUEUED = "queued", _("Queued")


# Statuses that mean the caller and the agent talked.
ANSWERED_STATUSES = (CallStatus.ANSWERED, CallStatus.COMPLETED)


class Judgement(models.TextChoices):
    """A call's success as its vendor judged it, normalised ("" = not evaluated;
    `sync.analysis`)."""

    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    NOT_EVALUATED = "", _("Not evaluated")


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Call(TenantModel):
    """One upstream call. Upserted on (environment, external_id); `raw` is the whole record.

    The table is partitioned by month of `started_at`, each month by `retention_months`
    (`sync.partitions.ddl`, docs/partitioning.md): the database's primary key is (id,
    started_at, retention_months) and its unique key (environment, external_id, started_at,
    retention_months), as partitioning requires. The state below (id the primary key, unique
    (environment, external_id)) is what Django sees; the sync's merge keeps one row per
    (environment, external_id) even when the upstream moves a call's start
    (`sync.partitions.upsert`).
    """

    # No index of its own: every index below starts with the environment, and each index
    # is paid for on every call a back-fill writes.
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="calls",
                                    db_index=False, verbose_name=_("environment"))
    external_id = models.CharField(max_length=255, verbose_name=_("external ID"))
    sid = models.CharField(max_length=255, blank=True, default="", verbose_name=_("SID"))
    # Indexed (one of the eight): deleting an environment deletes its calls, then sets
    # `agent_id` NULL on calls of its agents, which without the index scans every tenant's.
    agent = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls",
        verbose_name=_("agent"),
    )
    agent_external_id = models.CharField(max_length=255, blank=True, default="",
                                         verbose_name=_("agent external ID"))
    to_number = models.CharField(max_length=32, blank=True, default="", verbose_name=_("to number"))
    to_formatted = models.CharField(max_length=40, blank=True, default="",
                                    verbose_name=_("to formatted"))
    from_number = models.CharField(max_length=32, blank=True, default="",
                                   verbose_name=_("from number"))
    from_formatted = models.CharField(max_length=40, blank=True, default="",
                                      verbose_name=_("from formatted"))
    # Ids up to 255 characters (a longer one is a rejection, never a cut: `validation.ID_MAX`).
    # Status and direction are kept as sent, even outside the documented set (the run notes
    # them), so the choices only name the known values.
    direction = models.CharField(max_length=32, choices=Direction.choices, blank=True,
                                 default="", verbose_name=_("direction"))
    status = models.CharField(max_length=32, choices=CallStatus.choices, blank=True,
                              default="", verbose_name=_("status"))
    # The provider's own status word when it differs from ours (Origins: ANSWERED, QUEUED…).
    provider_status = models.CharField(max_length=32, blank=True, default="",
                                       verbose_name=_("provider status"))
    duration = models.PositiveIntegerField(default=0, verbose_name=_("duration"))
    billed_duration = models.FloatField(null=True, blank=True, verbose_name=_("billed duration"))
    is_testing = models.BooleanField(default=False, verbose_name=_("is testing"))
    started_at = BoundedDateTimeField(verbose_name=_("started at"))
    answered_at = BoundedDateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    ended_at = BoundedDateTimeField(null=True, blank=True, verbose_name=_("ended at"))
    upstream_updated_at = BoundedDateTimeField(null=True, blank=True,
                                               verbose_name=_("upstream updated at"))
    hangup_cause = models.CharField(max_length=64, blank=True, default="",
                                    verbose_name=_("hangup cause"))
    hangup_source = models.CharField(max_length=64, blank=True, default="",
                                     verbose_name=_("hangup source"))
    # Origins AI voice quality, taken from `raw` by the sync (sync/providers/origins/quality.py):
    # response latency (ms, None = not reported), insight sentiment and intent, and the
    # transcript as text for full-text search (the calls' search GIN index).
    latency_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("latency ms"))
    # db_default too: rows written by bulk SQL (COPY, INSERT … SELECT) that predate these
    # columns' writers stay valid.
    sentiment = models.CharField(max_length=32, blank=True, default="", db_default="",
                                 verbose_name=_("sentiment"))
    insight = models.CharField(max_length=64, blank=True, default="", db_default="",
                               verbose_name=_("insight"))
    transcript = models.TextField(blank=True, default="", db_default="",
                                  verbose_name=_("transcript"))
    # The vendor's own cost of the call, exact as sent, where it sends one (Vapi's `cost`,
    # USD), with its currency and breakdown; null when it sends none (reports then say
    # "not reported", never 0).
    vendor_cost = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True,
                                      verbose_name=_("vendor cost"))
    vendor_cost_currency = models.CharField(max_length=3, blank=True, default="", db_default="",
                                            verbose_name=_("vendor cost currency"))
    cost_breakdown = models.JSONField(null=True, blank=True, verbose_name=_("cost breakdown"))
    # The vendor's analysis of the call, normalised by its provider package (`sync.analysis`):
    # summary, success judgement ("" = not evaluated) with the value as sent and its score
    # (0-100, for a scored rubric: re-judged when the agent's threshold changes), the fields
    # the vendor extracted, and whether it was transferred or met voicemail (only where the
    # provider's spec does not list them in `not_sent`).
    summary = models.TextField(blank=True, default="", db_default="", verbose_name=_("summary"))
    judgement = models.CharField(max_length=16, choices=Judgement.choices, blank=True,
                                 default="", db_default="", verbose_name=_("success judgement"))
    judgement_raw = models.CharField(max_length=255, blank=True, default="", db_default="",
                                     verbose_name=_("success judgement as sent"))
    judgement_score = models.FloatField(null=True, blank=True,
                                        verbose_name=_("success score"))
    analysis_fields = models.JSONField(null=True, blank=True,
                                       verbose_name=_("extracted fields"))
    transferred = models.BooleanField(default=False, db_default=False,
                                      verbose_name=_("transferred"))
    voicemail = models.BooleanField(default=False, db_default=False,
                                    verbose_name=_("voicemail"))
    # The start of the next call with the same number (either direction, any environment of
    # the organisation) within `sync.outcomes.HORIZON_DAYS` after this one, kept by the sync
    # as calls arrive (`sync.outcomes`): the outcome report's resolved / repeat contact.
    next_contact_at = BoundedDateTimeField(null=True, blank=True,
                                           verbose_name=_("next contact at"))
    # Its contact's digits are on the organisation's list of numbers left out of resolution
    # (`sync.excluded_numbers`): no number to match (`sync.outcomes.PHONE`), nobody's next
    # contact. Set by the writer as it writes the call, and for the calls of a number when
    # the list changes.
    contact_excluded = models.BooleanField(default=False, db_default=False, editable=False,
                                           verbose_name=_("number left out of resolution"))
    raw = models.JSONField(default=dict, verbose_name=_("raw"))
    # Hash of `raw`: an unchanged record is detected without comparing JSON.
    payload_hash = models.CharField(max_length=32, default="", verbose_name=_("payload hash"))
    first_seen_at = models.DateTimeField(default=timezone.now, verbose_name=_("first seen at"))
    last_changed_at = models.DateTimeField(default=timezone.now, verbose_name=_("last changed at"))
    # The organisation's retention tier when the call was written (`CallRetention`): the
    # sub-partition it lives in on PostgreSQL. Set by the sync, moved only by
    # `sync.partitions.retention`.
    retention_months = models.PositiveSmallIntegerField(default=0, db_default=0,
                                                        editable=False,
                                                        verbose_name=_("retention tier"))

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "external_id"], name="call_natural_key")
        ]
        # Eight indexes in all on PostgreSQL, each named with the queries it serves and their
        # plans in docs/partitioning.md ("Indexes"); every index is paid for on every call a
        # back-fill writes. Besides the two keys, the agent's foreign key and
        # these two: the search's GIN index (environment, search text's trigrams, transcript's
        # words) and the callback rule's two lookups, created in SQL by the sync migration.
        indexes = [
            # Newest first within an environment: the listings, the explorer, rollups, the
            # ledger; a status or direction filter walks it too (each keeps a large share of
            # the calls). Calls of one instant are ordered by an Incremental Sort (Talkover's
            # ties: id descending; the explorer's: our id): the id in the key cost 40 bytes
            # an entry (sync migration 0021).
            models.Index(fields=["environment", "-started_at"], name="call_env_started"),
            # An agent's calls (an agent holds a small share of a busy environment's calls).
            models.Index(fields=["environment", "agent_external_id", "-started_at"],
                         name="call_env_agent_started"),
        ]

    def __str__(self) -> str:
        return self.sid or self.external_id

    @property
    def record(self) -> Any:
        """The upstream record as sent: `raw` may hold only what the columns do not give
        back (`sync.stored_record`)."""
        return record_of(self.raw, self)


class CallbackDay(TenantModel):
    """Talkover's callback stats for one upstream (UTC) day, fetched with start = end = day."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="callback_days",
        verbose_name=_("environment"),
    )
    day = models.DateField(verbose_name=_("day"))
    total_received = models.PositiveIntegerField(default=0, verbose_name=_("total received"))
    answered = models.PositiveIntegerField(default=0, verbose_name=_("answered"))
    unmatched = models.PositiveIntegerField(default=0, verbose_name=_("unmatched"))
    raw = models.JSONField(default=dict, verbose_name=_("raw"))
    payload_hash = models.CharField(max_length=32, blank=True, default="",
                                    verbose_name=_("payload hash"))
    fetched_at = models.DateTimeField(default=timezone.now, verbose_name=_("fetched at"))

    class Meta:
        verbose_name = _("callback day")
        verbose_name_plural = _("callback days")
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "day"], name="callbackday_natural_key")
        ]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day}"


class CallbackSourceDay(TenantModel):
    """One day's matched callbacks attributed to one source (outbound) agent."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="callback_source_days",
        verbose_name=_("environment"),
    )
    day = models.DateField(verbose_name=_("day"))
    source_agent_id = models.CharField(max_length=255, verbose_name=_("source agent ID"))
    name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("name"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))

    class Meta:
        verbose_name = _("callback source day")
        verbose_name_plural = _("callback source days")
        ordering = ["-day", "-count"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "day", "source_agent_id"],
                name="callbacksourceday_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name or self.source_agent_id}: {self.count}"


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    # The token's request budget was spent: the run stopped where it was and the rest was
    # queued to continue when the budget has room (sync/tasks.py), freeing its worker.
    DEFERRED = "deferred", _("Deferred")


class Trigger(models.TextChoices):
    MANUAL = "manual", _("Manual")
    SCHEDULE = "schedule", _("Schedule")
    BACKFILL = "backfill", _("Back-fill")
    # A Talkover webhook said something happened: today's calls only (sync/webhooks/receiver.py).
    WEBHOOK = "webhook", _("Webhook")


class SyncRun(TenantModel):
    """One run of one stream for one environment, with what it read and wrote."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="sync_runs",
        verbose_name=_("environment"),
    )
    stream = models.CharField(max_length=16, choices=Stream.choices, verbose_name=_("stream"))
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE,
                               verbose_name=_("trigger"))
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING,
                              verbose_name=_("status"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    # Updated as pages land: a running run whose heartbeat is stale was killed.
    heartbeat_at = models.DateTimeField(default=timezone.now, verbose_name=_("heartbeat at"))
    pages = models.PositiveIntegerField(default=0, verbose_name=_("pages"))
    requests = models.PositiveIntegerField(default=0, verbose_name=_("requests"))
    created = models.PositiveIntegerField(default=0, verbose_name=_("created"))
    updated = models.PositiveIntegerField(default=0, verbose_name=_("updated"))
    unchanged = models.PositiveIntegerField(default=0, verbose_name=_("unchanged"))
    rejected = models.PositiveIntegerField(default=0, verbose_name=_("rejected"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["environment", "stream", "-started_at"], name="syncrun_env_stream"
            ),
            models.Index(fields=["status", "heartbeat_at"], name="syncrun_status"),
        ]

    def __str__(self) -> str:
        return (f"{self.environment_id}/{self.get_stream_display()} {self.get_status_display()} "
                f"{self.started_at:%Y-%m-%d %H:%M}")

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def warnings(self) -> list[str]:
        """Rejected records and unknown values of this run, in words (`sync.run_warnings`)."""
        from sync.run_warnings import run_warnings

        return run_warnings(self)


class StreamState(TenantModel):
    """A stream's saved cursor; written in the same transaction as the data it covers."""

    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="stream_states",
        verbose_name=_("environment"),
    )
    stream = models.CharField(max_length=16, choices=Stream.choices, verbose_name=_("stream"))
    cursor = models.JSONField(default=dict, blank=True, verbose_name=_("cursor"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("stream state")
        verbose_name_plural = _("stream states")
        constraints = [
            models.UniqueConstraint(fields=["environment", "stream"], name="streamstate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.environment_id}/{self.get_stream_display()}"


# Upper bounds (inclusive, seconds) of the duration histogram buckets; the last is open-ended.
# Fine enough that a median or p90 read from the histogram is right within one bucket.
DURATION_BUCKETS: tuple[int, ...] = (
    0, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800, 3600,
)
BUCKET_COUNT = len(DURATION_BUCKETS) + 1


class CallRollup(TenantModel):
    """Daily aggregate of calls, maintained by the sync for exactly the days it touched.

    One row per environment, local day (in the organisation's timezone), agent, direction,
    status and is_testing: what reports read when they filter by direction or status.
    `duration_hist` counts durations in the fixed buckets of `DURATION_BUCKETS`;
    `hour_counts` counts calls per local hour (0–23).
    """

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="rollups",
                                    verbose_name=_("environment"))
    day = models.DateField(verbose_name=_("day"))
    agent_external_id = models.CharField(max_length=255, blank=True, default="",
                                         verbose_name=_("agent external ID"))
    direction = models.CharField(max_length=32, blank=True, default="", verbose_name=_("direction"))
    status = models.CharField(max_length=32, blank=True, default="", verbose_name=_("status"))
    is_testing = models.BooleanField(default=False, verbose_name=_("is testing"))
    count = models.PositiveIntegerField(default=0, verbose_name=_("count"))
    duration_sum = models.PositiveBigIntegerField(default=0, verbose_name=_("duration sum"))
    duration_max = models.PositiveIntegerField(default=0, verbose_name=_("duration max"))
    duration_hist = models.JSONField(default=list, verbose_name=_("duration hist"))
    # Calls carrying the vendor's own cost, and its sum in COST_UNITS (exact).
    costed = models.PositiveIntegerField(default=0, db_default=0,
                                         verbose_name=_("calls with a vendor cost"))
    cost_units = models.BigIntegerField(default=0, db_default=0, verbose_name=_("vendor cost"))
    hour_counts = models.JSONField(default=list, verbose_name=_("hour counts"))

    class Meta:
        verbose_name = _("call rollup")
        verbose_name_plural = _("call rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "day", "agent_external_id", "direction", "status",
                        "is_testing"],
                name="callrollup_key",
            )
        ]
        indexes = [models.Index(fields=["environment", "day"], name="callrollup_env_day")]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day} {self.agent_external_id} {self.status}"


# The figure columns of AgentDayRollup, in the order reports sum them: calls, one count per
# status, inbound, outbound, then over connected calls (answered or completed) talk time,
# longest call, then the calls carrying the vendor's own cost and that cost in COST_UNITS,
# then the duration histogram (last). Hours (calls per local hour) come apart: only the
# report's own period draws a heatmap.
STATUS_COLUMNS: dict[str, str] = {s: f"status_{s.replace('-', '_')}" for s in CallStatus.values}
FIGURE_COLUMNS: tuple[str, ...] = (
    "calls", *STATUS_COLUMNS.values(), "inbound", "outbound", "talk_time", "talk_max",
    "costed", "cost_units", *(f"hist_{i:02d}" for i in range(BUCKET_COUNT)),
)
HOUR_COLUMNS: tuple[str, ...] = tuple(f"hour_{h:02d}" for h in range(24))
# A cost in whole units of 1e-10 of its currency: `Call.vendor_cost`'s own precision, so sums
# of costs are exact integers (a float sum would drift from the vendor's figures).
COST_UNITS = 10 ** 10  # Decimal(units).scaleb(-10) is the cost again


class AgentDayRollup(TenantModel):
    """One agent's figures for one local day and direction, summed from that day's
    `CallRollup` rows.

    Written by the same refresh as `CallRollup`. Every report that does not filter by status
    reads these (the dashboard, the emailed summaries, the API unless `status` is given): a
    day has one row per agent (an agent mostly calls one way) however many calls it had,
    where `CallRollup` has one per status as well. The figures are plain integer columns
    (`FIGURE_COLUMNS`, `HOUR_COLUMNS`, added below) because summing them is nearly free for a
    database, where reading items out of JSON arrays was most of a report's cost.
    """

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE,
                                    related_name="agent_day_rollups", verbose_name=_("environment"))
    day = models.DateField(verbose_name=_("day"))
    agent_external_id = models.CharField(max_length=255, blank=True, default="",
                                         verbose_name=_("agent external ID"))
    direction = models.CharField(max_length=32, blank=True, default="", verbose_name=_("direction"))
    is_testing = models.BooleanField(default=False, verbose_name=_("is testing"))

    class Meta:
        verbose_name = _("agent day rollup")
        verbose_name_plural = _("agent day rollups")
        constraints = [
            models.UniqueConstraint(fields=["environment", "day", "agent_external_id",
                                            "direction", "is_testing"],
                                    name="agentdayrollup_key")
        ]
        indexes = [models.Index(fields=["environment", "day"], name="agentdayrollup_env_day")]

    def __str__(self) -> str:
        return f"{self.environment_id} {self.day} {self.agent_external_id}"


def _column_name(column: str):
    """The admin's (translatable) name of a figure column."""
    if column.startswith("hist_"):
        return format_lazy(_("duration bucket {}"), column[5:])
    if column.startswith("hour_"):
        return format_lazy(_("calls at {}:00"), column[5:])
    statuses = {name: CallStatus(value).label for value, name in STATUS_COLUMNS.items()}
    if column in statuses:
        return format_lazy("{}: {}", _("calls"), statuses[column])
    return {"calls": _("calls"), "inbound": _("inbound"), "outbound": _("outbound"),
            "talk_time": _("talk time"), "talk_max": _("longest talk"),
            "costed": _("calls with a vendor cost"), "cost_units": _("vendor cost")}[column]


for _column in (*FIGURE_COLUMNS, *HOUR_COLUMNS):
    AgentDayRollup.add_to_class(
        _column, models.BigIntegerField(default=0, verbose_name=_column_name(_column))
        if _column in ("talk_time", "cost_units")
        else models.PositiveIntegerField(default=0, verbose_name=_column_name(_column)))

