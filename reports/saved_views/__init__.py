"""Saved views: a member names the scope and filters of a report page and opens them again."""
