"""Tell an organisation's owners and admins that the upstream rejected an environment's token."""
from __future__ import annotations

import logging

from portal.emails import templated_email
from portal.models import Environment, Membership, Role

logger = logging.getLogger("sync.notify")


def recipients_for(environment: Environment) -> list[str]:
    return sorted(set(
        Membership.objects.for_organization(environment.organization)
        .filter(role__in=[Role.OWNER, Role.ADMIN])
        .exclude(user__email="").values_list("user__email", flat=True)
    ))


def notify_token_rejected(environment: Environment) -> int:
    """Email owners/admins once (the caller sends only on the transition); returns mails sent."""
    to = recipients_for(environment)
    if not to:
        return 0
    context = {"environment": environment, "organization": environment.organization,
               "reason": environment.status_reason}
    message = templated_email("sync/email/token_rejected", context, to)
    try:
        return message.send()
    except OSError as exc:
        # The environment is already marked; a mail outage must not hide that in a crash.
        logger.error("could not email token-rejected notice for environment %s: %s",
                     environment.pk, exc)
        return 0
