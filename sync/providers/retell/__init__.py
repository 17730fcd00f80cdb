"""Retell AI: the fourth provider (docs/providers.md, "Retell AI")."""
