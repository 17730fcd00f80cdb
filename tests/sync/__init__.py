"""Tests of `sync`."""
