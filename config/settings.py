"""OpinionDesk settings: one module, driven by environment variables.

Every variable is listed with its default in README.md. The defaults are the embedded
single-machine setup (SQLite, local files, in-process channel layer, database task queue).
"""

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from opiniondesk.core.ice_rules import IceConfigError, ice_settings_from

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The demo mode loads demo users with printed passwords; never enable it in production.
DEMO_MODE = env_bool("DEMO_MODE", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or DEMO_MODE):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG and DEMO_MODE are off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
# Rotation: the old keys, comma-separated, still accepted for what they signed (sessions, links)
# until those expire; new signatures use SECRET_KEY.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")
# A weak or well-known key in production is refused at start-up by a system check (core.E001,
# opiniondesk/core/checks.py): every manage.py command, bin/serve included, runs it.

# The address users reach us at, for links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "opiniondesk.core",
    "opiniondesk.audit",
    "opiniondesk.accounts",
    "opiniondesk.catalog",
    "opiniondesk.cases",
    "opiniondesk.documents",
    "opiniondesk.referrals",
    "opiniondesk.billing",
    "opiniondesk.scheduling",
    "opiniondesk.readiness",
    "opiniondesk.consults",
    "opiniondesk.interop",
    "opiniondesk.opinions",
    "opiniondesk.records",
    "opiniondesk.desk",
    "opiniondesk.demo",
    "opiniondesk.api",
    "opiniondesk.public",
]

MIDDLEWARE = [
    # Outermost: the request id on every log record and answer, one access line per request.
    "opiniondesk.core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    # Outside the session and CSRF middleware, so that both see the final answer (and its Vary).
    "opiniondesk.core.middleware.RefusalLogMiddleware",
    "opiniondesk.core.middleware.PrivateAnswerMiddleware",
    "opiniondesk.core.middleware.HtmxRedirectMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "opiniondesk.accounts.middleware.SessionTimeoutMiddleware",
    "opiniondesk.accounts.middleware.StaffMFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so that it sees the view's exceptions first.
    "opiniondesk.core.middleware.ClientGoneMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "opiniondesk.core.context_processors.hospital",
            ],
        },
    },
]

# Every form reads what was typed through one normaliser and never cuts text (SPEC §13).
FORM_RENDERER = "opiniondesk.core.forms.FormRenderer"

# Database: a SQLite file by default; DATABASE_URL (postgres://user@host:5432/name) to scale out.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
# PostgreSQL: a pool of connections in each process (psycopg_pool, Django's "pool" option).
# Under ASGI each request runs in a thread of its own, so without it every request opens and
# closes its own connection: a new server process, its authentication and its caches each time,
# which made the scaled stack ten times slower than SQLite under load (bench/README.md, load
# test). The PostgreSQL half of the tests runs through it too (make test-postgres).
DATABASE_POOL = env_bool("DATABASE_POOL", False)
if DATABASE_POOL and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN", 2),
        "max_size": env_int("DATABASE_POOL_MAX", 10),
        # A request waits this long for a free connection, then fails (503-like, logged).
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that cannot be reached fails the request (and /healthz) in seconds, not after
    # the kernel's two minutes of SYN retries.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and the task worker go on while a request writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        # Writers wait their turn; at the default 5 s, 1-3 % of bookings under 32 concurrent
        # clients failed with "database is locked" (bench/scheduling.py, bench/README.md).
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Accounts (django-allauth): patients sign up with a verified e-mail; staff also need TOTP.
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
ACCOUNT_ADAPTER = "opiniondesk.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Login: 10 failures a minute from one address, 5 in 5 minutes for one account (SPEC §11.8).
# The key is the account (its user name and e-mail address alike, accounts/adapter.py); the
# counts are in the default cache, which every worker shares.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/300s/key"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("HOSPITAL_NAME", "OpinionDesk")
# Sessions end after this long without a request (SPEC §11.10): staff, patients and proxies;
# a patient's also this many hours after signing in, however busy (0: no maximum).
STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 15)
PATIENT_SESSION_IDLE_MINUTES = env_int("PATIENT_SESSION_IDLE_MINUTES", 60)
PATIENT_SESSION_MAX_HOURS = env_int("PATIENT_SESSION_MAX_HOURS", 12)

