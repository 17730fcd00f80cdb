"""Streams: what each provider reads and how its rows land in the mirror."""
