"""An invitation's expiry is written in the organisation's time, its zone named once — not
"(UTC)" beside times that are local everywhere else."""
from __future__ import annotations

from django.core import mail
from django.utils import timezone

from portal.auth.invitations import send_invitation


def test_the_expiry_is_in_the_organisations_time(org_a, alice, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    invitation = send_invitation(org_a, "new@example.com", "viewer", alice)
    body = mail.outbox[-1].body
    local = timezone.localtime(invitation.expires_at, org_a.tzinfo)
    assert "(America/Sao_Paulo)" in body and "(UTC)" not in body
    assert f"{local:%m/%d/%Y} {local.hour % 12 or 12}:{local:%M}" in body
