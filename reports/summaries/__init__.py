"""Scheduled emailed summaries: scheduling, claiming, rendering, sending."""
