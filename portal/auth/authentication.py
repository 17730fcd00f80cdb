"""Personal access tokens for the REST API: `Authorization: Bearer sbp_…`.

Invalid tokens count against the sender's IP address (`API_INVALID_TOKEN_RATE`); past the
limit, every invalid bearer token from that address gets a 429 instead of a 401 until the
window ends — but a VALID token from the same address is still served, so one broken client
behind a shared proxy cannot lock out the others. Throttling does not protect the tokens
themselves (that is their 256 random bits: `secrets.token_urlsafe(32)`); it keeps a
misbehaving client from hammering the lookups and tells it to slow down.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.auth.token_lookup import token_by_hash
from portal.models import API_TOKEN_PREFIX, ApiToken, hash_api_token
from portal.throttling import client_ip, hit, parse_rate

logger = logging.getLogger("portal.security")

# Recording every use would turn each read into a write; once a minute is precise enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        limit, window = parse_rate(settings.API_INVALID_TOKEN_RATE)
        ip = client_ip(request)
        if len(parts) != 2 or not parts[1].startswith(API_TOKEN_PREFIX):
            self._failed(ip, limit, window)
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Bearer sbp_…'."
            )
        token = token_by_hash(hash_api_token(parts[1]))
        if token is None or not token.is_active or not token.user.is_active:
            self._failed(ip, limit, window)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        # Read by `portal.tenancy.access.restriction_for_user`: a caller restricted nowhere
        # (most) costs no second query for their teams.
        token.user.restricted_somewhere = token.restricted_somewhere
        return token.user, token

    @staticmethod
    def _failed(ip: str, limit: int, window: int) -> None:
        """Count an invalid token against the sender's address (API_INVALID_TOKEN_RATE);
        429 once it is over the limit (the window is not extended by further failures)."""
        result = hit("bad-token", ip, limit, window)
        if result.count == limit:  # once, when the address reaches the limit
            logger.warning("invalid API tokens: %s reached %s; its invalid tokens get 429 "
                           "until the window ends", ip, settings.API_INVALID_TOKEN_RATE)
        if not result.allowed:
            raise exceptions.Throttled(wait=result.wait, detail=(
                "Too many invalid API tokens from this address; wait and try again."))

    def authenticate_header(self, request) -> str:
        return self.keyword
