"""Vapi (https://api.vapi.ai): assistants as agents, calls by `updatedAt`."""
