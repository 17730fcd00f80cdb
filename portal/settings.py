"""Switchboard settings: everything comes from environment variables with development defaults.

Nothing set gives a working development setup (an embedded PostgreSQL under var/postgres,
Django's database cache shared by every local process, Celery tasks run in process, emails
written under var/mail/).
Production sets DATABASE_URL, REDIS_URL, EMAIL_URL, SECRET_KEY, FIELD_ENCRYPTION_KEYS,
ALLOWED_HOSTS and DEBUG=false; a missing required one stops start-up with its name.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url

from portal import envconfig
from portal.envconfig import (
    ConfigError,
    dev_secrets,
    env_bool,
    env_list,
    env_seconds_by_name,
    env_str,
    require,
)
from portal.logging import logging_config_from_env
from portal.replicas import replica_databases
from portal.schedule import BEAT_SCHEDULE, DISPATCH_SECONDS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SWITCHBOARD_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", True)
if envconfig.help_only:
    _dev = envconfig.help_only_secrets()  # `--help`: nothing written under var/
else:
    _dev = dev_secrets(VAR_DIR) if DEBUG else {}

SECRET_KEY = require("SECRET_KEY", DEBUG) or _dev["SECRET_KEY"]
# Comma-separated Fernet keys: the first encrypts, all decrypt (rotation: prepend a new key,
# run `manage.py rotate_keys`, then drop the old one).
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS", [] if not DEBUG else [_dev["FIELD_ENCRYPTION_KEYS"]]
)
if not FIELD_ENCRYPTION_KEYS:
    raise ConfigError("FIELD_ENCRYPTION_KEYS is not set. It is required when DEBUG is false.")

# Upstream hosts trusted despite the production policy (https on public addresses only;
# portal/upstream_url.py): e.g. a Talkover proxy inside the deployment's network.
UPSTREAM_ALLOWED_HOSTS = env_list("UPSTREAM_ALLOWED_HOSTS", [])
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ConfigError("ALLOWED_HOSTS is not set. It is required when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The providers, by the dotted path of their package (`sync/providers/<name>/`, whose
# `provider.py` declares its ADAPTER): the registry loads these and no other.
SWITCHBOARD_PROVIDERS = [
    "sync.providers.talkover",
    "sync.providers.origins",
    "sync.providers.vapi",
    "sync.providers.retell",
]

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",  # django.contrib.admin with the scoped admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Form widgets render through TEMPLATES (FORM_RENDERER below), so templates/django/forms
    # may override Django's own.
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI served from our own static files: /api/docs/ works with no internet.
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "portal",
    "sync",
    "reports",
]

MIDDLEWARE = [
    "portal.logging.RequestIdMiddleware",
    "portal.health.HealthCheckMiddleware",
    # While the database is known frozen (portal/db_deadline.py): 503 before any connection.
    "portal.dbready.DatabaseDownMiddleware",
    # A member's own write pins their reads to the primary for a while (portal/replicas.py).
    "portal.replicas.PrimaryAfterWriteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A NUL in the path, query or form is a 400 before any view or lookup sees it.
    "portal.input_guard.RejectNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "portal.headers.NoStoreMiddleware",
    # The portal's own 404/403 pages in the reader's language, DEBUG or not.
    "portal.error_pages.PortalErrorPages",
    # Its process_exception turns a missing-table error (before migrate) into one line.
    "portal.dbready.NotMigratedMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
# templates/django/forms/widgets/select.html writes its options inline: Django's includes two
# templates per option, and the calls explorer's filters have ~170 options (a third of its
# render time). portal/form_renderer.py writes that select and the <input> family in Python,
# as their templates do (a third of a search page's template time again); the rest renders as
# TemplatesSetting does.
FORM_RENDERER = "portal.form_renderer.WidgetRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sync.health.environment_health",
                # Before the banner and saved views: it tells them whether to ask at all.
                "reports.pages.page_state.frame_parts",
                "reports.alerts.context.firing_alerts",
                "reports.saved_views.context.saved_views",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL.split(":", 1)[0].lower().startswith("sqlite"):
    # One engine everywhere: the figures are computed in PostgreSQL's SQL only.
    raise SystemExit("Error: DATABASE_URL names SQLite, which Switchboard does not run on; unset "
                     "it to use the embedded PostgreSQL under var/postgres, or point it at a "
                     "PostgreSQL 15 or newer.")
if not DATABASE_URL and envconfig.help_only:
    DATABASE_URL = envconfig.HELP_ONLY_DATABASE_URL  # `--help` connects to nothing
elif not DATABASE_URL:
    # No service to install: the project's own PostgreSQL under var/ (portal/embedded_db.py),
    # started by the first process that needs it and reused by the others; `make stop` stops it.
    from portal.embedded_db import ensure_running_or_exit

    DATABASE_URL = ensure_running_or_exit(VAR_DIR / "postgres")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# A database that does not answer fails requests within a known bound, never hangs them
# (PostgreSQL only; 0 turns one off): connecting gives up after DB_CONNECT_TIMEOUT_SECONDS
# (every process). In the web process (portal/wsgi.py) the server also cancels a statement
# after DB_STATEMENT_TIMEOUT_SECONDS and ends a transaction left idle for
# DB_IDLE_IN_TRANSACTION_SECONDS, and a frozen server (which runs no timer at all) is found
# by a probe after a statement has run 1 s and cut off (portal/db_deadline.py), or at the
# latest after DB_CLIENT_DEADLINE_SECONDS. A request then answers 503 "database unavailable"
# within about 1 s + the connect timeout (the probe's own), 3 s by default. Workers and
# commands (sync, rollups, migrate) are not bounded: their statements may rightly be long.
DB_CONNECT_TIMEOUT_SECONDS = int(env_str("DB_CONNECT_TIMEOUT_SECONDS", "2"))
# `manage.py backup` / `restore` (portal/backup.py) find pg_dump, pg_restore and psql of the
# server's major version under /usr/lib/postgresql/<major>/bin, or here, or on PATH.
PG_BIN_DIR = env_str("PG_BIN_DIR")
DB_STATEMENT_TIMEOUT_SECONDS = float(env_str("DB_STATEMENT_TIMEOUT_SECONDS", "20"))
DB_IDLE_IN_TRANSACTION_SECONDS = float(env_str("DB_IDLE_IN_TRANSACTION_SECONDS", "60"))
DB_CLIENT_DEADLINE_SECONDS = float(env_str(
    "DB_CLIENT_DEADLINE_SECONDS",
    str(DB_STATEMENT_TIMEOUT_SECONDS + 5 if DB_STATEMENT_TIMEOUT_SECONDS else 0)))
_options = DATABASES["default"].setdefault("OPTIONS", {})
_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT_SECONDS)
# A server that vanished from the network (no ACKs at all): keepalives find an idle
# connection dead after 10 + 3 x 3 s, and unacknowledged data fails after 10 s. (A frozen
# server still ACKs: the web process's watchdog, portal/db_deadline.py, covers that.)
for _name, _value in (("keepalives", 1), ("keepalives_idle", 10),
                      ("keepalives_interval", 3), ("keepalives_count", 3),
                      ("tcp_user_timeout", 10_000)):
    _options.setdefault(_name, _value)
# Server-side parameter binding with psycopg's automatic prepared statements: a statement run
# 5 times on one connection (kept CONN_MAX_AGE) is prepared there, so PostgreSQL parses it
# once and, where a generic plan costs no more than the custom ones, plans it once; the
# partitioned calls' page statements stay on custom plans (pruned at planning). Measured in
# docs/operations.md, "Benchmarks": less database CPU on every page and API endpoint.
# DB_PREPARED_STATEMENTS=false returns to client-side binding, for a pooler in transaction
# mode that cannot keep prepared statements (PgBouncer before 1.22, or without
# max_prepared_statements). DDL takes no bound parameters: it is written with literals.
# Behind a pooler in transaction mode (PgBouncer `pool_mode = transaction`,
# DB_TRANSACTION_POOLING=true; docs/operations.md, "Connections"), a client's next transaction
# may run on another server connection: nothing may outlive a transaction there. So no
# server-side cursors (Django's `.iterator()` would DECLARE … WITH HOLD on one connection and
# FETCH on another), no prepared statements unless the pooler keeps them (PgBouncer 1.21+ with
# max_prepared_statements: set DB_PREPARED_STATEMENTS=true), and no session settings from the
# web process (portal/db_deadline.py: the statement timeouts go on the database role instead).
DB_TRANSACTION_POOLING = env_bool("DB_TRANSACTION_POOLING", False)
if DB_TRANSACTION_POOLING:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", not DB_TRANSACTION_POOLING)
if DB_PREPARED_STATEMENTS:
    _options.setdefault("server_side_binding", True)
    _options.setdefault("prepare_threshold", 5)
# Read replicas (portal/replicas.py, docs/scaling.md): zero or more streaming standbys of the
# primary, comma-separated. Report reads (pages, the reports and Talkover-compatible APIs, CSV,
# the wallboard, summaries' figures) go to one whose replay lag is at most REPLICA_MAX_LAG
# seconds, everything else to the primary. A replica's lag is measured at most every
# REPLICA_CHECK_SECONDS per process; one found down or failing is left alone for
# REPLICA_RETRY_SECONDS; a member's own write pins their reads to the primary for
# REPLICA_PIN_SECONDS (at least the lag allowed plus a check's age: by then any replica read
# holds the write).
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS", [])
DATABASES.update(replica_databases(DATABASE_REPLICA_URLS, DATABASES["default"]))
DATABASE_ROUTERS = ["portal.replicas.ReplicaRouter"]
REPLICA_MAX_LAG = float(env_str("REPLICA_MAX_LAG", "30"))
REPLICA_CHECK_SECONDS = float(env_str("REPLICA_CHECK_SECONDS", "5"))
REPLICA_RETRY_SECONDS = float(env_str("REPLICA_RETRY_SECONDS", "30"))
REPLICA_PIN_SECONDS = float(env_str(
    "REPLICA_PIN_SECONDS", str(REPLICA_MAX_LAG + REPLICA_CHECK_SECONDS)))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, locks, request budgets ----------------------------------------------------------
# Without Redis we use Django's database cache: unlike a per-process memory cache it is shared
# by the web server, `manage.py sync` and workers, so locks and request budgets agree.
REDIS_URL = env_str("REDIS_URL")
# Connect and read timeout of every Redis call (cache, broker, RedBeat), in seconds; redis-py
# retries nothing when given a connection pool without a retry policy, as all three do.
REDIS_TIMEOUT_SECONDS = min(float(env_str("REDIS_TIMEOUT_SECONDS", "2")), 2.0)
REDIS_CLIENT_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
}
# After a failed optional cache call (report cache, throttles) a process skips the cache for
# this many seconds (portal/redis_guard.py).
REDIS_RETRY_AFTER_SECONDS = float(env_str("REDIS_RETRY_AFTER_SECONDS", "10"))
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, one client object per pool (portal/redis_cache.py).
            "BACKEND": "portal.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "sb"),
            # A Redis that does not answer must not hang requests or readiness checks: every
            # call gives up after REDIS_TIMEOUT_SECONDS, with no retry (portal/redis_guard.py
            # then skips the cache for a while where it is optional).
            "OPTIONS": REDIS_CLIENT_OPTIONS,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "switchboard_cache",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "sb"),
        }
    }
# Sessions: with Redis, read from it (at most SESSION_CACHE_SECONDS old) and written to the
# database (portal/auth/sessions.py); without, the database alone.
SESSION_ENGINE = "portal.auth.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"
SESSION_CACHE_SECONDS = int(env_str("SESSION_CACHE_SECONDS", "300"))

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# No broker configured: run tasks in process so the demo needs no other service.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Without a broker, queued tasks run on a thread of the process that queued them (a request
# answers at once; `portal/tasks_client.py`). Tests turn it off (tests/conftest.py).
TASKS_IN_BACKGROUND = env_bool("TASKS_IN_BACKGROUND", True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Long back-fills must not be redelivered while still running: retries are capped below this.
_VISIBILITY_TIMEOUT = int(env_str("CELERY_VISIBILITY_TIMEOUT", str(6 * 3600)))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # Every this many seconds a worker requeues messages that a dead (SIGKILLed, crashed)
    # worker took more than visibility_timeout ago.
    "unacked_restore_interval": int(env_str("CELERY_UNACKED_RESTORE_INTERVAL", "10")),
    "unacked_restore_throttle": 1,
    # The requeue runs under a Redis lock that expires after this many seconds (kombu: 300).
    # A worker killed while holding it stops every requeue until then: a fifth of the
    # visibility timeout at most, so a shortened timeout (the fleet test's 25 s) is not
    # followed by five minutes without requeues.
    "unacked_mutex_expire": max(5, min(300, _VISIBILITY_TIMEOUT // 5)),
    # A frozen or unreachable Redis: each broker call gives up within the timeout.
    **REDIS_CLIENT_OPTIONS,
}
# Queuing a task from a request ("sync now") makes one attempt, then reports failure to the
# caller (portal/tasks_client.py) instead of retrying for minutes: against a frozen Redis
# one retry already costs three timeouts. (redis-py replaces a pooled connection the server
# closed when it is taken from the pool, so a restarted Redis needs no retry.)
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 0, "interval_start": 0, "interval_step": 0, "interval_max": 0,
}
CELERY_TIMEZONE = "UTC"
# One queue per kind of work, each with its own workers (Procfile), so no kind waits behind
# another: long back-fills never delay the 15-minute incremental syncs, and the alert
# evaluations every sync queues never delay a summary.
CELERY_TASK_DEFAULT_QUEUE = "sync"
CELERY_TASK_ROUTES = {
    "sync.backfill_environment": {"queue": "backfill"},
    # Partition upkeep and retention moves can run for minutes: long work, like back-fills.
    "sync.maintain_partitions": {"queue": "backfill"},
    "sync.apply_call_retention": {"queue": "backfill"},
    "sync.*": {"queue": "sync"},
    "reports.evaluate_alerts": {"queue": "alerts"},
    "reports.*": {"queue": "email"},
}
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE
# Workers log through LOGGING below (JSON in production), not Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Stopping a worker (Procfile sets REMAP_SIGTERM=SIGQUIT): running tasks get this many
# seconds, then are cancelled and requeued (acks_late); sync runs resume where they stopped.
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 3.0
# No result backend, so no result clean-up: keeps beat's schedule to portal/schedule.py only.
CELERY_RESULT_EXPIRES = None
if REDIS_URL:
    # One beat schedules at a time: RedBeat (portal/beat.py) holds a Redis lock, extended
    # every tick (at most BEAT_MAX_LOOP_INTERVAL seconds apart); a second beat waits for it
    # and takes over within REDBEAT_LOCK_TIMEOUT seconds when the first dies. Entries still
    # come only from portal/schedule.py: copied into Redis at start, removed ones dropped.
    CELERY_BEAT_SCHEDULER = "portal.beat.Scheduler"
    CELERY_REDBEAT_REDIS_URL = REDIS_URL
    CELERY_REDBEAT_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "sb") + ":redbeat:"
    CELERY_BEAT_MAX_LOOP_INTERVAL = 5
    CELERY_REDBEAT_LOCK_TIMEOUT = 25
    CELERY_REDBEAT_REDIS_OPTIONS = dict(REDIS_CLIENT_OPTIONS)

# --- Email ----------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    _email = dj_email_url.parse(EMAIL_URL)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"]
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
    EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
    EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Switchboard <switchboard@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
# A running sync whose heartbeat is older than this is dead (its worker was killed). Its pulse
# thread beats every quarter of it (at most 10 s) whatever the run waits on, its environment
# lock lives exactly this long past the last beat, and its environment falls due this long
# after it (sync/pulse.py): the next dispatch tick resumes it, within this + a dispatch
# period (45 + 60 s) of the last heartbeat.
SYNC_STALE_HEARTBEAT_SECONDS = float(env_str("SYNC_STALE_HEARTBEAT_SECONDS", "45"))

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes first: it refuses a locked-out username or address before the password is tried.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, its lookup of the signed-in user compiled once per process.
    "portal.auth.backend.UserBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pt-br", "Português (Brasil)")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# Long dates read as the short ones everywhere Django writes a date itself (the admin).
FORMAT_MODULE_PATH = ["portal.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# Where `collectstatic` (`make serve`) writes and the web process serves from. Settable so that
# a second checkout, or a test of `make serve`, does not rewrite files a running process is
# reading (Django's hashed storage deletes a file and writes it again).
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.auth.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "portal.schema.TeamAwareAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Atomic in Redis (portal/throttling.py); fails open, with a log line, if Redis is down.
    "DEFAULT_THROTTLE_CLASSES": ["portal.throttling.AtomicUserRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/minute")  # per user (per IP if anonymous)
# Invalid bearer tokens per IP address before every bearer request from it gets a 429.
API_INVALID_TOKEN_RATE = env_str("API_INVALID_TOKEN_RATE", "20/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard API",
    "DESCRIPTION": "Historical reports over the calls Switchboard mirrors from its voice-agent "
                   "providers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are for members: no token, no schema (401).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The 400/401/403/404/429 every operation answers, documented in one place.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.schema.document_error_responses",
    ],
}

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Probes speak plain HTTP to the process; portal.health answers them before any redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
X_FRAME_OPTIONS = "DENY"

# --- Brute force (django-axes; portal/auth/lockout.py) -------------------------------------------
# Portal and admin login: after LOGIN_FAILURE_LIMIT failures for one username from one address,
# that pair is locked out for LOGIN_COOLOFF_MINUTES (a 429 page that says so); from elsewhere the
# account is only slowed (LOGIN_SLOWDOWN_SECONDS per attempt), so a password spray cannot lock
# its owner out; an IP address is locked only after LOGIN_ADDRESS_USERNAME_LIMIT different
# usernames failed from it (portal/auth/lockout.py), so one client cannot lock out everyone
# behind a shared proxy. Password-reset requests are limited too (portal/auth/password_reset.py).
AXES_FAILURE_LIMIT = int(env_str("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env_str("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_SLOWDOWN_SECONDS = float(env_str("LOGIN_SLOWDOWN_SECONDS", "3"))
AXES_HANDLER = "portal.auth.lockout.AccountLockoutHandler"
LOGIN_ADDRESS_USERNAME_LIMIT = int(env_str("LOGIN_ADDRESS_USERNAME_LIMIT", "20"))
# axes warns that addresses are not counted: portal/auth/lockout.py counts them (usernames per IP).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "portal.throttling.client_ip"  # REMOTE_ADDR: not spoofable
AXES_VERBOSE = False  # no start-up banner on every management command
AXES_DISABLE_ACCESS_LOG = True  # record failures only, not every successful login
AXES_SENSITIVE_PARAMETERS = ["password", "token"]
PASSWORD_RESET_RATE = env_str("PASSWORD_RESET_RATE", f"{AXES_FAILURE_LIMIT}/hour")
# Every password-reset request takes at least this long, so a known address (an email is
# rendered and sent) cannot be told from an unknown one by the response time.
PASSWORD_RESET_MIN_SECONDS = float(env_str("PASSWORD_RESET_MIN_SECONDS", "0.5"))

# --- Content-Security-Policy (django-csp) ---------------------------------------------------
# Only our own static files; no inline script (chart data travels through json_script, page
# behaviour lives in static/js/). Inline style attributes stay allowed (Django's admin uses
# them); nothing may frame the site.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logging --------------------------------------------------------------------------------
# JSON lines in production (or LOG_FORMAT=json), readable lines in development; every line
# carries request/organisation/environment ids and goes through secret redaction.
LOGGING = logging_config_from_env()

# --- Sync -----------------------------------------------------------------------------------
# Rows a sync stages before it merges and commits them with their cursor
# (sync/write/batch_writer.py; two batches are written at once, so 4,000 rows are in flight).
SYNC_BATCH_ROWS = int(env_str("SYNC_BATCH_ROWS", "2000"))
# A writer thread's statement that waits this long on a lock fails its run rather than hang
# it (two batches in flight could wait on each other, one of them in Python); 0: no limit.
SYNC_WRITER_LOCK_TIMEOUT_SECONDS = float(env_str("SYNC_WRITER_LOCK_TIMEOUT_SECONDS", "60"))
# The upstream request budget counts per this many seconds (sync/budget.py).
SYNC_BUDGET_WINDOW = float(env_str("SYNC_BUDGET_WINDOW", "60"))
# A sync task waits at most this long on a spent request budget, then re-queues the rest with
# a countdown and frees its worker for other tokens (default: a twelfth of the window).
SYNC_BUDGET_MAX_WAIT = float(env_str("SYNC_BUDGET_MAX_WAIT") or SYNC_BUDGET_WINDOW / 12)
# Webhook-triggered rounds spend at most this share of a token's budget (the schedule keeps
# the rest); rounds are spaced so they keep within it (sync/webhooks/pacing.py).
SYNC_WEBHOOK_BUDGET_SHARE = float(env_str("SYNC_WEBHOOK_BUDGET_SHARE", "0.4"))
# sync.dispatch runs every this many seconds and queues at most this many syncs per queue,
# less those still waiting there (the longest due first: sync/tasks.py).
SYNC_DISPATCH_SECONDS = DISPATCH_SECONDS
SYNC_DISPATCH_BATCH = int(env_str("SYNC_DISPATCH_BATCH", "1000"))
# PostgreSQL call partitions (sync/partitions/ddl.py, docs/partitioning.md): months created ahead
# of today by the daily maintenance and by `migrate`, and months before today `migrate`
# creates on a fresh database (the sync creates any other month it writes).
CALL_PARTITIONS_AHEAD = int(env_str("CALL_PARTITIONS_AHEAD", "3"))
CALL_PARTITIONS_BEHIND = int(env_str("CALL_PARTITIONS_BEHIND", "12"))
# Calls moved per transaction when an organisation changes its retention tier.
CALL_RETENTION_MOVE_BATCH = int(env_str("CALL_RETENTION_MOVE_BATCH", "5000"))
# Every upstream answer has a total deadline (connect + headers + whole body) and a cap on its
# decompressed size (sync/providers/transport.py): a page, and a streamed history (Origins).
UPSTREAM_RESPONSE_DEADLINE_SECONDS = float(env_str("UPSTREAM_RESPONSE_DEADLINE_SECONDS", "60"))
UPSTREAM_MAX_RESPONSE_BYTES = int(env_str("UPSTREAM_MAX_RESPONSE_BYTES", str(16 * 1024 * 1024)))
# A streamed answer (an Origins agent's whole history) must end within this, whatever the
# server does (a drip-fed or endless body fails the run at it); per provider when set in
# UPSTREAM_STREAM_DEADLINES ("origins=600": a provider whose real histories take longer).
UPSTREAM_STREAM_DEADLINE_SECONDS = float(env_str("UPSTREAM_STREAM_DEADLINE_SECONDS", "300"))
UPSTREAM_STREAM_DEADLINES = env_seconds_by_name("UPSTREAM_STREAM_DEADLINES")
# One run's whole reading of one stream ends by this, however slowly the pages come (each
# within its own deadline above): the run fails naming what it read, keeps what it wrote and
# the next run continues (sync/providers/deadline.py, RunDeadline); per provider when set in
# SYNC_STREAM_DEADLINES ("origins=1800").
# Requests a minute of a Vapi environment that sets none of its own (Vapi documents no rate:
# sync/providers/vapi/spec.py); an environment's own figure wins.
VAPI_REQUESTS_PER_MINUTE = int(env_str("VAPI_REQUESTS_PER_MINUTE", "60"))
SYNC_STREAM_DEADLINE_SECONDS = float(env_str("SYNC_STREAM_DEADLINE_SECONDS", "600"))
SYNC_STREAM_DEADLINES = env_seconds_by_name("SYNC_STREAM_DEADLINES")
UPSTREAM_MAX_STREAM_BYTES = int(env_str("UPSTREAM_MAX_STREAM_BYTES", str(1024 * 1024 * 1024)))
UPSTREAM_MAX_STREAM_RECORDS = int(env_str("UPSTREAM_MAX_STREAM_RECORDS", "500000"))
# One record of a stream, in characters of its JSON: a longer one is skipped and quarantined.
UPSTREAM_MAX_RECORD_CHARS = int(env_str("UPSTREAM_MAX_RECORD_CHARS", str(4 * 1024 * 1024)))
# Answers only their status matters of (webhook registration, alert webhooks): short bounds.
OUTBOUND_HOOK_DEADLINE_SECONDS = float(env_str("OUTBOUND_HOOK_DEADLINE_SECONDS", "10"))
OUTBOUND_HOOK_MAX_BYTES = int(env_str("OUTBOUND_HOOK_MAX_BYTES", str(64 * 1024)))

# Erasing callers (sync/privacy/): the key of the numbers' keyed hash (tombstones, erasure
# logs, anonymised numbers). Default: derived from SECRET_KEY; set it in production so a
# SECRET_KEY rotation keeps old tombstones matching. Calls per transaction of the daily
# per-kind retention pass.
PRIVACY_HASH_KEY = env_str("PRIVACY_HASH_KEY", "")
PRIVACY_RETENTION_BATCH = int(env_str("PRIVACY_RETENTION_BATCH", "1000"))
