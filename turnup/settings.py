"""Django settings for turnup. Every value comes from the environment (see core/env.py)."""

import os
from pathlib import Path

import dj_database_url

from turnup.core.env import SettingError, derived_urls, read_settings
from turnup.core.observability import init_sentry, logging_config

ENV = read_settings()
URLS = derived_urls(ENV)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(ENV["TURNUP_DATA_DIR"]).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = ENV["DEBUG"]
SECRET_KEY = ENV["SECRET_KEY"]
if not SECRET_KEY:
    if not DEBUG:
        raise SettingError("SECRET_KEY", "must be set when DEBUG is off")
    SECRET_KEY = "insecure-debug-only-key"
ALLOWED_HOSTS = ENV["ALLOWED_HOSTS"]
# Keys of the credentials encrypted at rest (turnup/dcim/secrets.py). Without one, only a
# debug or test process may run, on a key derived from SECRET_KEY.
SECRETS_KEYS = ENV["TURNUP_SECRETS_KEY"]
if not SECRETS_KEYS:
    if not (DEBUG or os.environ.get("PYTEST_VERSION")):
        raise SettingError("TURNUP_SECRETS_KEY", "must be set when DEBUG is off")
    SECRETS_KEYS = [f"derived-from-secret-key:{SECRET_KEY}"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "turnup.core",
    "turnup.dcim",
    "turnup.ipam",
    "turnup.routing",
    "turnup.blueprints",
    "turnup.checks",
    "turnup.configs",
    "turnup.provisioning",
    "turnup.events",
    "turnup.lab",
    "turnup.designs",
    "turnup.web",
]

MIDDLEWARE = [
    "turnup.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "turnup.core.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "turnup.core.middleware.MetricsMiddleware",
]

ROOT_URLCONF = "turnup.urls"
WSGI_APPLICATION = "turnup.wsgi.application"
ASGI_APPLICATION = "turnup.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(URLS["DATABASE_URL"], conn_max_age=60)}
# PostgreSQL connections come from a pool per process (psycopg_pool): a worker runs a thread
# per router, and a connection per thread took two hundred routers past PostgreSQL's 100
# connections. Closing a connection gives it back to the pool, which keeps it open: a step
# does not start a server process of its own (Celery's Django fixup closes connections
# around every task). At most DB_POOL_SIZE per process; a thread waits for one.
DB_POOL_SIZE = ENV["TURNUP_DB_POOL_SIZE"]
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DB_POOL_SIZE),
        "max_size": DB_POOL_SIZE,
        "max_idle": 60,
        "timeout": 60,
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several threads (web, worker) share the file: wait for a lock instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = ENV["REDIS_URL"]
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "media"

S3_ENDPOINT_URL = ENV["S3_ENDPOINT_URL"]
if S3_ENDPOINT_URL:
    DEFAULT_FILE_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": S3_ENDPOINT_URL,
            "bucket_name": ENV["S3_BUCKET"],
            "access_key": ENV["S3_ACCESS_KEY_ID"],
            "secret_key": ENV["S3_SECRET_ACCESS_KEY"],
            "region_name": ENV["S3_REGION"],
            "addressing_style": "path",
            "file_overwrite": True,
        },
    }
else:
    DEFAULT_FILE_BACKEND = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": DEFAULT_FILE_BACKEND,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "turnup.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "turnup.core.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "turnup.core.schema.TurnupAutoSchema",
    "EXCEPTION_HANDLER": "turnup.core.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "turnup API",
    "DESCRIPTION": "Design network sites and turn up their routers over the console server.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CELERY_BROKER_URL = URLS["CELERY_BROKER_URL"]
CELERY_RESULT_BACKEND = URLS["CELERY_RESULT_BACKEND"]
if CELERY_RESULT_BACKEND.startswith("db+"):
    # a database result backend settles chords by polling (celery.chord_unlock), 1 s apart
    CELERY_RESULT_CHORD_RETRY_INTERVAL = 0.2
CELERY_TASK_ALWAYS_EAGER = ENV["CELERY_TASK_ALWAYS_EAGER"]
CELERY_WORKER_CONCURRENCY = ENV["TURNUP_WORKER_CONCURRENCY"]
# verification's wait for LLDP neighbours (provisioning.services._step_verify)
TURNUP_LLDP_WAIT_SECONDS = ENV["TURNUP_LLDP_WAIT_SECONDS"]
TURNUP_IOS_RELOAD_TIMER = ENV["TURNUP_IOS_RELOAD_TIMER"]

KAFKA_BOOTSTRAP_SERVERS = ENV["KAFKA_BOOTSTRAP_SERVERS"]
KAFKA_SESSION_TIMEOUT_SECONDS = ENV["KAFKA_SESSION_TIMEOUT_SECONDS"]
EVENTS_RETENTION_DAYS = ENV["EVENTS_RETENTION_DAYS"]
EVENTS_PRUNE_INTERVAL_SECONDS = ENV["EVENTS_PRUNE_INTERVAL_SECONDS"]

LOGGING = logging_config(fmt=ENV["LOG_FORMAT"], level=ENV["LOG_LEVEL"])
init_sentry(dsn=ENV["SENTRY_DSN"], environment=ENV["SENTRY_ENVIRONMENT"])
