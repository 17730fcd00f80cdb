"""Origins AI: client, streams (agents, call_stats) and record parsing."""
