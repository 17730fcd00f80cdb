"""Pre-flight for `make serve`: refuse to start the production processes half-configured.

Run as `python -m portal.serve_check`; exits 2 naming every missing or unusable variable at
once (settings.py would stop at the first). Reads only the environment, not Django settings.
"""
from __future__ import annotations

import os
import sys

REQUIRED: dict[str, str] = {
    "REDIS_URL": "the Celery broker and shared cache: workers and beat need it "
                 "(e.g. redis://127.0.0.1:6379/0)",
    "DATABASE_URL": "PostgreSQL shared by web, workers and beat "
                    "(e.g. postgres://switchboard@127.0.0.1:5432/switchboard)",
    "SECRET_KEY": "Django's signing key (a long random string)",
    "FIELD_ENCRYPTION_KEYS": "comma-separated Fernet keys; the first encrypts upstream tokens",
    "ALLOWED_HOSTS": "comma-separated host names the portal answers to",
    "EMAIL_URL": "where summaries are sent (e.g. smtp://user:pass@mail.example.com:587/?tls=True)",
}


def problems(environ: dict[str, str]) -> list[str]:
    """Every reason the production run cannot start with this environment."""
    found = [f"{name} is not set: {why}." for name, why in REQUIRED.items()
             if not environ.get(name, "").strip()]
    database = environ.get("DATABASE_URL", "").strip()
    if database and not database.startswith(("postgres://", "postgresql://", "pgsql://")):
        found.append("DATABASE_URL must point at PostgreSQL: several processes write at once.")
    redis = environ.get("REDIS_URL", "").strip()
    if redis and not redis.startswith(("redis://", "rediss://")):
        found.append("REDIS_URL must be a redis:// or rediss:// URL.")
    if environ.get("DEBUG", "").strip().lower() not in {"0", "false", "no", "off"}:
        found.append("DEBUG must be false for the production run (DEBUG=false).")
    return found


def main() -> int:
    found = problems(dict(os.environ))
    if not found:
        return 0
    print("make serve: refusing to start the production processes.", file=sys.stderr)
    for line in found:
        print(f"  - {line}", file=sys.stderr)
    print("See docs/operations.md, section Production. For a local trial without services, "
          "use `make demo`.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