# Redis serves the channel layer and the cache when REDIS_URL is set. The task queue stays in
# the database on purpose: a task is queued in the same transaction as the change that asks for
# it, and survives what Redis, run as a cache without persistence, would lose (docs/deploy.md).
REDIS_URL = env_str("REDIS_URL", "")
# The default cache holds the rate limits (allauth's login failures, the public API's calls), so
# every worker process must see the same counts: Redis, or else the database (the table of
# core.CacheEntry, made by migrate). Memory of one process would give each worker its own budget.
# The catalog's version (catalog/cache.py) is read on every eligibility check: without Redis it
# stays in each process's memory, where a query per check would cost what the catalog cache saves.
if REDIS_URL:
    from redis.asyncio.retry import Retry as AsyncRetry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from redis.retry import Retry

    # When Redis restarts, each pooled connection is broken once: a command on one reconnects
    # and is sent again, for up to ~10 s (backoff 0.1 s doubling to 2 s, 8 tries), instead of
    # failing the request or ending a video room's connection (bench/load.py kills Redis).
    # A host that does not answer at all (not a refused connection) times out instead of
    # holding the request: redis-py waits forever by default. The cache's commands are short;
    # the channel layer's reads block on purpose (BZPOPMIN), so only its connect is bounded.
    _redis_retry = {
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
        "health_check_interval": 10,
        "socket_connect_timeout": env_int("REDIS_CONNECT_TIMEOUT", 2),
    }
    _backoff = ExponentialBackoff(cap=2.0, base=0.1)
    _redis_cache = {
        # Django's RedisCache with one connection pool per process (core.cache).
        "BACKEND": "opiniondesk.core.cache.SharedPoolRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": _redis_retry
        | {"retry": Retry(_backoff, 8), "socket_timeout": env_int("REDIS_TIMEOUT", 5)},
    }
    CACHES = {"default": _redis_cache, "catalog": _redis_cache}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "retry": AsyncRetry(_backoff, 8)} | _redis_retry]
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "opiniondesk_cache",
            # Culling (past MAX_ENTRIES) drops expired rows first, then any: keep it far above
            # the live counters, so that many addresses cannot push an account's count out.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        },
        "catalog": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASK_QUEUES = ["default", "email"]
TASK_BACKEND = env_str("TASK_BACKEND", "database")
if TASK_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}
elif TASK_BACKEND == "immediate":
    TASKS = {
        "default": {
            "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
            "QUEUES": TASK_QUEUES,
        }
    }
else:
    raise ImproperlyConfigured("TASK_BACKEND must be 'database' or 'immediate'.")
# The reconciler (manage.py reconcile_tasks, and a task that runs it every few minutes): a task
# RUNNING this long lost its worker and is taken again; finished task rows are deleted after
# TASK_RESULT_DAYS (their arguments hold whole e-mails).
TASK_RUNNING_TIMEOUT_MINUTES = env_int("TASK_RUNNING_TIMEOUT_MINUTES", 10)
TASK_RESULT_DAYS = env_int("TASK_RESULT_DAYS", 7)
TASK_RECONCILE_MINUTES = env_int("TASK_RECONCILE_MINUTES", 5)
# /healthz (core/health.py) fails its task part when the oldest due task has waited longer than
# this, or when more than this many are due: no worker is taking them.
HEALTHZ_TASK_MAX_AGE_SECONDS = env_int("HEALTHZ_TASK_MAX_AGE_SECONDS", 300)
HEALTHZ_TASK_MAX_READY = env_int("HEALTHZ_TASK_MAX_READY", 1000)

