"""Log every lockout plainly: who (username, IP address) and for how long.

django-axes does the counting (settings: AXES_*); this module adds the one log line an
operator looks for, `portal.security`, at WARNING.
"""
from __future__ import annotations

import logging

from axes.signals import user_locked_out
from django.conf import settings
from django.dispatch import receiver

logger = logging.getLogger("portal.security")


@receiver(user_locked_out, dispatch_uid="portal.lockout.log")
def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    logger.warning("login locked out after %s failures: username=%r ip=%s for %s minutes",
                   settings.AXES_FAILURE_LIMIT, username, ip_address, minutes)
