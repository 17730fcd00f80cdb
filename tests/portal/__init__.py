"""Tests of `portal`."""
