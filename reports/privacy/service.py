"""An erasure as every face makes it (settings page, API, command): the erasure itself
(`sync.privacy.erase`), an audit-log entry, and a receipt emailed to the organisation's
owners. None of the three holds the number: the hash, the counts and who did it.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import translation

from portal import audit
from portal.emails import AUTOMATIC, absolute_url, templated_email
from portal.models import Membership, Organization, Role
from sync.models import Erasure
from sync.privacy.erase import erase_caller
from sync.privacy.scrub import Subject

logger = logging.getLogger("reports.privacy")


def erase(organization: Organization, number: str, *, actor=None, source: str,
          language: str | None = None) -> Erasure:
    """Erase `number` (InvalidNumber for anything that is not one), log it, tell the owners."""
    erasure = erase_caller(organization, number, actor=actor, source=source)
    audit.record("privacy.erasure", actor=actor, organization=organization, target=erasure,
                 number_hash=erasure.number_hash, calls=erasure.calls, source=source,
                 environments={k: v["calls"] for k, v in erasure.environments.items()})
    send_receipt(erasure, language or translation.get_language() or settings.LANGUAGE_CODE)
    return erasure


def record_export(organization: Organization, actor, subject: Subject, calls: int) -> None:
    """A data-subject export is itself logged (by the number's hash)."""
    audit.record("privacy.subject_export", actor=actor, organization=organization,
                 number_hash=subject.hashed, calls=calls)


def owner_addresses(organization: Organization) -> list[str]:
    return sorted({m.user.email.lower() for m in
                   Membership.objects.for_organization(organization).filter(role=Role.OWNER)
                   .select_related("user") if m.user.email})


def render_receipt(erasure: Erasure, recipient: str, language: str) -> EmailMultiAlternatives:
    org = erasure.organization
    context = {"erasure": erasure, "org": org, "tz_name": org.timezone,
               "actor": erasure.actor.get_username() if erasure.actor else "",
               "environments": sorted(erasure.environments.values(), key=lambda e: e["name"]),
               "link": absolute_url(f"/o/{org.slug}/settings/privacy/")}
    with translation.override(language):
        return templated_email("emails/erasure", context, [recipient], headers=AUTOMATIC)


def send_receipt(erasure: Erasure, language: str) -> int:
    """One receipt per owner; a failed send is logged (the erasure is done either way)."""
    sent = 0
    for address in owner_addresses(erasure.organization):
        try:
            sent += render_receipt(erasure, address, language).send()
        except Exception:  # noqa: BLE001 - SMTP trouble must not undo or hide the erasure
            logger.warning("erasure %s: the receipt to an owner could not be sent", erasure.pk)
    return sent
