"""Password reset that neither reveals accounts nor can be hammered.

- Timing: every request takes at least PASSWORD_RESET_MIN_SECONDS, whether an email was
  rendered and sent (known address) or not (unknown), so response times are the same.
- Limits: PASSWORD_RESET_RATE per address and per IP; past it the page says plainly that
  reset is paused and for how long (429), sends nothing and logs it.
"""
from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import render

from portal.throttling import client_ip, hit, parse_rate

logger = logging.getLogger("portal.security")


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form) -> HttpResponse:
        started = time.monotonic()
        limit, window = parse_rate(settings.PASSWORD_RESET_RATE)
        email = form.cleaned_data["email"].strip().lower()
        by_address = hit("password-reset:email", email, limit, window)
        by_ip = hit("password-reset:ip", client_ip(self.request), limit * 4, window)
        if not (by_address.allowed and by_ip.allowed):
            wait = max(by_address.wait, by_ip.wait)
            logger.warning("password reset throttled: ip=%s (%s)", client_ip(self.request),
                           "address" if not by_address.allowed else "ip")
            response = render(self.request, "registration/locked_out.html",
                              {"reset": True, "minutes": max(1, round(wait / 60))}, status=429)
        else:
            response = super().form_valid(form)
        self._pad(started)
        return response

    @staticmethod
    def _pad(started: float) -> None:
        remaining = settings.PASSWORD_RESET_MIN_SECONDS - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
