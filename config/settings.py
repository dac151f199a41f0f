"""Tillbridge settings, read from the environment.

Development defaults are safe and need nothing installed: SQLite under var/, the Fulfil sandbox
served by this same process, django-q2 on the ORM broker. Production sets DEBUG=false and must then
provide SECRET_KEY, ALLOWED_HOSTS and a PostgreSQL DATABASE_URL.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TILLBRIDGE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env(name: str, default: str = "") -> str:
    """A setting from the environment; unset and empty both mean the default."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_decimal(name: str, default: str) -> Decimal:
    return Decimal(os.environ.get(name) or default)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-used-when-debug-is-off"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_q",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "integration",
    "integration.sandbox",
    "integration.possim",
    "mappings",
    "exceptions",
    "reconciliation",
    # Last, so its post_migrate hook (role groups) runs after every app's permissions exist.
    "accounts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'tillbridge.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web process and the worker read while the other writes; the timeout rides out
    # short write locks instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security (production) ---------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Webhook bodies are read raw by our views; this caps what Django will buffer for everything else.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
WEBHOOK_MAX_BODY_BYTES = env_int("WEBHOOK_MAX_BODY_BYTES", 1024 * 1024)
# Replay protection (issue 9): a validly signed delivery whose platform event time is older than the
# platform's own retry horizon plus a margin is a replay, not a retry. Shopify retries for 4 h,
# Square for 24 h; the margin absorbs clock skew and the platform's own queueing.
WEBHOOK_REPLAY_HORIZON_SHOPIFY_SECONDS = env_int("WEBHOOK_REPLAY_HORIZON_SHOPIFY_SECONDS", 5 * 3600)
WEBHOOK_REPLAY_HORIZON_SQUARE_SECONDS = env_int("WEBHOOK_REPLAY_HORIZON_SQUARE_SECONDS", 26 * 3600)
# POS ingestion (issue 4). POS_SIMULATOR_INPROCESS: the POS API client reaches /sandbox/pos/ through
# httpx.WSGITransport (tests, in-process demo). POS_PROCESS_INLINE: process events right after the
# webhook commits instead of via django-q (demo without a worker; never in production).
POS_SIMULATOR_INPROCESS = env_bool("POS_SIMULATOR_INPROCESS", False)
POS_PROCESS_INLINE = env_bool("POS_PROCESS_INLINE", False)
POS_API_TIMEOUT_SECONDS = env_int("POS_API_TIMEOUT_SECONDS", 10)
POS_MAX_PROCESS_ATTEMPTS = env_int("POS_MAX_PROCESS_ATTEMPTS", 20)
POS_POLL_OVERLAP_MINUTES = env_int("POS_POLL_OVERLAP_MINUTES", 15)

# --- Cache: shared by every process when Redis is there (rate limiter, login throttling) -------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tillbridge_cache",
        }
    }

# --- django-q2 -------------------------------------------------------------------------------
# timeout < retry so a task that hangs is killed before the broker hands it to another worker;
# max_attempts is finite so a poisoned task cannot loop forever (the pipeline's own state machine,
# not the broker, owns retries of Fulfil calls).
Q_CLUSTER = {
    "name": "tillbridge",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 240),
    "retry": env_int("Q_RETRY", 300),
    "max_attempts": env_int("Q_MAX_ATTEMPTS", 3),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": env_int("Q_SAVE_LIMIT", 1000),
    "queue_limit": 50,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# --- Fulfil ----------------------------------------------------------------------------------
# With no subdomain or base URL set, the client talks to the sandbox that this project serves at
# /sandbox/fulfil/api/v2/ (in-process in tests, over loopback in the demo).
FULFIL_SUBDOMAIN = env("FULFIL_SUBDOMAIN")
FULFIL_BASE_URL = env("FULFIL_BASE_URL") or (
    f"https://{FULFIL_SUBDOMAIN}.fulfil.io/api/v2" if FULFIL_SUBDOMAIN else ""
)
FULFIL_API_KEY = env("FULFIL_API_KEY")
FULFIL_OAUTH_TOKEN = env("FULFIL_OAUTH_TOKEN")
FULFIL_SANDBOX_ENABLED = env_bool("FULFIL_SANDBOX_ENABLED", DEBUG)
# Where this Tillbridge is served; the demo's worker reaches the sandbox (and the POS simulator) here.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
FULFIL_SANDBOX_URL = env("FULFIL_SANDBOX_URL", f"{SITE_URL}/sandbox/fulfil/api/v2")
FULFIL_SANDBOX_API_KEY = env("FULFIL_SANDBOX_API_KEY", "sandbox-key")
# True: get_client() drives the sandbox in-process through httpx's WSGI transport (tests turn it on).
FULFIL_SANDBOX_INPROCESS = env_bool("FULFIL_SANDBOX_INPROCESS", False)
# How long the sandbox's "commit then time out" fault holds a response over a real socket; must
# exceed the client's read timeout.
FULFIL_SANDBOX_HANG_SECONDS = float(env("FULFIL_SANDBOX_HANG_SECONDS", "35"))
FULFIL_CONNECT_TIMEOUT = float(env("FULFIL_CONNECT_TIMEOUT", "5"))
FULFIL_READ_TIMEOUT = float(env("FULFIL_READ_TIMEOUT", "30"))
FULFIL_RATE_LIMIT_PER_SECOND = float(env("FULFIL_RATE_LIMIT_PER_SECOND", "8"))
# Reconciliation reads a day's sales on this many threads (the warehouses split into shards), all
# under the one shared rate limit above: it hides round trips, it does not raise the request rate.
RECONCILIATION_FULFIL_CONCURRENCY = env_int("RECONCILIATION_FULFIL_CONCURRENCY", 4)
FULFIL_CHANNEL_CODE = env("FULFIL_CHANNEL_CODE", "POS")

