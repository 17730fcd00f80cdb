"""A directory for an embedded PostgreSQL that a test starts (portal/embedded_db.py).

Not under pytest's `tmp_path`: pytest sets its `pytest-of-<user>` directory back to 0700
whenever another xdist worker makes its base directory, which takes the server's path away
from the unprivileged user it runs as under root (initdb then dies on "Permission denied").
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from portal import embedded_db


@contextmanager
def embedded_dir(prefix: str = "switchboard-test-") -> Iterator[Path]:
    """A fresh directory outside pytest's base directory; its server stopped and all of it
    removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield root
    finally:
        embedded_db.stop(root / "postgres")
        shutil.rmtree(root, ignore_errors=True)
