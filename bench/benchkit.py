"""What the benchmark scripts share: Django set up as production runs it, a fresh database,
waiting for a server. Imported by name (`import benchkit`): a script run as
`python bench/<name>.py` has this folder first on its path."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def production_settings(upstream_hosts: str = "127.0.0.1,localhost", debug: bool = False
                        ) -> None:
    """DEBUG off (DEBUG keeps every query in memory), which needs production's keys: made-up
    ones unless the environment gives them. The simulator listens on loopback over http,
    which production refuses unless the host is listed (as a deployment lists its own)."""
    os.environ["DEBUG"] = "true" if debug else "false"
    os.environ.setdefault("SECRET_KEY", "bench-not-secret")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    if "FIELD_ENCRYPTION_KEYS" not in os.environ:
        from cryptography.fernet import Fernet

        os.environ["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    os.environ.setdefault("UPSTREAM_ALLOWED_HOSTS", upstream_hosts)


def setup_django() -> None:
    """The project importable and Django set up, in this process."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def fresh_database() -> None:
    """DATABASE_URL's database migrated, with the cache table, and emptied."""
    for command in (["migrate", "-v0"], ["createcachetable"], ["flush", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], check=True, cwd=ROOT)


def wait_for_health(port: int, tries: int = 300) -> None:
    """Until the server on `port` answers /healthz (at most `tries` × 0.1 s)."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
