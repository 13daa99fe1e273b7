"""Probity settings: one module, every value from environment variables.

Two modes, chosen by ``PROBITY_ENV``:

* ``demo`` (default) — a local installation on SQLite under ``var/``; a secret key is
  generated there on first start; demo users may skip two-factor authentication.
* ``production`` — everything must be configured explicitly; a missing secret key is a
  start-up error; cookies are secure, HSTS is on and ``manage.py check --deploy`` is clean.

Every variable is documented in ``docs/operations.md``.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


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
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


PROBITY_ENV = env_str("PROBITY_ENV", "demo")
if PROBITY_ENV not in {"demo", "production"}:
    raise ImproperlyConfigured(f"PROBITY_ENV must be 'demo' or 'production', not {PROBITY_ENV!r}.")
PRODUCTION = PROBITY_ENV == "production"

VAR_DIR = Path(env_str("PROBITY_VAR_DIR", str(BASE_DIR / "var")))

# --- secret key -------------------------------------------------------------------------
SECRET_KEY = env_str("PROBITY_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "PROBITY_SECRET_KEY is not set. In production mode Probity will not start without "
            "a secret key: set PROBITY_SECRET_KEY to a random string of at least 50 characters."
        )
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        SECRET_KEY = key_file.read_text().strip()
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        SECRET_KEY = secrets.token_urlsafe(64)
        key_file.write_text(SECRET_KEY)
        key_file.chmod(0o600)

DEBUG = env_bool("PROBITY_DEBUG", False)
ALLOWED_HOSTS = env_list(
    "PROBITY_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("PROBITY_CSRF_TRUSTED_ORIGINS", [])

# --- applications -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_htmx",
    "template_partials",
    "ninja",
    "probity.core",
    "probity.accounts",
    "probity.audit",
    "probity.org",
    "probity.personnel",
    "probity.testing",
    "django_tasks",
    "django_tasks_db",
    "probity.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "probity.core.middleware.RequestIdMiddleware",
    "probity.core.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "probity.core.middleware.LoginRequiredMiddleware",
    "probity.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "probity.core.middleware.IdempotencyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "probity.urls"
WSGI_APPLICATION = "probity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "probity" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "probity.navigation.navigation",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'probity.sqlite3'}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("PROBITY_DB_CONN_MAX_AGE", 0))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # Writers take the lock when the transaction begins, so that two writers never
        # deadlock on a lock upgrade and the audit chain's appends are serialised.
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("PROBITY_SQLITE_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            f"PRAGMA busy_timeout={env_int('PROBITY_SQLITE_TIMEOUT', 20) * 1000};"
        ),
    }
    _db["TEST"] = {"NAME": env_str("PROBITY_TEST_SQLITE_NAME") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and log-in security -------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "probity.accounts.backends.RoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_AGE = env_int("PROBITY_SESSION_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True  # idle sessions expire; active ones are extended

AXES_FAILURE_LIMIT = env_int("PROBITY_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("PROBITY_LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_IPWARE_PROXY_COUNT = env_int("PROBITY_PROXY_COUNT", 0) or None

# Two-factor authentication (TOTP) is required for the roles that can see or change the
# most; in demo mode the demo users may skip it.
PROBITY_REQUIRE_2FA = env_bool("PROBITY_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = env_str("PROBITY_OTP_ISSUER", "Probity")

# --- internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("km", _("Khmer"))]
LOCALE_PATHS = [BASE_DIR / "probity" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("PROBITY_TIME_ZONE", "Asia/Phnom_Penh")
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- static files -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("PROBITY_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [
    BASE_DIR / "probity" / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/noto-sans-khmer", BASE_DIR / "node_modules" / "@fontsource" / "noto-sans-khmer"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("PROBITY_MANIFEST_STATIC", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- security ---------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("PROBITY_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("PROBITY_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    if env_bool("PROBITY_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- logging: no personal or medical data, only what happened ---------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("PROBITY_LOG_LEVEL", "WARNING")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
    },
}

# --- background work (django-tasks, database backend; `manage.py db_worker` runs it) ---
TASKS = {
    "default": {
        "BACKEND": env_str("PROBITY_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- API --------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
PROBITY_IDEMPOTENCY_HOURS = env_int("PROBITY_IDEMPOTENCY_HOURS", 24)
