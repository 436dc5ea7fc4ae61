"""Project settings, read from the environment (see README "Configuration")."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from config.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_rate,
    env_secret,
    env_str,
    env_subset,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=False)
_INSECURE_KEY = "django-insecure-local-development-key-set-SECRET_KEY-in-production"
SECRET_KEY = env_secret("SECRET_KEY") or _INSECURE_KEY
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Production hardening: HTTPS_ONLY=1 behind a TLS-terminating proxy.
HTTPS_ONLY = env_bool("HTTPS_ONLY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS_ONLY else None
SECURE_SSL_REDIRECT = HTTPS_ONLY
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS_ONLY else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = HTTPS_ONLY
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Every page loads its scripts, styles, fonts and images from this server only, with no inline
# script, style or event handler (django-csp; see README "Security headers"). Data URIs are
# allowed for images: the TOTP set-up page shows its QR code as one.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no page of ours uses, switched off for every answer (common.middleware).
PERMISSIONS_POLICY: dict[str, tuple[str, ...]] = dict.fromkeys(
    (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    ),
    (),
)

INSTALLED_APPS = [
    "common.admin_apps.SuperuserAdminConfig",  # django.contrib.admin, for superusers only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "common",
    "crm",
    "billing",
    "orders",
    "partners",
    "selfcare",
    "tickets",
]

MIDDLEWARE = [
    "common.middleware.ApiErrorShapeMiddleware",
    "common.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "common.mfa_gate.TwoFactorGateMiddleware",
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
                "common.context_processors.frontend",
            ],
        },
    },
]

# Database: SQLite for a newcomer, PostgreSQL (DATABASE_URL) in CI and production.
DATABASE_URL = env_str("DATABASE_URL")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis carries Celery's queues and the shared cache (login throttling needs a shared cache).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "telecrm"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Email (password resets now; bills and notifications later). Without EMAIL_HOST, messages are
# written to the console so a newcomer's password reset still works.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@telecrm.invalid")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "common.auth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# Do not mail addresses that have no account (it could be used to spam strangers).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
# Repeated failed sign-ins are throttled per address and per account (allauth, on the cache).
ACCOUNT_RATE_LIMITS = {
    "login_failed": env_str("LOGIN_FAILED_RATE_LIMIT", "10/m/ip,5/5m/key"),
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "TeleCRM")
# Roles that must set up two-factor sign-in (TOTP) before they use their front end, the Django
# admin or the API with their session (common.mfa_gate); a superuser counts as an admin. Staff by
# default; empty requires it of nobody (what `manage.py start` does for the demo).
MFA_REQUIRED_ROLES = env_subset(
    "MFA_REQUIRED_ROLES",
    ["csr", "supervisor", "admin"],
    {"csr", "supervisor", "admin", "reseller", "subscriber"},
)

# The client's address (common.http.client_ip; sign-in and API throttling): behind
# TRUSTED_PROXY_COUNT reverse proxies of our own it is the Nth entry from the right of
# X-Forwarded-For; with 0 the header is ignored, since anyone can send it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("OPERATOR_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# The operator: numbering plan, currency and money precision.
OPERATOR_NAME = env_str("OPERATOR_NAME", "Northwind Mobile")
OPERATOR_COUNTRY = env_str("OPERATOR_COUNTRY", "GB")
OPERATOR_MCC = env_str("OPERATOR_MCC", "234")
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "GBP")
CURRENCIES = env_list("CURRENCIES", ["GBP", "EUR", "USD"])
# Amounts are kept at rating precision (MONEY_DECIMAL_PLACES) and rounded to the currency's
# minor unit once, when a charge is posted or an invoice line is made, by this one named rule
# (a rounding mode of Python's decimal module).
MONEY_DECIMAL_PLACES = 4
MONEY_ROUNDING = env_choice(
    "MONEY_ROUNDING",
    "ROUND_HALF_UP",
    {"ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_HALF_DOWN", "ROUND_DOWN", "ROUND_UP"},
)
MONEY_LOCALE = env_str("MONEY_LOCALE", "en_GB")

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_choice(
            "STATICFILES_BACKEND",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
            {
                "whitenoise.storage.CompressedManifestStaticFilesStorage",
                "django.contrib.staticfiles.storage.StaticFilesStorage",
            },
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")) or BASE_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
KYC_DOCUMENT_MAX_BYTES = env_int("KYC_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "common.api_keys.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Bodies are JSON only (a form cannot say null, a number or a nested object as the schema
    # does); anything else answers 415.
    "DEFAULT_PARSER_CLASSES": ["common.parsers.SafeJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": [
        "common.throttles.ApiAnonThrottle",
        "common.throttles.ApiUserThrottle",
    ],
}
# Requests per caller: an API key or a signed-in person, and (without credentials) per client
# address. Over the rate the API answers 429 with Retry-After.
API_RATE_USER = env_rate("API_RATE_USER", "3000/minute")
API_RATE_ANONYMOUS = env_rate("API_RATE_ANONYMOUS", "120/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "TeleCRM API",
    "DESCRIPTION": "Customers, accounts, subscribers, the product catalog and orders of a "
    "mobile operator.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "common.idempotency.schema_add_idempotency_header",
        "common.schema.schema_document_error_statuses",
        "common.schema.schema_document_text_rules",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A 401, 403, 404 or 405 is an expected refusal: one line, no traceback (5xx keep theirs).
    "filters": {"expected_refusals": {"()": "common.logging.ExpectedRefusalFilter"}},
    "loggers": {"django.request": {"filters": ["expected_refusals"]}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24, minimum=1)

# Number and SIM inventory (orders/inventory): reservations expire, terminated numbers rest in
# quarantine before they are sold again, and imports are bounded.
INVENTORY_RESERVATION_MINUTES = env_int("INVENTORY_RESERVATION_MINUTES", 30, minimum=1)
# Operators a number may be ported in from (shown as a list on the new-line form).
PORT_IN_DONOR_OPERATORS = env_list(
    "PORT_IN_DONOR_OPERATORS",
    [
        "EE",
        "O2",
        "Vodafone",
        "Three",
        "Sky Mobile",
        "giffgaff",
        "Tesco Mobile",
        "iD Mobile",
        "Lebara",
        "Lyca Mobile",
        "Other",
    ],
)
MSISDN_QUARANTINE_DAYS = env_int("MSISDN_QUARANTINE_DAYS", 90, minimum=0)
MSISDN_RANGE_MAX = env_int("MSISDN_RANGE_MAX", 100_000, minimum=1)
SIM_BATCH_MAX_ROWS = env_int("SIM_BATCH_MAX_ROWS", 100_000, minimum=1)
SIM_BATCH_MAX_BYTES = env_int("SIM_BATCH_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# DRF's throttles find the client with the same trusted proxy count (left unset, DRF would
# trust every X-Forwarded-For).
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

# Usage records (billing.usage): how destinations are classed and what ingestion keeps.
# Prefixes are E.164 digits without "+"; on-net numbers are the operator's own ranges.
USAGE_ONNET_PREFIXES = env_list("USAGE_ONNET_PREFIXES", ["447400", "447401", "447402"])
USAGE_PREMIUM_PREFIXES = env_list("USAGE_PREMIUM_PREFIXES", ["449", "4487", "4470"])
USAGE_SHORT_CODE_MAX_DIGITS = 6
# Visited network MCC -> roaming zone name (zone-scoped allowances and roaming packs).
USAGE_ROAMING_ZONES: dict[str, str] = {
    **dict.fromkeys(("202", "204", "206", "208", "214", "222", "232", "262", "268"), "eu"),
    **dict.fromkeys(("238", "240", "242", "244", "260", "272", "278", "280", "284"), "eu"),
    "310": "world",
    "311": "world",
    "302": "world",
    "505": "world",
    "440": "world",
}
USAGE_ROAMING_DEFAULT_ZONE = "world"
USAGE_STORE_MESSAGE_CONTENT = env_bool("USAGE_STORE_MESSAGE_CONTENT", False)
# The original row is always kept for a rejected record (to show and recycle it); for a rated
# one only when this is on: its parsed fields are what billing and disputes read, and the raw
# text would double the size of the largest table.
USAGE_KEEP_RAW_OF_RATED = env_bool("USAGE_KEEP_RAW_OF_RATED", False)
# Days a back-office upload's stored copy is kept after its batch is done.
USAGE_UPLOAD_RETENTION_DAYS = env_int("USAGE_UPLOAD_RETENTION_DAYS", 7, minimum=0)
USAGE_CHUNK_SIZE = env_int("USAGE_CHUNK_SIZE", 20_000, minimum=100)

# Balance adjustments larger than this (either way) wait for a supervisor's approval: money in
# the bucket's currency (whole units), voice in seconds, messages, data in bytes.
# Online charging sessions: what an initiate or update reserves when the network names no
# quota (voice seconds, data bytes), and how long a reservation lasts without an update before
# the expiry task releases it.
CHARGING_DEFAULT_QUOTA = {
    "voice": env_int("CHARGING_DEFAULT_VOICE_SECONDS", 300, minimum=1),
    "data": env_int("CHARGING_DEFAULT_DATA_BYTES", 10_000_000, minimum=1),
}
CHARGING_RESERVATION_SECONDS = env_int("CHARGING_RESERVATION_SECONDS", 600, minimum=10)

BALANCE_ADJUSTMENT_APPROVAL_LIMITS = {
    "money": env_int("BALANCE_ADJUSTMENT_APPROVAL_LIMIT", 20, minimum=0),
    "seconds": env_int("BALANCE_ADJUSTMENT_APPROVAL_LIMIT_SECONDS", 3600, minimum=0),
    "messages": env_int("BALANCE_ADJUSTMENT_APPROVAL_LIMIT_MESSAGES", 100, minimum=0),
    "bytes": env_int("BALANCE_ADJUSTMENT_APPROVAL_LIMIT_BYTES", 1_000_000_000, minimum=0),
}
# Seconds a start time may lie ahead of the clock before the record is refused.
USAGE_FUTURE_TOLERANCE_SECONDS = 300
# Dotted path of the callable that maps a line's plan to (tariff_version_id, engine, currency).
USAGE_TARIFF_RESOLVER = env_str(
    "USAGE_TARIFF_RESOLVER", "billing.rating.timeline.usage_tariff_for_plan"
)