# The audit log (SPEC §11.11). Two keys that are NOT in the database: the MAC key every event is
# keyed with, and the Ed25519 key that signs the sealer's checkpoints. Each a file, mode 0600, best
# on another host's mount, a KMS or a hardware token (docs/architecture.md). `make run` creates
# demo keys under var/keys; with DEBUG and DEMO_MODE off the site refuses to start without them.
AUDIT_MAC_KEY_FILE = Path(
    env_str("AUDIT_MAC_KEY_FILE", str(BASE_DIR / "var" / "keys" / "audit-mac.key"))
)
AUDIT_SIGNING_KEY_FILE = Path(
    env_str("AUDIT_SIGNING_KEY_FILE", str(BASE_DIR / "var" / "keys" / "audit-signing.key"))
)
# The public half, for verifying on a host that must not hold the private key; empty: derived.
AUDIT_PUBLIC_KEY_FILE = env_str("AUDIT_PUBLIC_KEY_FILE", "")
AUDIT_KEYS_REQUIRED = env_bool("AUDIT_KEYS_REQUIRED", not (DEBUG or DEMO_MODE))
# Signed checkpoints are also written here, one file each, never rewritten (an append-only place
# outside the database: another host's mount, a WORM disk; S3 object lock or syslog as options).
AUDIT_CHECKPOINT_DIR = Path(
    env_str("AUDIT_CHECKPOINT_DIR", str(BASE_DIR / "var" / "audit-checkpoints"))
)
# The sealer seals only events older than this (seconds): ids are handed out at insert but a
# transaction may commit after a later one, so the newest ids may still be in flight.
AUDIT_SEAL_LAG = env_int("AUDIT_SEAL_LAG", 5)
AUDIT_SEAL_BATCH = env_int("AUDIT_SEAL_BATCH", 5000)
AUDIT_SEAL_EVERY = env_int("AUDIT_SEAL_EVERY", 60)

# Files: local directory by default; S3-compatible object storage when STORAGE_BUCKET is set.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGE_BUCKET = env_str("STORAGE_BUCKET", "")
if STORAGE_BUCKET:
    from botocore.config import Config as BotoConfig

    _default_storage = {
        "BACKEND": "opiniondesk.core.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_BUCKET,
            "endpoint_url": env_str("STORAGE_ENDPOINT_URL", "") or None,
            "region_name": env_str("STORAGE_REGION", "") or None,
            "access_key": env_str("STORAGE_ACCESS_KEY", "") or None,
            "secret_key": env_str("STORAGE_SECRET_KEY", "") or None,
            # Files are private: served only through views that check permission.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
            # botocore waits 60 s to connect and 60 s for each read, and tries five times: a
            # store that stopped answering would hold an upload, a download or /healthz for
            # minutes. Its retries stay (they carry uploads over an S3 restart).
            "client_config": BotoConfig(
                connect_timeout=env_int("STORAGE_CONNECT_TIMEOUT", 5),
                read_timeout=env_int("STORAGE_READ_TIMEOUT", 30),
                # One client serves the whole worker process (core.storage): its uploads send
                # two parts at once each, so botocore's 10 kept connections would be too few.
                max_pool_connections=env_int("STORAGE_MAX_CONNECTIONS", 50),
            ),
        },
    }
else:
    _default_storage = {
        # FileSystemStorage that syncs each file to the disk before the upload is confirmed.
        "BACKEND": "opiniondesk.core.storage.DurableFileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        # Gzip and Brotli copies made by collectstatic (tens of seconds of CPU, worth it where
        # pages are served); the tests' own server processes go without (STATIC_COMPRESS=false).
        else "servestatic.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATIC_COMPRESS", True)
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}
# Downloads of stored files: streamed by the app (bounded memory), or, behind a proxy, sent by
# it after the app's permission check: "nginx" answers with X-Accel-Redirect to the internal
# location DOWNLOAD_ACCEL_LOCATION (aliased to MEDIA_ROOT), "apache" with X-Sendfile (README).
DOWNLOAD_ACCEL = env_str("DOWNLOAD_ACCEL", "none")
if DOWNLOAD_ACCEL not in ("none", "nginx", "apache"):
    raise ImproperlyConfigured("DOWNLOAD_ACCEL must be 'none', 'nginx' or 'apache'.")
DOWNLOAD_ACCEL_LOCATION = env_str("DOWNLOAD_ACCEL_LOCATION", "/_protected-media/")
# Uploaded documents: checked by content, at most this size each (SPEC §3, issue #3).
DOCUMENT_MAX_BYTES = env_int("DOCUMENT_MAX_MB", 200) * 1024 * 1024
PHYSICIAN_LINK_DAYS = env_int("PHYSICIAN_LINK_DAYS", 14)