# --- Sync engine -----------------------------------------------------------------------------
SYNC_INVENTORY_INTERVAL_MINUTES = env_int("SYNC_INVENTORY_INTERVAL_MINUTES", 2)
SYNC_BATCH_SIZE = env_int("SYNC_BATCH_SIZE", 500)  # sales per Fulfil create call
SYNC_MAX_ATTEMPTS_BEFORE_ALERT = env_int("SYNC_MAX_ATTEMPTS_BEFORE_ALERT", 5)
SYNC_RETURN_GRACE_MINUTES = env_int("SYNC_RETURN_GRACE_MINUTES", 60)
SYNC_TAX_TOLERANCE = env_decimal("SYNC_TAX_TOLERANCE", "0.01")
# Largest tax variance (per transaction) finance may accept from the workbench with an adjustment line.
TAX_ACCEPT_LIMIT = env_decimal("TAX_ACCEPT_LIMIT", "5.00")
# Unlinked returns: how far back to look for the original sale.
RETURN_MATCH_WINDOW_DAYS = env_int("RETURN_MATCH_WINDOW_DAYS", 60)
# Engine (issue 5): how far POS totals may be off from their parts (rounding), the Fulfil product
# that custom-sale lines post as (empty: they are SKU exceptions), claims and retry backoff.
SYNC_TOTALS_TOLERANCE = env_decimal("SYNC_TOTALS_TOLERANCE", "0.02")
SYNC_CUSTOM_SALE_PRODUCT_CODE = env("SYNC_CUSTOM_SALE_PRODUCT_CODE")
SYNC_CLAIM_TIMEOUT_MINUTES = env_int("SYNC_CLAIM_TIMEOUT_MINUTES", 10)
SYNC_RETRY_BASE_SECONDS = env_int("SYNC_RETRY_BASE_SECONDS", 30)
SYNC_RETRY_MAX_SECONDS = env_int("SYNC_RETRY_MAX_SECONDS", 1800)
SYNC_MAX_MINUTES_BEFORE_ALERT = env_int("SYNC_MAX_MINUTES_BEFORE_ALERT", 30)
SYNC_LANE_TIME_BUDGET_SECONDS = env_int("SYNC_LANE_TIME_BUDGET_SECONDS", 120)
SYNC_TENDER_INTERVAL_MINUTES = env_int("SYNC_TENDER_INTERVAL_MINUTES", 60)
SYNC_TENDER_CLOSE_HOUR_LOCAL = env_int("SYNC_TENDER_CLOSE_HOUR_LOCAL", 2)
SYNC_POLL_INTERVAL_MINUTES = env_int("SYNC_POLL_INTERVAL_MINUTES", 10)
CATALOG_SYNC_INTERVAL_MINUTES = env_int("CATALOG_SYNC_INTERVAL_MINUTES", 30)
RECONCILIATION_HOUR_LOCAL = env_int("RECONCILIATION_HOUR_LOCAL", 4)

# --- Alerts and e-mail -------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "tillbridge@localhost")
ALERT_EMAILS = env_list("ALERT_EMAILS")
ALERT_WEBHOOK_URL = env("ALERT_WEBHOOK_URL")  # Slack-compatible incoming webhook
ALERT_DELAY_GROUP_AGE_MINUTES = env_int("ALERT_DELAY_GROUP_AGE_MINUTES", 60)
ALERT_OLDEST_UNPOSTED_MINUTES = env_int("ALERT_OLDEST_UNPOSTED_MINUTES", 120)

# --- REST API --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.base.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.base.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tillbridge API",
    "DESCRIPTION": "POS to Fulfil integration: transactions, exceptions, maps, reconciliation.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Separate request/response components, so read-only fields are not demanded on input.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.base.add_error_responses",
    ],
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

# --- Logging: one line per event, never a secret ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django_q": {"level": env("Q_LOG_LEVEL", "INFO")},
    },
}
