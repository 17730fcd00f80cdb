"""The environment a production process starts with (secrets, hosts, database, Redis, mail)."""
from __future__ import annotations

from cryptography.fernet import Fernet

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 20 + "production-secret-key-that-is-long-enough-" + "y" * 20,
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "switchboard.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/switchboard",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://mail.example.com:587",
}