# Scheduling (issue #5): how far ahead candidate dates may be offered, and for how long by default
# they are held for the case.
SCHEDULING_MIN_LEAD_DAYS = env_int("SCHEDULING_MIN_LEAD_DAYS", 2)
SCHEDULING_HORIZON_DAYS = env_int("SCHEDULING_HORIZON_DAYS", 120)
OFFER_HOLD_DAYS = env_int("OFFER_HOLD_DAYS", 3)
PATIENT_INVITATION_DAYS = env_int("PATIENT_INVITATION_DAYS", 14)
# A disclosure request (開示請求) is due this many calendar days (JST) after the day it was made;
# the law says "without delay" (遅滞なく) and names no number (interop/deadline.py).
DISCLOSURE_DUE_DAYS = env_int("DISCLOSURE_DUE_DAYS", 14)
# The written opinion (SPEC §9): the attending physician's one-time link works this many days;
# the patient may download a copy once it is delivered only when the hospital allows it.
OPINION_LINK_DAYS = env_int("OPINION_LINK_DAYS", 14)
OPINION_PATIENT_COPY = env_bool("OPINION_PATIENT_COPY", False)
# Records kept (SPEC §11.16): years from a case's end before `manage.py retention` may purge it.
RECORDS_RETENTION_YEARS = env_int("RECORDS_RETENTION_YEARS", 5)
# The consult (SPEC §7): the waiting room opens this long before the booked time; the consult
# lasts at most CONSULT_LIMIT_MINUTES including the review of the materials; both sides are
# warned this long before the 30-minute fee boundary and before the end.
CONSULT_ROOM_OPENS_MINUTES = env_int("CONSULT_ROOM_OPENS_MINUTES", 5)
CONSULT_LIMIT_MINUTES = env_int("CONSULT_LIMIT_MINUTES", 60)
CONSULT_WARN_BEFORE_BOUNDARY_MINUTES = env_int("CONSULT_WARN_BEFORE_BOUNDARY_MINUTES", 3)
CONSULT_WARN_BEFORE_END_MINUTES = env_int("CONSULT_WARN_BEFORE_END_MINUTES", 5)
# Fees (SPEC §8). With STRIPE_SECRET_KEY set, the patient registers a card before an online
# consult and the fee is charged to it afterwards; without it, fees are paid at the hospital.
# STRIPE_API_BASE points the SDK elsewhere (tests: localstripe on loopback).
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env_str("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "")
STRIPE_JS_URL = env_str("STRIPE_JS_URL", "https://js.stripe.com/v3/")
if STRIPE_SECRET_KEY and not (STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET):
    raise ImproperlyConfigured(
        "STRIPE_SECRET_KEY needs STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET as well"
    )
PHYSICIAN_LINK_MAX_FILES = 5

# WebRTC (the device check and the video consult): the STUN servers, and the hospital's
# own TURN server (coturn with use-auth-secret, README "TURN for the video consults"). Browsers
# never get WEBRTC_TURN_SECRET, only a credential made from it for one person and purpose that
# expires after WEBRTC_TURN_TTL_SECONDS (opiniondesk.core.ice). Empty: local (host) routes only.
try:
    _ice = ice_settings_from(os.environ)
except IceConfigError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
WEBRTC_STUN_URLS = list(_ice.stun_urls)
WEBRTC_TURN_URLS = list(_ice.turn_urls)
WEBRTC_TURN_SECRET = _ice.turn_secret
WEBRTC_TURN_TTL_SECONDS = _ice.ttl_seconds
# Every consult through the hospital's TURN server ("relay"): the patient's and the hospital's
# network addresses stay hidden from each other. Needs WEBRTC_TURN_URLS.
WEBRTC_RELAY_ONLY = env_bool("WEBRTC_RELAY_ONLY", False)
if WEBRTC_RELAY_ONLY and not WEBRTC_TURN_URLS:
    raise ImproperlyConfigured("WEBRTC_RELAY_ONLY=true needs WEBRTC_TURN_URLS (and the secret).")
# The largest request body the ASGI server passes on (the physician's page sends several files).
REQUEST_MAX_BYTES = DOCUMENT_MAX_BYTES * PHYSICIAN_LINK_MAX_FILES + 10 * 1024 * 1024
# Multipart bodies are parsed by python-multipart (documents.formdata), which hashes each file as
# it arrives; files of requests larger than this go to a temporary file rather than memory
# (bench/upload.md).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["opiniondesk.documents.formdata.StreamingMultipartHandler"]
# Request bodies and uploads are spooled on MEDIA_ROOT's filesystem, so that storing a document is
# a rename, not a copy (the system's temporary directory may be another disk, or memory). With
# object storage too: the spool is checked there before a byte goes to the bucket, and a tmpfs
# would hold every upload in memory; what an interrupted request left is swept from there.
FILE_UPLOAD_TEMP_DIR = str(MEDIA_ROOT / ".upload-tmp")
FILE_UPLOAD_PERMISSIONS = 0o600
# Documents are personal data: the media directories are the owner's only (with the files, 0600).
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# Spooled uploads an interrupted request left behind are removed after this many hours, at start
# and by a periodic task (documents.uploads.remove_stale_upload_files).
UPLOAD_TEMP_MAX_AGE_HOURS = env_int("UPLOAD_TEMP_MAX_AGE_HOURS", 24)

# Backups (README "Backups"): `manage.py backup` writes one generation here (0700) and keeps the
# newest BACKUP_KEEP complete generations.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 7)

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]

