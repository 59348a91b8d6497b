"""Settings for patas, read from environment variables only.

Every variable is read through a typed helper in `patas.core.env` that fails loudly with the
variable's name and what was expected, so a typo in production never becomes a silent default.
"""

from __future__ import annotations

from pathlib import Path

from patas.core.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_numbers,
    env_str,
    persistent_secret,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("PATAS_DATA_DIR", "./patas-data")).resolve()

SECRET_KEY = env_str("PATAS_SECRET_KEY", "") or persistent_secret(DATA_DIR, "secret.key")
DEBUG = env_bool("PATAS_DEBUG", False)
ALLOWED_HOSTS = env_list("PATAS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("PATAS_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "patas.core",
    "patas.whatsapp",
    "patas.messaging",
    "patas.participants",
    "patas.programs",
    "patas.groups",
    "patas.safety",
    "patas.surveys",
    "patas.trials",
    "patas.recruitment",
    "patas.console",
    "patas.simulation",
]

MIDDLEWARE = [
    "patas.core.views.WebhookTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "patas.urls"
WSGI_APPLICATION = "patas.wsgi.application"
ASGI_APPLICATION = "patas.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("PATAS_DATABASE_URL", ""), default_sqlite=DATA_DIR / "patas.sqlite3"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django's cache holds the dashboard's figures (recruitment/snapshot.py) for every process:
# a table in the program's database (`migrate` creates it), so there is no service to run.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "patas_cache"}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("PATAS_LANGUAGE", "es")
LANGUAGES = [("es", "Español"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
ADMIN_URL = env_str("PATAS_ADMIN_URL", "admin/")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("PATAS_SESSION_SECONDS", 8 * 3600)
SESSION_COOKIE_SECURE = env_bool("PATAS_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"

EMAIL_BACKEND = env_str("PATAS_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("PATAS_EMAIL_FROM", "patas@localhost")

# --- WhatsApp Cloud API -------------------------------------------------------------------
WHATSAPP_ACCESS_TOKEN = env_str("PATAS_WHATSAPP_ACCESS_TOKEN", "dev-access-token")
WHATSAPP_APP_SECRET = env_str("PATAS_WHATSAPP_APP_SECRET", "dev-app-secret")
WHATSAPP_VERIFY_TOKEN = env_str("PATAS_WHATSAPP_VERIFY_TOKEN", "dev-verify-token")
WHATSAPP_PHONE_NUMBER_ID = env_str("PATAS_WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
WHATSAPP_BUSINESS_ACCOUNT_ID = env_str("PATAS_WHATSAPP_BUSINESS_ACCOUNT_ID", "200000000000001")
WHATSAPP_API_URL = env_str("PATAS_WHATSAPP_API_URL", "https://graph.facebook.com").rstrip("/")
WHATSAPP_API_VERSION = env_str("PATAS_WHATSAPP_API_VERSION", "v23.0")
WHATSAPP_MPS = env_float("PATAS_WHATSAPP_MPS", 80.0)
# Several numbers (`ID[:MPS],...`, the first is the default; see patas.whatsapp.numbers).
# Unset: the one number above at WHATSAPP_MPS.
WHATSAPP_NUMBERS = env_numbers("PATAS_WHATSAPP_NUMBERS", WHATSAPP_MPS)
if WHATSAPP_NUMBERS:
    WHATSAPP_PHONE_NUMBER_ID = next(iter(WHATSAPP_NUMBERS))
WHATSAPP_WEBHOOK_MAX_BYTES = env_int("PATAS_WEBHOOK_MAX_BYTES", 1024 * 1024)  # larger -> 413
# Words that stop (and restart) all messages: compared after case and accent folding.
OPT_OUT_WORDS = env_list("PATAS_OPT_OUT_WORDS", ["SALIR", "STOP", "BAJA", "PARAR", "CANCELAR"])
OPT_IN_WORDS = env_list("PATAS_OPT_IN_WORDS", ["VOLVER", "START"])

# --- Field encryption ---------------------------------------------------------------------
# PATAS_FIELD_KEY: comma-separated Fernet keys, newest first (older ones still decrypt).
FIELD_KEYS = env_list("PATAS_FIELD_KEY", []) or [
    persistent_secret(DATA_DIR, "field.key", fernet=True)
]
LOOKUP_HASH_KEY = env_str("PATAS_LOOKUP_KEY", "") or persistent_secret(DATA_DIR, "lookup.key")

# --- Programs -------------------------------------------------------------------------------
CONTENT_DIR = Path(env_str("PATAS_CONTENT_DIR", str(BASE_DIR.parent.parent / "content")))
DEFAULT_PROGRAM = env_str("PATAS_PROGRAM", "hablemos-entre-patas")
# Where Meta fetches the packs' media from: https://YOUR-HOST (patas serves /media/<program>/...).
# Empty (the embedded default): media links stay relative, which only the fake Cloud API takes.
PUBLIC_URL = env_str("PATAS_PUBLIC_URL", "").rstrip("/")

# --- Safety and privacy (safety app, core/privacy.py) --------------------------------------
ONCALL_EMAIL = env_list("PATAS_ONCALL_EMAIL", [])  # high-severity alerts are mailed here
RETENTION_DAYS = env_int("PATAS_RETENTION_DAYS", 365)  # message bodies older than this are purged
ALERT_SLA_MINUTES = {
    "high": env_int("PATAS_ALERT_SLA_HIGH_MINUTES", 60),
    "medium": env_int("PATAS_ALERT_SLA_MEDIUM_MINUTES", 8 * 60),
    "low": env_int("PATAS_ALERT_SLA_LOW_MINUTES", 48 * 60),
}
HELPLINE_REPEAT_HOURS = env_int("PATAS_HELPLINE_REPEAT_HOURS", 24)  # no 2nd helpline reply before
SAFETY_LEXICON_DIR = env_str("PATAS_LEXICON_DIR", str(DATA_DIR / "lexicon"))  # supervisor additions

# PATAS_LOG_FORMAT=json (production): one JSON object per line, for a log shipper; extra
# fields passed with `log.info(..., extra={...})` become keys of their own.
LOG_FORMAT = env_choice("PATAS_LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("PATAS_LOG_LEVEL", "WARNING")},
    "loggers": {"patas": {"level": env_str("PATAS_LOG_LEVEL", "INFO"), "propagate": True}},
}

# --- Groups ---------------------------------------------------------------------------------
# Placement of enrolled men: enrolment | random | stratified | a dotted path to a rule.
GROUP_PLACEMENT = env_str("PATAS_GROUP_PLACEMENT", "enrolment")
GROUP_PLACEMENT_SEED = env_str("PATAS_GROUP_PLACEMENT_SEED", "patas")
GROUP_STRATUM_FUNCTION = env_str("PATAS_GROUP_STRATUM_FUNCTION", "")  # dotted path, optional
