"""End-to-end tests: real processes, a real browser, the README's commands."""
