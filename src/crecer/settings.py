"""Django settings: one file, configured from the environment.

Defaults are safe for production (no debug, secure cookies when served beyond the loopback
interface) and let a laptop run the whole system with no configuration: SQLite under ``data/``.

Environment:
  DATABASE_URL            database (default: sqlite:///<data dir>/crecer.sqlite3)
  CRECER_SECRET_KEY       secret key (default: generated once and kept in <data dir>/secret_key)
  CRECER_DEBUG            "true" to enable debug pages (never in production)
  CRECER_ALLOWED_HOSTS    comma-separated host names (default: 127.0.0.1,localhost)
  CRECER_TLS              "true"/"false": secure cookies, HSTS and HTTPS redirect (default: true
                          unless every allowed host is a loopback name)
  CRECER_PROFILE          country profile id: cl (default), pe, sv
  CRECER_DATA_DIR         where the SQLite file and generated secret live (default: ./data)
  CRECER_TIME_ZONE        IANA zone (default: America/Santiago)
  CRECER_IMPORT_MAX_MB    largest file the web import accepts, in MB (default: 50)
  CRECER_EMAIL_URL        not yet used; e-mail goes to the console backend unless EMAIL_* are set
  CRECER_SITE_URL         the site address for links in e-mails (e.g. https://crecer.example.cl)
  CRECER_TRUSTED_PROXIES  comma-separated addresses or networks (CIDR) of the reverse proxies whose
                          X-Forwarded-Proto and X-Forwarded-For headers are believed (default: none)
  CRECER_TWO_FACTOR_ROLES roles that must sign in with a second factor (default:
                          national_manager,admin,auditor; "none" for no role)
  CRECER_API_TOKEN_DAYS   days an API token works after its creation (default: 90)
  CRECER_WORKERS          worker processes of ``crecer serve`` (default: one per core, at least 2)
  CRECER_THREADS          threads per worker process of ``crecer serve`` (default: 2)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from crecer.core.files import private_dir, private_file


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PACKAGE_DIR = Path(__file__).resolve().parent
_checkout = PACKAGE_DIR.parent.parent
# In a source checkout (src layout) data lives beside the code; an installed package uses the cwd.
_default_root = _checkout if (_checkout / "pyproject.toml").is_file() else Path.cwd()
DATA_DIR = Path(os.environ.get("CRECER_DATA_DIR") or _default_root / "data")


# The data folder holds the SQLite database, the secret keys and uploaded files: its owner's only.
private_dir(DATA_DIR)

DEBUG = _env_bool("CRECER_DEBUG", False)


def _secret_key() -> str:
    configured = os.environ.get("CRECER_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    private_file(key_file, secrets.token_urlsafe(50))  # unless it exists (another process may have made it)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("CRECER_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
TLS = _env_bool("CRECER_TLS", not set(ALLOWED_HOSTS) <= _LOOPBACK)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "crecer.territories",
    "crecer.access",
    "crecer.places",
    "crecer.audit",
    "crecer.accounts",
    "crecer.registry",
    "crecer.imports",
    "crecer.tracking",
    "crecer.risks",
    "crecer.referrals",
    "crecer.monitoring",
    "crecer.centres",
    "crecer.dedup",
    "crecer.results",
    "crecer.funds",
    "crecer.costing",
    "crecer.planning",
    "crecer.web",
    "crecer.api",
    "crecer.interop",
]

MIDDLEWARE = [
    # First: whether the request came over HTTPS is decided here, from trusted proxies only.
    "crecer.web.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compressed (a fifth of their size on a slow phone link); static files come compressed from
    # WhiteNoise above. Django's GZipMiddleware pads each answer at random against BREACH, and CSRF
    # tokens are masked anew on every page (docs/deployment.md, "Static files and compression").
    "django.middleware.gzip.GZipMiddleware",
    "crecer.web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Spanish whatever the browser asks, until the user picks another language (in place of Django's
    # LocaleMiddleware, which follows Accept-Language): after authentication, to read the user's choice.
    "crecer.accounts.language.LanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "crecer.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crecer.urls"
WSGI_APPLICATION = "crecer.wsgi.application"

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
                "crecer.web.context.crecer",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'crecer.sqlite3'}",
        conn_max_age=int(os.environ.get("CRECER_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE transactions take the write lock
    # up front so concurrent writers wait (busy timeout) instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; "
            "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Connections are kept between requests (CONN_MAX_AGE above), as on PostgreSQL: opening one reads
    # the whole schema on its first query, about 6 ms per request otherwise (bench/bench_serve.py).
    # Tests use a file, not shared memory: concurrency tests need SQLite's real locking (WAL, busy timeout).
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-crecer.sqlite3")}
    if DATABASES["default"]["NAME"] != ":memory:":
        # An empty file is an empty SQLite database; made here, it is its owner's only (0600), and
        # SQLite gives its -wal and -shm files the same mode.
        private_dir(Path(DATABASES["default"]["NAME"]).parent)
        private_file(Path(DATABASES["default"]["NAME"]))

elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # PostgreSQL's JIT compiles each large query first; for the indicator queries (grouped counts with
    # correlated lookups) that costs more than it saves: off, the year's indicators ran 2.5× faster.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # The hot statements of every request (crecer.core.prepared.cursor: the token, the child, the audit
    # chain's append) bind their values on the server and are prepared by each connection the first time
    # it runs them: parsing and planning them anew was most of PostgreSQL's work per request. Django's own
    # queries bind on the client and are never prepared, whatever this says. Behind a pooler that cannot
    # keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements), set
    # CRECER_DB_PREPARE=0 (docs/deployment.md).
    if os.environ.get("CRECER_DB_PREPARE", "1") != "0":
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "access.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: 5 failures lock the username+address pair for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The client's address: X-Forwarded-For is believed only from the trusted proxies (crecer.accounts.addresses).
AXES_CLIENT_IP_CALLABLE = "crecer.accounts.addresses.client_address"
CRECER_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("CRECER_TRUSTED_PROXIES", "").split(",") if p.strip()]

# Two-factor sign-in (TOTP, django-otp): required for these roles, optional for everyone else.
_two_factor_roles = os.environ.get("CRECER_TWO_FACTOR_ROLES", "national_manager,admin,auditor")
CRECER_TWO_FACTOR_ROLES = [r.strip() for r in _two_factor_roles.split(",") if r.strip() and r.strip().lower() != "none"]
OTP_TOTP_ISSUER = "Crecer"
# Seconds of back-off after the first wrong code, doubling with each further one.
OTP_TOTP_THROTTLE_FACTOR = 1

# API tokens work this many days after their creation; then the API answers 401.
CRECER_API_TOKEN_DAYS = int(os.environ.get("CRECER_API_TOKEN_DAYS", "90"))
# Bad bearer tokens from one client address: after this many within the window, 429 until it ends.
CRECER_API_BAD_TOKEN_LIMIT = 10
CRECER_API_BAD_TOKEN_WINDOW = 600
# A password reset link works this many seconds (Django's token generator).
PASSWORD_RESET_TIMEOUT = 24 * 3600

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# Dates as dd/mm/aaaa in Spanish (Django's own Spanish long format spells the month out).
FORMAT_MODULE_PATH = ["crecer.web.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("CRECER_TIME_ZONE", "America/Santiago")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Static files: `crecer serve` collects them into STATIC_ROOT with fingerprinted names (the hash of their
# content) and gzip copies; WhiteNoise serves those compressed and cached for a year (immutable).
# A file not collected keeps its plain name and is found in its app (crecer.web.staticfiles).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "crecer.web.staticfiles.FingerprintedStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SECURE_SSL_REDIRECT = TLS and not DEBUG
SECURE_HSTS_SECONDS = 31536000 if TLS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = TLS
# Django would believe X-Forwarded-Proto from anyone; TrustedProxyMiddleware (first in MIDDLEWARE)
# believes it only from CRECER_TRUSTED_PROXIES (above) and marks such requests as HTTPS itself.
SECURE_PROXY_SSL_HEADER = None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CRECER_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

EMAIL_BACKEND = os.environ.get("CRECER_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("CRECER_FROM_EMAIL", "crecer@localhost")
# The address of the site, for links in e-mails (e.g. https://crecer.example.cl): required in production.
# Empty: the first usable host of CSRF_TRUSTED_ORIGINS or ALLOWED_HOSTS (crecer.referrals.actions.site_origin).
CRECER_SITE_URL = os.environ.get("CRECER_SITE_URL", "")

CRECER_PROFILE = os.environ.get("CRECER_PROFILE", "cl")

# Imports through the web (crecer.imports.views): uploaded files wait here, under random names, until
# imported; larger files are refused. The import runs in a background thread so the request returns at
# once; with CRECER_IMPORT_IN_BACKGROUND = False it runs within the confirming request (the tests do that).
CRECER_UPLOAD_DIR = DATA_DIR / "uploads"
CRECER_IMPORT_MAX_BYTES = int(os.environ.get("CRECER_IMPORT_MAX_MB", "50")) * 1024 * 1024
CRECER_IMPORT_IN_BACKGROUND = True

# Sensitive data categories each role may see by default, on top of the non-sensitive ones.
# ASSUMPTION: a deployment adjusts this to its own law; a user can be granted more individually.
CRECER_ROLE_SENSITIVE_CATEGORIES: dict[str, list[str]] = {
    "health_worker": ["mental_health"],
    "municipal_coordinator": ["violence", "abuse", "mental_health", "child_protection"],
}

# Auditors read the audit trail of their territory (who did and read what, naming children by registry
# number and id), not the children's records themselves: need to know. A deployment whose auditors must
# also open the records sets CRECER_AUDITORS_READ_RECORDS=true (docs/permissions.md).
CRECER_AUDITORS_READ_RECORDS = _env_bool("CRECER_AUDITORS_READ_RECORDS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CRECER_LOG_LEVEL", "WARNING")},
}
