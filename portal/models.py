"""Tenancy: organisations, their members, their upstream environments, API tokens, audit log."""
from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import crypto, upstream_url
from portal.tenancy.registry import StrictTenantManager, TenantManager


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA timezone name (e.g. America/Sao_Paulo)."),
            params={"value": value},
        )


class CallRetention(models.IntegerChoices):
    """How long an organisation keeps its mirrored calls: a fixed set of tiers, in months.

    A fixed set because on PostgreSQL every tier is a sub-partition of each month of calls
    (`sync.partitions.ddl`): a tier's old month is dropped whole, never row by row, and the number
    of partitions follows the tiers, not the number of organisations.
    """

    FOREVER = 0, _("Keep forever")
    MONTHS_36 = 36, _("36 months")
    MONTHS_24 = 24, _("24 months")
    MONTHS_12 = 12, _("12 months")
    MONTHS_6 = 6, _("6 months")


class Organization(models.Model):
    """A customer: owns environments and members; its timezone defines every reported day."""

    slug = models.SlugField(max_length=64, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone],
                                verbose_name=_("timezone"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Calls older than this many whole months are dropped with their month's partition
    # (PostgreSQL; `sync.partitions.retention`). `call_retention_pending`: set when the tier
    # changed,
    # cleared once every call of the organisation sits in the new tier's partitions.
    call_retention_months = models.PositiveSmallIntegerField(
        _("call retention"), choices=CallRetention.choices, default=CallRetention.FOREVER,
        help_text=_("Calls older than this are deleted for good, a whole month at a time "
                    "(reports then show those days as not mirrored)."))
    call_retention_pending = models.BooleanField(default=False, editable=False,
                                                 verbose_name=_("call retention pending"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        validate_timezone(self.timezone)
        super().save(*args, **kwargs)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    ANALYST = "analyst", _("Analyst")
    VIEWER = "viewer", _("Viewer")


# Higher rank can do everything a lower rank can.
ROLE_RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(models.Model):
    """A user's role in one organisation. Every access check starts here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER,
                            verbose_name=_("role"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return _("%(user)s in %(organization)s (%(role)s)") % {
            "user": self.user, "organization": self.organization, "role": self.get_role_display()}

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]


class Provider(models.TextChoices):
    TALKOVER = "talkover", "Talkover"
    ORIGINS = "origins", "Origins AI"




class EnvironmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    AUTH_FAILED = "auth_failed", _("Token rejected")


class Environment(models.Model):
    """One upstream workspace reached with one token; the unit that is synced and reported.

    The token is stored encrypted (`token_ciphertext`) and is write-only: code reads it with
    `get_token()` only to call the upstream. Only `token_hint` is ever displayed.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="environments",
        verbose_name=_("organization"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.TALKOVER,
                                verbose_name=_("provider"))
    base_url = models.URLField(max_length=500, blank=True, verbose_name=_("base URL"))
    token_ciphertext = models.TextField(editable=False, default="",
                                        verbose_name=_("token ciphertext"))
    token_hint = models.CharField(max_length=32, editable=False, default="",
                                  verbose_name=_("token hint"))
    # Provider-specific settings, e.g. {"agent_ids": [12, 34]} for Origins AI.
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
    requests_per_minute = models.PositiveIntegerField(default=90,
                                                      verbose_name=_("requests per minute"))
    # Origins AI: what one billed minute costs, for the Quality report's cost (None = no cost
    # shown). In the organisation's billing currency; the report names no currency.
    price_per_minute = models.DecimalField(
        _("price per billed minute"), max_digits=10, decimal_places=4, null=True, blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Optional. Origins AI: the price of one billed minute, for the Quality "
                    "report's cost."))
    last_synced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last synced at"))
    next_sync_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next sync at"))
    # Bumped by every sync that changed the mirror; report cache keys include it.
    data_version = models.PositiveBigIntegerField(default=0, verbose_name=_("data version"))
    # Calls that started before this instant were dropped by the organisation's retention
    # (`sync.partitions.retention`): reports name those days as not mirrored, never as zero.
    calls_dropped_before = models.DateTimeField(null=True, blank=True, editable=False,
                                                verbose_name=_("calls dropped before"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Talkover webhooks as sync triggers (`sync.webhooks.receiver`): the unguessable key of the
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

    objects = TenantManager()

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

    def get_webhook_secret(self) -> str:
        """The signing secret ("" when none is set)."""
        return crypto.decrypt(self.webhook_secret_ciphertext) if self.webhook_secret_ciphertext \
            else ""

    @property
    def effective_base_url(self) -> str:
        """The stored (normalised) base URL, or the provider's default (Talkover's cloud)."""
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
    def agent_ids(self) -> list[int]:
        return [int(i) for i in self.provider_settings.get("agent_ids", [])]

    def clean(self) -> None:
        try:
            self.base_url = upstream_url.normalise(self.provider, self.base_url)
            upstream_url.check_allowed(self.effective_base_url)
        except ValidationError as exc:
            raise ValidationError({"base_url": exc.messages}) from None
        if self.provider == Provider.ORIGINS and not self.base_url:
            raise ValidationError({"base_url": _("Origins AI environments need a base URL.")})



API_TOKEN_PREFIX = "sbp_"


def hash_api_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal access token for the REST API; only its sha256 hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(max_length=100, default="api", verbose_name=_("name"))
    prefix = models.CharField(max_length=16, editable=False, verbose_name=_("prefix"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False,
                                  verbose_name=_("token hash"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("expires at"))
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, user, name: str = "api", expires_at: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """Create a token and return it with the raw value, which is never stored."""
        raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=raw[:10],
            token_hash=hash_api_token(raw),
            expires_at=expires_at,
        )
        return token, raw

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class AuditLog(models.Model):
    """Who did what to which object, when. Never holds a secret value."""

    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit",
        verbose_name=_("organization"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        verbose_name=_("actor"),
    )
    action = models.CharField(max_length=64, verbose_name=_("action"))
    target_type = models.CharField(max_length=64, blank=True, default="",
                                   verbose_name=_("target type"))
    target_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("target ID"))
    target_repr = models.CharField(max_length=200, blank=True, default="",
                                   verbose_name=_("target repr"))
    details = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True,
                                      verbose_name=_("created at"))

    objects = TenantManager()

    class Meta:
        verbose_name = _("audit log")
        verbose_name_plural = _("audit logs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_repr}"


INVITATION_SALT = "portal.invitation"
INVITATION_MAX_AGE = timedelta(days=7)


class Invitation(models.Model):
    """An offer to join an organisation, sent to an address; nothing changes until the
    person holding the emailed link accepts it (signed, expires after INVITATION_MAX_AGE)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations",
        verbose_name=_("organization"),
    )
    email = models.EmailField(verbose_name=_("email"))
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER,
                            verbose_name=_("role"))
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    objects = StrictTenantManager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.get_role_display()})"

    @property
    def expires_at(self) -> datetime:
        return self.created_at + INVITATION_MAX_AGE

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()

    def make_token(self) -> str:
        return signing.TimestampSigner(salt=INVITATION_SALT).sign_object(
            {"i": self.pk, "e": self.email.lower()})

    @classmethod
    def from_token(cls, token: str) -> Invitation | None:
        """The pending invitation a link names; None if forged, expired, used or withdrawn."""
        try:
            data = signing.TimestampSigner(salt=INVITATION_SALT).unsign_object(
                token, max_age=INVITATION_MAX_AGE)
        except signing.BadSignature:  # SignatureExpired included
            return None
        if not isinstance(data, dict) or not isinstance(data.get("i"), int):
            return None
        # The signed link is the credential: found whatever the organisation (named door).
        invitation = cls.objects.across_organizations().select_related("organization").filter(
            pk=data["i"], email__iexact=str(data.get("e", ""))).first()
        return invitation if invitation is not None and invitation.is_pending else None