# E-mail: printed to the console in development, SMTP when EMAIL_HOST is set.
_email_host = env_str("EMAIL_HOST", "")
if _email_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email_host,
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 30,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "second-opinion@hospital.example.jp")

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Business rules always use Asia/Tokyo (opiniondesk.core.time); this is the display zone.
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

# The hospital, as shown on the information pages and receipts.
HOSPITAL = {
    "name": env_str("HOSPITAL_NAME", "OpinionDesk 大学病院"),
    "name_en": env_str("HOSPITAL_NAME_EN", "OpinionDesk University Hospital"),
    "postal_code": env_str("HOSPITAL_POSTAL_CODE", "000-0000"),
    "address": env_str("HOSPITAL_ADDRESS", "東京都架空区見本町1-2-3"),
    "desk": env_str("HOSPITAL_DESK", "地域医療連携センター セカンドオピニオン外来担当"),
    "phone": env_str("HOSPITAL_PHONE", "03-0000-1234"),
    "phone_hours": env_str("HOSPITAL_PHONE_HOURS", "10:00–17:00"),
    "phone_guidance": env_str("HOSPITAL_PHONE_GUIDANCE", "4"),
    # An invented number with a valid check digit (T + a corporate number, checked at start-up).
    "invoice_number": env_str("HOSPITAL_INVOICE_NUMBER", "T9000000000000"),
}

# allauth's mails: the hospital's name, not the site's domain ("[127.0.0.1:8000]").
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{HOSPITAL['name']}] "

# Year-end closure (年末年始), inclusive, as MM-DD; it may wrap over the new year.
CLOSURE_YEAR_END = (
    env_str("CLOSURE_YEAR_END_START", "12-29"),
    env_str("CLOSURE_YEAR_END_END", "01-03"),
)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "opiniondesk.api.schema.ApiAutoSchema",
    # JSON only, errors included, whatever the client accepts: the people's documentation is
    # the Swagger and Redoc pages of the OpenAPI document.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "opiniondesk.api.parsers.JSONWhateverAccepted",
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # A hospital system's token first (a bad token is a 401), then the signed-in session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opiniondesk.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "opiniondesk.api.auth.TokenScope",
    ],
    "UNAUTHENTICATED_USER": None,
    # The client's address is REMOTE_ADDR, which the ASGI server takes from a trusted proxy's
    # X-Forwarded-For (uvicorn: FORWARDED_ALLOW_IPS); a header from anyone else is not believed.
    "NUM_PROXIES": 0,
    "EXCEPTION_HANDLER": "opiniondesk.api.errors.exception_handler",
}
# The public API (SPEC §10), per client address: "number/period" (s, min, hour, day); empty: no
# limit. Past it: 429 with Retry-After. The counts are in the default cache, shared by workers.
PUBLIC_API_RATE = env_str("PUBLIC_API_RATE", "60/min")
if PUBLIC_API_RATE and not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", PUBLIC_API_RATE):
    raise ImproperlyConfigured(f"PUBLIC_API_RATE must be like 60/min, not {PUBLIC_API_RATE!r}")

