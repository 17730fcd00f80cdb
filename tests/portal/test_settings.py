"""Settings come from the environment; production refuses to start without its secrets."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.embedded_dirs import embedded_dir
from tests.support.production import PRODUCTION

ROOT = Path(__file__).resolve().parent.parent.parent


def run_manage(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {
        "DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "ALLOWED_HOSTS", "DATABASE_URL",
        "REDIS_URL", "EMAIL_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
        capture_output=True, text=True, timeout=120,
    )




@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_a_missing_secret_stops_startup_naming_it(name):
    env = {k: v for k, v in PRODUCTION.items() if k != name}
    result = run_manage(["check"], env)
    assert result.returncode != 0
    assert f"{name} is not set" in result.stderr


def test_check_deploy_passes_with_production_environment():
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def var_dir():
    with embedded_dir() as root:  # its server stopped and removed afterwards
        yield root


def test_defaults_need_nothing_set(var_dir):
    """With nothing set, the embedded PostgreSQL under the var directory is started."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)"
    )
    base = {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEBUG", "SECRET_KEY",
                         "FIELD_ENCRYPTION_KEYS"}}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**base, "DJANGO_SETTINGS_MODULE": "portal.settings",
             "SWITCHBOARD_VAR_DIR": str(var_dir)},
    )
    assert result.returncode == 0, result.stderr
    engine, cache_backend, eager, backend, mail_path = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert cache_backend == "django.core.cache.backends.db.DatabaseCache"
    assert eager == "True"
    assert backend == "django.core.mail.backends.filebased.EmailBackend"
    assert mail_path == str(var_dir / "mail")
    assert (var_dir / "dev-secrets.json").exists()


def test_a_sqlite_url_is_refused_in_one_line_naming_the_embedded_default():
    result = run_manage(["check"], {"DATABASE_URL": "sqlite:///var/switchboard.sqlite3"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "embedded PostgreSQL" in lines[0]


def test_bad_boolean_is_a_clear_error():
    result = run_manage(["check"], {**PRODUCTION, "DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr
