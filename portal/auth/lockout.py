"""Lockout by account, not by crowd: failed logins lock the username; an address only after
many different usernames failed from it.

django-axes counts failures per username (`AXES_LOCKOUT_PARAMETERS = ["username"]`): five
wrong passwords lock that account for the cool-down, from wherever they came. Locking the
sender's IP address on the same count would let one person behind a shared proxy (an office,
a mobile carrier's NAT) lock out everyone else behind it, so an address is locked only when
`LOGIN_ADDRESS_USERNAME_LIMIT` (default 20) *different* usernames failed from it within the
cool-down — what password spraying looks like, not what a colleague's typos look like. Both
counts come from axes' own rows in the database (`AccessAttempt`, one per username, address
and browser), so logging in keeps working when Redis is down.

This module also adds the one log line an operator looks for, `portal.security`, at WARNING.
"""
from __future__ import annotations

import logging

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
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


class AccountLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, counting per username, plus the address rule above."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if address_is_locked(getattr(request, "axes_ip_address", None)):
            return max(failures, get_failure_limit(request, credentials))
        return failures


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
