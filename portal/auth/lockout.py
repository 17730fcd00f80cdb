"""Lockout by (account, address), never by account alone: a password spray cannot lock a
victim out everywhere.

django-axes counts failures per username *and* address (`AXES_LOCKOUT_PARAMETERS =
[["username", "ip_address"]]`): five wrong passwords for one account from one address lock
that pair for the cool-down. Locking the account everywhere on that count would let anyone
who knows a username lock its owner out from a dozen addresses (password spraying), so
elsewhere the account is only slowed: once it has `LOGIN_FAILURE_LIMIT` failures in the
cool-down from all addresses together, every sign-in attempt for it waits
`LOGIN_SLOWDOWN_SECONDS` before its password is checked (right or wrong alike, so the wait
tells nothing), and its owner still signs in from their own address.

Locking the sender's address on the same count would let one person behind a shared proxy (an
office, a mobile carrier's NAT) lock out everyone else behind it, so an address is locked only
when `LOGIN_ADDRESS_USERNAME_LIMIT` (default 20) *different* usernames failed from it within
the cool-down — what password spraying from one place looks like, not what a colleague's typos
look like. Every count comes from axes' own rows in the database (`AccessAttempt`, one per
username, address and browser), so logging in keeps working when Redis is down.

This module also adds the one log line an operator looks for, `portal.security`, at WARNING.
"""
from __future__ import annotations

import logging
import time

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum
from django.dispatch import receiver
from django.utils import timezone

logger = logging.getLogger("portal.security")


def address_username_limit() -> int:
    return int(getattr(settings, "LOGIN_ADDRESS_USERNAME_LIMIT", 20))


def failed_usernames_from(ip_address: str | None) -> int:
    """How many different usernames failed to log in from `ip_address` in the cool-down."""
    if not ip_address:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return (AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since)
            .values("username").distinct().count())


def address_is_locked(ip_address: str | None) -> bool:
    return failed_usernames_from(ip_address) >= address_username_limit()


def account_failures(username: str | None) -> int:
    """Failed logins for `username` in the cool-down, from every address together."""
    if not username:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
             .aggregate(n=Sum("failures_since_start"))["n"])
    return int(total or 0)


def wait(seconds: float) -> None:
    """The slow-down itself (one place, so a test can see each wait)."""
    time.sleep(seconds)


def slowdown_seconds() -> float:
    return float(getattr(settings, "LOGIN_SLOWDOWN_SECONDS", 3))


class AccountLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, counting per (username, address), plus the address rule and
    the account's slow-down above."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if address_is_locked(getattr(request, "axes_ip_address", None)):
            return max(failures, get_failure_limit(request, credentials))
        return failures

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        allowed = super().is_allowed(request, credentials)
        if allowed and credentials and not getattr(request, "_login_slowed", False):
            username = get_client_username(request, credentials)
            if account_failures(username) >= get_failure_limit(request, credentials):
                request._login_slowed = True
                wait(slowdown_seconds())
        return allowed


@receiver(user_locked_out, dispatch_uid="portal.auth.lockout.log")
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if address_is_locked(ip_address):
        logger.warning("login locked out for address %s after %s usernames failed from it, "
                       "for %s minutes (username=%r)", ip_address,
                       failed_usernames_from(ip_address), minutes, username)
        return
    logger.warning("login locked out after %s failures: username=%r ip=%s for %s minutes",
                   settings.AXES_FAILURE_LIMIT, username, ip_address, minutes)
