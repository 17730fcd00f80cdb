"""The test suite: fixtures in conftest.py, helpers in support/, tests grouped by app (portal/,
sync/, reports/) and end to end (e2e/)."""
