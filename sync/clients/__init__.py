"""Upstream API clients: one shared HTTP core (`base`) and one thin client per provider."""
