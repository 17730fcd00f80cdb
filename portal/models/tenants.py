"""Organisations and the people in them: members and their roles, API tokens, the audit log,
invitations."""
from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models.base import member_reference
from portal.tenancy.registry import StrictTenantModel, TenantModel
from portal.timezones import available_zones


def validate_timezone(value: str) -> None:
    if value not in available_zones():
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


class Organization(TenantModel):
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

    # The outcome report's window (`sync.outcomes`): an answered call is resolved when no call
    # with the same number starts within these many days after it.
    resolution_window_days = models.PositiveSmallIntegerField(
        _("resolution window"), default=7, db_default=7,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_("An answered call counts as resolved when nobody with the same number "
                    "calls or is called again within these many days (1 to 30)."))

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


class Membership(TenantModel):
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
    # Teams restrict the member to their agents (portal.models.teams); none: everything.
    teams = models.ManyToManyField("portal.Team", blank=True, related_name="members",
                                   verbose_name=_("teams"))

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


API_TOKEN_PREFIX = "sbp_"


def hash_api_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TenantModel):
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


class AuditLog(TenantModel):
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

    class Meta:
        verbose_name = _("audit log")
        verbose_name_plural = _("audit logs")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.target_repr}"


INVITATION_SALT = "portal.invitation"
INVITATION_MAX_AGE = timedelta(days=7)


class Invitation(StrictTenantModel):
    """An offer to join an organisation, sent to an address; nothing changes until the
    person holding the emailed link accepts it (signed, expires after INVITATION_MAX_AGE)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations",
        verbose_name=_("organization"),
    )
    email = models.EmailField(verbose_name=_("email"))
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER,
                            verbose_name=_("role"))
    invited_by = member_reference(_("invited by"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    accepted_by = member_reference(_("accepted by"))

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
