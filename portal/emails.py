"""What leaves the portal by email: absolute links and a message rendered from its templates.

An email (or a webhook) is read outside the portal, so every link it carries is absolute
under `PORTAL_BASE_URL`; and every kind of email is three templates — `<name>_subject.txt`,
`<name>.txt`, `<name>.html` — rendered with one context, so text and HTML cannot disagree.
"""
from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

# Marks a message as sent by a machine (RFC 3834): out-of-office replies stay away.
AUTOMATIC = {"Auto-Submitted": "auto-generated"}


def absolute_url(path: str) -> str:
    """`path` (from `reverse`, starting with "/") as a link that works from an inbox."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def templated_email(name: str, context: dict, to: Sequence[str], *,
                    headers: dict[str, str] | None = None) -> EmailMultiAlternatives:
    """The email `name` (template path without ending) to `to`, in the active language.

    The subject is folded onto one line: a template's line breaks must not reach the header."""
    subject = " ".join(render_to_string(f"{name}_subject.txt", context).split())
    message = EmailMultiAlternatives(subject=subject,
                                     body=render_to_string(f"{name}.txt", context),
                                     from_email=settings.DEFAULT_FROM_EMAIL, to=list(to),
                                     headers=headers)
    message.attach_alternative(render_to_string(f"{name}.html", context), "text/html")
    return message
