"""Reading settings from environment variables, with embedded development defaults.

Kept free of Django imports so settings.py (and tests) can use it before Django starts.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


class ConfigError(RuntimeError):
    """A required production setting is missing or malformed."""


# Set by manage.py when its command line only asks for help (`--help`, `-h`, `help`, no
# command): the settings then start no database and write no file, since nothing will run.
help_only = False
HELP_ONLY_DATABASE_URL = "postgres://help-only.invalid/switchboard"


def asks_for_help(argv: list[str]) -> bool:
    """Whether `manage.py` run with `argv` only prints help (a command's, or the list)."""
    args = argv[1:]
    if not args or args[0] in ("help", "-h", "--help"):
        return True
    options = args[:args.index("--")] if "--" in args else args
    return "-h" in options or "--help" in options


def help_only_secrets() -> dict[str, str]:
    """Throw-away secrets for a process that only prints help (nothing is signed or stored)."""
    return {"SECRET_KEY": "help-only-" + secrets.token_urlsafe(40),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_seconds_by_name(name: str) -> dict[str, float]:
    """`name=seconds` pairs, comma-separated ("origins=600,vapi=120"); a malformed pair fails
    at start, never halfway through a sync."""
    pairs = {}
    for item in env_list(name, []):
        key, sep, value = item.partition("=")
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not sep or not key.strip() or seconds <= 0:
            raise ConfigError(f"{name} takes provider=seconds pairs (e.g. myprovider=600), not "
                              f"{item!r}")
        pairs[key.strip()] = seconds
    return pairs


def require(name: str, debug: bool) -> str:
    """Return a production-only setting, failing start-up loudly when it is missing."""
    value = env_str(name)
    if not value and not debug:
        raise ConfigError(
            f"{name} is not set. It is required when DEBUG is false; "
            f"see docs/operations.md, section Production."
        )
    return value


def dev_secrets(var_dir: Path) -> dict[str, str]:
    """Development-only secrets, generated once and kept under var/ so restarts can decrypt."""
    path = var_dir / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "SECRET_KEY": "dev-" + secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return values
