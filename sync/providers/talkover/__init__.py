"""Talkover: client, streams (agents, calls, callback days) and record parsing."""
