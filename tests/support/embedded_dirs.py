"""A directory for an embedded PostgreSQL that a test starts (portal/embedded_db.py).

Not under pytest's `tmp_path`: as root, pytest's `pytest-of-root` directory is 0700, closed
to the unprivileged user the server runs as; `embedded_db.scratch_dir` gives that user its own.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portal import embedded_db


@contextmanager
def embedded_dir(prefix: str = "switchboard-test-") -> Iterator[Path]:
    """A fresh directory outside pytest's base directory; its server stopped and all of it
    removed afterwards."""
    root = embedded_db.scratch_dir(prefix)
    try:
        yield root
    finally:
        embedded_db.remove(root / "postgres")
        shutil.rmtree(root, ignore_errors=True)
