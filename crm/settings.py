"""Retain settings, 12-factor.

Every secret and address comes from the environment. With nothing set, the project runs as a development demo:
the embedded PostgreSQL that ``make demo`` starts under ``var/postgres`` (crm/embedded_db.py), a filesystem broker
for a real Celery worker and beat, console email. ``DJANGO_ENV=production`` turns on the production shape, which
refuses to start without its secrets.
"""

from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from crm.embedded_db import running_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, production or test, not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"


def _required(name: str) -> str:
    """Read a variable production cannot run without, failing with its name."""
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return value


def _seconds(name: str, default: int) -> int:
    """A positive whole number of seconds, failing with the variable's name when it is anything else."""
    try:
        value = env.int(name, default=default)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number of seconds, not {env.str(name)!r}") from error
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be a positive number of seconds, not {value}")
    return value


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters with at least 5 distinct ones")
    DEBUG = False
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
    DATABASES = {"default": env.db_url_config(_required("DATABASE_URL"))}
    REDIS_URL = _required("REDIS_URL")
else:
    # A development key is fine: it signs nothing that outlives the demo.
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-retain-7f3a9c2e1b4d6a8f0e2c4b6d8a0f2e4c")
    DEBUG = env.bool("DEBUG", default=DJANGO_ENV == "development")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
    # One engine everywhere: an explicit DATABASE_URL, else the demo's embedded PostgreSQL while it runs, else a
    # backend whose first query says how to get a database (commands that need none keep working).
    _database_url = env.str("DATABASE_URL", default="") or (running_url() if DJANGO_ENV == "development" else None)
    DATABASES = {
        "default": env.db_url_config(_database_url) if _database_url else {"ENGINE": "crm.no_database", "NAME": ""}
    }
    REDIS_URL = env.str("REDIS_URL", default="")

DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, whose health check asks the socket before sending SELECT 1 (crm/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "crm.postgresql"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "shop",
    "customers",
    "orders",
    "scoring",
    "messaging",
    "loyalty",
    "feedback",
    "analytics",
    "crm",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "shop.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "shop.input_hygiene.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before LocaleMiddleware: the language a request activates is put back after its response.
    "shop.middleware.RequestLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shop.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After messages (a session that ends says why) and before the second factor (an ended session asks for none).
    "shop.session_lifetime.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shop.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# An API call that carries an integration token goes through MIDDLEWARE without these (crm.handlers): they serve
# browsers (static files, sessions, CSRF, the staff's sign-in, language, lifetime, second factor, messages, lockout),
# and the token alone decides who calls.
BROWSER_ONLY_MIDDLEWARE = {
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "shop.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "shop.session_lifetime.SessionLifetimeMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shop.middleware.SecondFactorMiddleware",
    "axes.middleware.AxesMiddleware",
}
TOKEN_API_MIDDLEWARE = [path for path in MIDDLEWARE if path not in BROWSER_ONLY_MIDDLEWARE]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"
AUTH_USER_MODEL = "shop.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "shop.context_processors.shop_context",
            ],
        },
    },
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: lock a username + address pair after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# A wrong password during a lockout is refused without being counted, so the cool-off runs from the failure that
# locked the pair: otherwise one bad try every few minutes from anyone who knows the owner's username would keep the
# owner locked out for ever (axes' default restarts the cool-off on every try).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# How many reverse proxies of our own stand in front of the app (0: clients connect directly). Decides which entry
# of X-Forwarded-For is the visitor's address, so a lockout hits one visitor and not everyone behind the proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "shop.client_ip.client_ip"

