"""Django settings of the ozamonitor web application.

Everything comes from environment variables (``ozamonitor serve`` and
``ozamonitor web init`` set them from their options; see
:func:`ozamonitor.web.bootstrap.setup`), and from the data folder:

``OZAMONITOR_DATA_DIR``
    The data folder (required): the SQLite database by default, uploaded files
    (``files/``), the secret key (``secret_key``, created once with mode 0600).
``DATABASE_URL`` (or ``OZAMONITOR_DB``)
    ``sqlite:///path`` or ``postgresql://user:password@host:port/name``;
    default: SQLite in the data folder (WAL mode).
``OZAMONITOR_DEBUG``
    ``1`` for development (stack traces, plain-HTTP cookies). Never in production.
``OZAMONITOR_ALLOWED_HOSTS``, ``OZAMONITOR_CSRF_TRUSTED_ORIGINS``
    Comma-separated host names / origins, for a server behind a proxy.
``OZAMONITOR_INSECURE_COOKIES``
    ``1`` to send session and CSRF cookies over plain HTTP outside debug (a
    demo on a laptop); a production server sits behind HTTPS and leaves it unset.
``OZAMONITOR_UPLOAD_MAX_MB``
    Largest attachment accepted (default 10).

The apps built on the registry are listed in :data:`OZAMONITOR_WEB_APPS`;
each is an :class:`ozamonitor.web.apps.OzamonitorApp` and brings its own URLs,
API router, navigation entries and access rules (docs/web.md, "Adding an app").
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from ozamonitor.web.dburl import database_from_url
from ozamonitor.web.secret import read_or_create_secret_key


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _list(name: str, default: str = "") -> list[str]:
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


_data = os.environ.get("OZAMONITOR_DATA_DIR")
if not _data:
    raise ImproperlyConfigured(
        "OZAMONITOR_DATA_DIR is not set: start the application with `ozamonitor serve "
        "--data-dir D` or set the variable to the data folder")
DATA_DIR = Path(_data).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
FILES_DIR = DATA_DIR / "files"
FILES_DIR.mkdir(exist_ok=True, mode=0o700)

BASE_DIR = Path(__file__).resolve().parent
DEBUG = _flag("OZAMONITOR_DEBUG")
SECRET_KEY = read_or_create_secret_key(DATA_DIR / "secret_key")

ALLOWED_HOSTS = _list("OZAMONITOR_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _list("OZAMONITOR_CSRF_TRUSTED_ORIGINS")

#: The ozamonitor web apps, in navigation order. A new app appends one line here.
OZAMONITOR_WEB_APPS = [
    "ozamonitor.web.registry",
    "ozamonitor.web.funding",
    "ozamonitor.web.survey",
    "ozamonitor.web.casework",
    "ozamonitor.web.dashboard",
]
#: The publication folder the public dashboard serves (``ozamonitor publish``).
OZAMONITOR_PUBLICATION = os.environ.get("OZAMONITOR_PUBLICATION", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "ninja",
    "ozamonitor.web.core",
    *OZAMONITOR_WEB_APPS,
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ozamonitor.web.access.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ozamonitor.web.urls"
WSGI_APPLICATION = "ozamonitor.web.wsgi.application"

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
                "ozamonitor.web.apps.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(
    os.environ.get("DATABASE_URL") or os.environ.get("OZAMONITOR_DB")
    or f"sqlite:///{DATA_DIR / 'ozamonitor.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login rate limiting (django-axes): 5 failures for one username from one address
# lock that pair for 15 minutes; the API's token endpoint counts too.
AXES_FAILURE_LIMIT = int(os.environ.get("OZAMONITOR_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ozamonitor.web.core.views.locked_out"
AXES_VERBOSE = False

# Cookies and headers: secure outside debug (HTTPS behind a proxy in production).
_secure = not DEBUG and not _flag("OZAMONITOR_INSECURE_COOKIES")
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if _flag("OZAMONITOR_BEHIND_HTTPS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

#: How long a token from ``POST /api/token`` is valid.
API_TOKEN_LIFETIME = timedelta(days=float(os.environ.get("OZAMONITOR_API_TOKEN_DAYS", "30")))

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", "Nederlands"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Amsterdam"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = None  # served from the package by WhiteNoise (no collectstatic step)
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

UPLOAD_MAX_BYTES = int(float(os.environ.get("OZAMONITOR_UPLOAD_MAX_MB", "10")) * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "ozamonitor": {"handlers": ["console"], "level": "INFO"},
    },
}