SPECTACULAR_SETTINGS = {
    "TITLE": "OpinionDesk API",
    "DESCRIPTION": "Second-opinion outpatient service: public and staff endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ModeEnum": ["online", "in_person"],
        "DocumentCodeEnum": "opiniondesk.catalog.vocabulary.DocumentCode",
        "RelationEnum": "opiniondesk.cases.kinship.Relation",
        "PatientConsentEnum": ["signed", "unable_to_sign_note", "none"],
        "ReasonEnum": "opiniondesk.cases.eligibility.Reason",
        # A case's status appears as status, from_status and to_status: one enum for all three.
        "StatusEnum": "opiniondesk.api.case_serializers.STATUS_VALUES",
        # The consult and the fee (api/record_serializers.py): several fields named "state".
        "ConsultStateEnum": "opiniondesk.api.record_serializers.CONSULT_STATES",
        "ChargeStateEnum": "opiniondesk.api.record_serializers.CHARGE_STATES",
        "AttemptStateEnum": "opiniondesk.api.record_serializers.ATTEMPT_STATES",
        "RefundStateEnum": "opiniondesk.api.record_serializers.REFUND_STATES",
        "CollectMethodEnum": "opiniondesk.api.record_serializers.COLLECT_METHODS",
        # The opinion and the disclosures (api/opinion_serializers.py).
        "OpinionVersionStateEnum": "opiniondesk.api.opinion_serializers.VERSION_STATES",
        "DeliveryMethodEnum": "opiniondesk.api.opinion_serializers.DELIVERY_METHODS",
        "DisclosureDeliveryEnum": "opiniondesk.api.opinion_serializers.DISCLOSURE_DELIVERIES",
        "DisclosureStandingEnum": "opiniondesk.api.opinion_serializers.DISCLOSURE_STANDINGS",
    },
}

# Production hardening (SPEC §11.12); off in DEBUG and the demo so the local server works over
# HTTP. `manage.py check --deploy` is clean with the production environment of README.md.
HTTPS_ONLY = env_bool("HTTPS_ONLY", not (DEBUG or DEMO_MODE))
# Behind a TLS-terminating proxy: believe its X-Forwarded-Proto. Only then, since anyone could
# send the header to a server reached directly.
TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_SSL_REDIRECT = HTTPS_ONLY
# A health probe may ask a worker directly over plain HTTP: it carries no cookie and no secret.
SECURE_REDIRECT_EXEMPT = [r"^healthz(/web)?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if HTTPS_ONLY else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS_ONLY)
# Preloading asks browsers to know the HSTS rule before the first visit (only the hospital can
# submit its domain to the list); false when the domain is not ready for HTTPS everywhere.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", HTTPS_ONLY)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy of every answer (SPEC §13): scripts and styles from this site only, an
# inline script only with the request's nonce (`nonce="{{ csp_nonce }}"`). 'self' covers the
# ws:/wss: of this host (the video room's signaling); media come from the camera (mediastream:)
# and the TURN relay, which CSP does not govern. The card page adds Stripe's hosts
# (readiness/card_views.py), the API documentation Redoc's and Swagger UI's needs (api/urls.py).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF, "blob:", "mediastream:"],
    "frame-src": [CSP.NONE],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Mounts bench/bare_view.py's baseline view for bench/eligibility_api.py; never in production.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", False)

# LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id, user_id,
# path; status and duration on the access lines of `opiniondesk.access`), for a log collector.
# The default, text, stays readable for `make run`. Both carry the request id (core/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"()": "opiniondesk.core.logs.TextFormatter"},
        "json": {"()": "opiniondesk.core.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint logs every step of every receipt PDF at INFO.
    # A refused request (403, 404) is one line of opiniondesk.security (core/middleware.py):
    # django.request's own line for it, with a traceback for a 403, is dropped.
    "filters": {
        "no_refusals": {"()": "opiniondesk.core.middleware.DropRefusals"},
        "request_context": {"()": "opiniondesk.core.logs.RequestContextFilter"},
    },
    "loggers": {
        "weasyprint.progress": {"level": "WARNING"},
        "django.request": {"filters": ["no_refusals"]},
    },
}
