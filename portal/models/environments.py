"""Upstream environments: a provider, its address and its token (encrypted at rest)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import crypto, providers, upstream_url
from portal.models.provider_choice import DEFAULT_PROVIDER, Provider
from portal.models.tenants import Organization
from portal.tenancy.registry import TenantModel


class EnvironmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    AUTH_FAILED = "auth_failed", _("Token rejected")


class Environment(TenantModel):
    """One upstream workspace reached with one token; the unit that is synced and reported.

    The token is stored encrypted (`token_ciphertext`) and is write-only: code reads it with
    `get_token()` only to call the upstream. Only `token_hint` is ever displayed.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="environments",
        verbose_name=_("organization"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    provider = models.CharField(max_length=16, choices=Provider.choices, default=DEFAULT_PROVIDER,
                                verbose_name=_("provider"))
    base_url = models.URLField(max_length=500, blank=True, verbose_name=_("base URL"))
    token_ciphertext = models.TextField(editable=False, default="",
                                        verbose_name=_("token ciphertext"))
    token_hint = models.CharField(max_length=32, editable=False, default="",
                                  verbose_name=_("token hint"))
    # Provider-specific settings, e.g. {"agent_ids": [12, 34]} for a provider whose agents
    # cannot be listed (`spec.agent_ids`; its `parse_agent_id` says what an id is).
    provider_settings = models.JSONField(default=dict, blank=True,
                                         verbose_name=_("provider settings"))
    status = models.CharField(
        max_length=16, choices=EnvironmentStatus.choices, default=EnvironmentStatus.ACTIVE,
        verbose_name=_("status"),
    )
    status_reason = models.TextField(blank=True, default="", verbose_name=_("status reason"))
    sync_enabled = models.BooleanField(default=True, verbose_name=_("sync enabled"))
    sync_interval_minutes = models.PositiveIntegerField(default=15,
                                                        verbose_name=_("sync interval minutes"))
    lookback_days = models.PositiveIntegerField(default=2, verbose_name=_("lookback days"))
    backfill_days = models.PositiveIntegerField(default=90, verbose_name=_("backfill days"))
    # The callback funnel's match window (`sync.callback_links`): a callback answers an
    # outbound call made on these many UTC days before the callback's day, or earlier that day.
    callback_match_days = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(90)], verbose_name=_("callback match days"))
    requests_per_minute = models.PositiveIntegerField(default=90,
                                                      verbose_name=_("requests per minute"))
    # What one billed minute costs, for the Quality report's cost of a provider that sends
    # none (None = no cost shown). In the organisation's billing currency; the report names
    # no currency.
    price_per_minute = models.DecimalField(
        _("price per billed minute"), max_digits=10, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Optional: the price of one billed minute, for the Quality report's "
                    "cost."))
    last_synced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last synced at"))
    next_sync_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next sync at"))
    # Bumped by every sync that changed the mirror; report cache keys include it.
    data_version = models.PositiveBigIntegerField(default=0, verbose_name=_("data version"))
    # Calls that started before this instant were dropped by the organisation's retention
    # (`sync.partitions.retention`): reports name those days as not mirrored, never as zero.
    calls_dropped_before = models.DateTimeField(null=True, blank=True, editable=False,
                                                verbose_name=_("calls dropped before"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # A provider's webhooks as sync triggers (`sync.webhooks.receiver`): the unguessable key of the
    # hook URL (made on first use) and the signing secret, encrypted like the token and
    # write-only (shown once, then only as a hint). What the last registration on the
    # upstream's agents said is kept per agent for the settings page.
    webhook_key = models.CharField(max_length=64, blank=True, default="", editable=False,
                                   verbose_name=_("webhook key"))
    webhook_secret_ciphertext = models.TextField(blank=True, default="", editable=False,
                                                 verbose_name=_("webhook secret ciphertext"))
    webhook_secret_hint = models.CharField(max_length=32, blank=True, default="", editable=False,
                                           verbose_name=_("webhook secret hint"))
    webhook_registration = models.JSONField(default=dict, blank=True, editable=False,
                                            verbose_name=_("webhook registration"))

    class Meta:
        verbose_name = _("environment")
        verbose_name_plural = _("environments")
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"],
                                    name="environment_name_unique"),
            models.UniqueConstraint(fields=["webhook_key"], condition=~models.Q(webhook_key=""),
                                    name="environment_webhook_key_unique"),
        ]
        indexes = [models.Index(fields=["sync_enabled", "status", "next_sync_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def __repr__(self) -> str:
        return f"<Environment {self.pk} {self.name!r} {self.provider} token={self.token_hint}>"

    def save(self, *args, **kwargs) -> None:
        # Every door stores the one normal form, even one that skipped full_clean().
        self.base_url = upstream_url.normalise(self.provider, self.base_url)
        super().save(*args, **kwargs)

    def set_token(self, token: str) -> None:
        token = token.strip()
        if not token:
            raise ValidationError(_("The token is empty."))
        self.token_ciphertext = crypto.encrypt(token)
        self.token_hint = crypto.token_hint(token)

    def get_token(self) -> str:
        return crypto.decrypt(self.token_ciphertext)

    @property
    def spec(self) -> providers.ProviderSpec:
        """What this environment's provider has and lacks (`portal.providers`)."""
        return providers.spec_for(self.provider)

    @property
    def has_token(self) -> bool:
        return bool(self.token_ciphertext)

    def ensure_webhook_key(self) -> str:
        """The key of this environment's hook URL, made (once, race-free) on first use."""
        if not self.webhook_key:
            Environment.objects.filter(pk=self.pk, webhook_key="").update(
                webhook_key=secrets.token_urlsafe(32))
            self.webhook_key = Environment.objects.values_list(
                "webhook_key", flat=True).get(pk=self.pk)
        return self.webhook_key

    def new_webhook_secret(self) -> str:
        """Set a fresh signing secret and return it: the only time it is shown."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        self.webhook_secret_ciphertext = crypto.encrypt(secret)
        self.webhook_secret_hint = crypto.token_hint(secret)
        return secret

    def replace_webhook_secret(self) -> str:
        """A new signing secret, saved; the agents registered with the old one are marked as
        needing registration again (their deliveries no longer match). Shown once by the
        caller."""
        secret = self.new_webhook_secret()
        if self.webhook_registration:
            self.webhook_registration = {**self.webhook_registration, "stale": True}
        self.save(update_fields=["webhook_secret_ciphertext", "webhook_secret_hint",
                                 "webhook_registration"])
        return secret

    def first_webhook_secret(self) -> str | None:
        """At creation: the signing secret of an environment whose provider sends webhooks
        signed with a secret we make, made and saved (None for other providers, or when one
        exists). The caller shows it, once: it is never made
        where nobody sees it, and unsigned deliveries are refused from now on."""
        if not self.spec.webhooks or self.spec.webhook_secret is not None \
                or self.webhook_secret_ciphertext:
            return None
        secret = self.new_webhook_secret()
        self.save(update_fields=["webhook_secret_ciphertext", "webhook_secret_hint"])
        return secret

    def get_webhook_secret(self) -> str:
        """The signing secret ("" when none is set): the provider's own scheme when its spec
        has one (`webhook_secret`), else the one Switchboard made."""
        if self.spec.webhook_secret is not None:
            return self.spec.webhook_secret(self)
        return crypto.decrypt(self.webhook_secret_ciphertext) if self.webhook_secret_ciphertext \
            else ""

    @property
    def effective_base_url(self) -> str:
        """The stored (normalised) base URL, or the provider's default (`spec.default_base_url`)."""
        return upstream_url.effective(self.provider, self.base_url)

    def is_overdue(self, now: datetime | None = None) -> bool:
        """A scheduled environment whose last sync is older than twice its interval.

        Twice, so one slow or skipped tick is no alarm; paused and token-rejected
        environments are not overdue (they say so themselves). Shown on every page's
        environment chip, the sync page and the admin list.
        """
        if not self.sync_enabled or self.status != EnvironmentStatus.ACTIVE:
            return False
        since = self.last_synced_at or self.created_at
        limit = timedelta(minutes=2 * max(self.sync_interval_minutes, 1))
        return since is not None and (now or timezone.now()) - since > limit

    @property
    def agent_ids(self) -> list:
        """The agent ids the environment names, as its provider names them (`parse_agent_id`
        of its spec)."""
        ids = (self.provider_settings or {}).get("agent_ids", [])
        parse = self.spec.parse_agent_id
        return [parse(str(i)) for i in ids] if parse is not None else list(ids)

    def clean(self) -> None:
        try:
            self.base_url = upstream_url.normalise(self.provider, self.base_url)
            upstream_url.check_allowed(self.effective_base_url)
        except ValidationError as exc:
            raise ValidationError({"base_url": exc.messages}) from None
        if self.spec.base_url_required and not self.base_url:
            raise ValidationError({"base_url": _("%(provider)s environments need a base URL.")
                                   % {"provider": self.spec.label}})