# Sessions: signed out after SESSION_IDLE_TIMEOUT seconds without a request and SESSION_ABSOLUTE_AGE seconds after
# signing in, whatever the activity (shop.session_lifetime); the cookie itself lives no longer than the second.
SESSION_IDLE_TIMEOUT = _seconds("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_ABSOLUTE_AGE = _seconds("SESSION_ABSOLUTE_AGE", 12 * 60 * 60)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_AGE

# Second factor (django-otp): the name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Retain")

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "media/"
# Days an uploaded import file (and its error report) is kept before the nightly task deletes it: the rows are in
# the database by then, and a file full of names and phones must not outlive an erasure (docs/operations.md).
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=30)
if IMPORT_FILE_RETENTION_DAYS <= 0:
    raise ImproperlyConfigured(
        f"IMPORT_FILE_RETENTION_DAYS must be a positive number of days, not {IMPORT_FILE_RETENTION_DAYS}"
    )

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Email -------------------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25" if PRODUCTION else "consolemail://")
vars().update(EMAIL_CONFIG)
# Whether the shop's mail provider drops a second message with the same Message-ID (SMTP itself does not): only
# then does messaging send a message left "unknown" by a dead worker again, with the same id.
MESSAGING_EMAIL_DEDUPLICATES = env.bool("MESSAGING_EMAIL_DEDUPLICATES", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Retain <no-reply@localhost>")
# Without it a mail server that accepts the connection and then says nothing holds the sending worker until the
# task's time limit kills it mid-batch; with it the send fails in seconds and the outbox retries that message later.
EMAIL_TIMEOUT = _seconds("EMAIL_TIMEOUT", 10)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ------------------------------------------------------------------------------------------------------
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A Redis that does not accept the connection fails a send in a second instead of the system's TCP timeout.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600, "socket_connect_timeout": 1}
else:
    # The demo's embedded broker: kombu's filesystem transport gives a real worker and beat with no server.
    # The folders must exist before the first message; creating them here serves web, worker and beat alike.
    for folder in ("queue", "processed", "results", "control"):
        (CELERY_FILESYSTEM_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{CELERY_FILESYSTEM_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "processed_folder": str(CELERY_FILESYSTEM_DIR / "processed"),
        # Without it kombu keeps its exchange table in ./control, wherever the process was started.
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
# No caller reads a task's return value (progress lives in PostgreSQL rows), and a result kept makes every send from
# a web process subscribe to the result channel: one more round trip per send, and with Redis down a request hung
# for 19 s reconnecting to the result store before failing with 500. A task that answers (crm.ping) says so itself.
CELERY_TASK_IGNORE_RESULT = True
# A send from a request is bounded: a broker that refuses or does not answer costs at most about a second and a
# half before the send is given up (logged; PostgreSQL holds the work and the sweeps and the nightly run catch up).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- API ---------------------------------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shop.authentication.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["shop.permissions.DenyAll"],
    # DRF's own form parsers, and its JSON parser with a depth limit and no NUL bytes (shop.input_hygiene).
    "DEFAULT_PARSER_CLASSES": [
        "shop.input_hygiene.CheckedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "shop.negotiation.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "shop.schema.RetainAutoSchema",
    "EXCEPTION_HANDLER": "shop.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": None,
    "DEFAULT_THROTTLE_RATES": {},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Retain API",
    "DESCRIPTION": "Customers, orders, caller lookup and loyalty for shop platforms. "
    "Authenticate with `Authorization: Bearer <integration token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Swagger UI would otherwise send the schema to its public validator and show a badge from it.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security ----------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"  # the public pages reached from a message send none (shop.http)
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
    # /healthz answers the orchestrator over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Demo --------------------------------------------------------------------------------------------------------
# scripts/demo.sh sets it: the operator's console can simulate a ring and the owner sees the messages the demo's
# email and SMS backends wrote. Both show customers' data to whoever runs the demo, so production refuses it.
RETAIN_DEMO = env.bool("RETAIN_DEMO", default=False)
if PRODUCTION and RETAIN_DEMO:
    raise ImproperlyConfigured("RETAIN_DEMO must not be set when DJANGO_ENV=production")
# Where every link in a message points (surveys, unsubscribes): the address customers reach the site at. Production
# has no sensible default (a localhost link in a real SMS is dead on arrival), so it refuses to start without one.
if PRODUCTION:
    PUBLIC_BASE_URL = _required("PUBLIC_BASE_URL")
    if not PUBLIC_BASE_URL.startswith("https://"):
        raise ImproperlyConfigured(f"PUBLIC_BASE_URL must start with https:// in production, not {PUBLIC_BASE_URL!r}")
else:
    # The demo sets its own host and port.
    PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000")
PUBLIC_BASE_URL = PUBLIC_BASE_URL.rstrip("/")

# --- Telephony -----------------------------------------------------------------------------------------------------
# Secrets that sign incoming-call webhooks; a format whose secret is empty is switched off (503).
TELEPHONY_WEBHOOK_SECRET = env.str("TELEPHONY_WEBHOOK_SECRET", default="")
ZADARMA_API_SECRET = env.str("ZADARMA_API_SECRET", default="")
