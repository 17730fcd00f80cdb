"""Signing in: API tokens, lockout after failed logins, login forms, password reset, invitations."""
