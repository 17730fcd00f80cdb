"""Tenancy: the registry of how each model reaches its organisation (`registry`), page access
(`access`) and the API base viewset (`api`)."""
