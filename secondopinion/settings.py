"""Settings for secondopinion, read from the environment.

With nothing set this is the embedded default: SQLite and files under var/, tasks run
in-process. DATABASE_URL, REDIS_URL and S3_BUCKET switch to PostgreSQL, Redis + a real
Celery worker, and S3. DEPLOYMENT=production only changes defaults and refuses
development secrets; there is no production-only code path.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core import signing
from core.keyring import load_keyring

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEPLOYMENT = env.str("DEPLOYMENT", default="development")
if DEPLOYMENT not in {"development", "production"}:
    raise ImproperlyConfigured("DEPLOYMENT must be 'development' or 'production'")
PRODUCTION = DEPLOYMENT == "production"

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)

DEBUG = env.bool("DEBUG", default=False)
DEV_SECRET_PREFIX = "dev-insecure-"


def _secret(name: str) -> str | None:
    """A secret from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    if path := env.str(f"{name}_FILE", default=""):
        return Path(path).read_text().strip()
    return env.str(name, default="") or None


def _dev_secret_key() -> str:
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(DEV_SECRET_PREFIX + secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY") or _dev_secret_key()
if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("Refusing to start: DEBUG is on in production.")
    if SECRET_KEY.startswith(DEV_SECRET_PREFIX) or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Refusing to start: production needs its own SECRET_KEY.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_countries",
    "core",
    "accounts",
    "audit",
    "cases",
    "uploads",
    "reports",
    "lifecycle",
    "console",
    "secondopinion",  # last: composes the apps below it (the storage check)
]

MIDDLEWARE = [
    "secondopinion.proxy.ForwardedForMiddleware",
    "audit.context.AuditContextMiddleware",  # after the proxy's REMOTE_ADDR: the audit events' origin
    "secondopinion.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.middleware.UserTimeZoneMiddleware",
    "accounts.middleware.MFARequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "secondopinion.urls"
WSGI_APPLICATION = "secondopinion.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes writers queue instead of failing, which the audit hash chain relies on.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: a real broker when REDIS_URL is set, otherwise tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
# In-process tasks fail the way a worker's would: logged and retried, never raised into the request.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Recovery of lost work (uploads to validate, reports to render): a claimed item not finished
# after WORK_CLAIM_TIMEOUT seconds is taken again; an unclaimed one is sent again after
# WORK_LOST_AFTER seconds (its task message was lost, e.g. with Redis); the sweeper runs every
# SWEEP_INTERVAL seconds. The claim timeout must exceed the longest validation or render.
WORK_CLAIM_TIMEOUT = env.int("WORK_CLAIM_TIMEOUT", default=600)
WORK_LOST_AFTER = env.int("WORK_LOST_AFTER", default=120)
SWEEP_INTERVAL = env.float("SWEEP_INTERVAL", default=300.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-uploads": {"task": "uploads.tasks.sweep_uploads_task", "schedule": SWEEP_INTERVAL},
    "sweep-report-documents": {"task": "reports.tasks.sweep_documents_task", "schedule": SWEEP_INTERVAL},
    # The two lifecycle entries run lifecycle/tasks.py, which keeps the names the tasks had in
    # audit/tasks.py (so messages queued before a deploy still find them): see there.
    "sweep-erasures": {"task": "audit.tasks.sweep_erasures_task", "schedule": SWEEP_INTERVAL},
    "sweep-outbox": {"task": "accounts.tasks.sweep_outbox_task", "schedule": SWEEP_INTERVAL},
    "purge-expired-cases": {"task": "audit.tasks.purge_expired_task", "schedule": 86400.0},
    "audit-checkpoint": {"task": "audit.tasks.audit_checkpoint_task", "schedule": 3600.0},
    "check-invariants": {"task": "secondopinion.tasks.check_invariants_task", "schedule": 86400.0},
    "close-quiet-cases": {"task": "reports.tasks.close_quiet_cases_task", "schedule": 86400.0},
    "queue-digest": {"task": "reports.tasks.queue_digest_task", "schedule": 3600.0},
}

# Files. Only ciphertext is ever written here (see uploads/).
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES_DEFAULT = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="us-east-1"),
            "access_key": _secret("S3_ACCESS_KEY"),
            "secret_key": _secret("S3_SECRET_KEY"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    STORAGES_DEFAULT = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "files"), "file_permissions_mode": 0o600},
    }
STORAGES = {
    "default": STORAGES_DEFAULT,
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_BACKEND",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION  # development serves static/ without collectstatic
UPLOAD_LIMITS = {
    "photo_mb": env.int("UPLOAD_MAX_PHOTO_MB", default=25),
    "pdf_mb": env.int("UPLOAD_MAX_PDF_MB", default=50),
    "dicom_mb": env.int("UPLOAD_MAX_DICOM_MB", default=200),
    "archive_mb": env.int("UPLOAD_MAX_ZIP_MB", default=1024),
    "files_per_case": env.int("UPLOAD_MAX_FILES_PER_CASE", default=2000),
    "case_mb": env.int("UPLOAD_MAX_CASE_MB", default=4096),
}
CLAMD_SOCKET = env.str("CLAMD_SOCKET", default="")
# Public report verification (reports/verify.py): the largest PDF hashed, and attempts per client
# address per window (seconds).
REPORT_VERIFY_MAX_MB = env.int("REPORT_VERIFY_MAX_MB", default=20)
REPORT_VERIFY_RATE = (
    env.int("REPORT_VERIFY_ATTEMPTS", default=20),
    env.int("REPORT_VERIFY_WINDOW_SECONDS", default=600),
)
# Plaintext never goes to a temporary file: the upload views replace these with
# uploads.handler.EncryptingUploadHandler, and any other view refuses files outright.
FILE_UPLOAD_HANDLERS: list[str] = []
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Slow clients (secondopinion/slowclients.py): a request body other than an upload must arrive
# within SLOW_BODY_SECONDS; an upload must bring UPLOAD_MIN_RATE_KB per second in every
# UPLOAD_RATE_WINDOW seconds. Either is cut off otherwise, freeing its server thread.
SLOW_BODY_SECONDS = env.float("SLOW_BODY_SECONDS", default=5.0)
UPLOAD_MIN_RATE_KB = env.float("UPLOAD_MIN_RATE_KB", default=10.0)
UPLOAD_RATE_WINDOW = env.float("UPLOAD_RATE_WINDOW", default=10.0)

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Files: master keys (KEKs) that wrap each patient's key; see core/keyring.py. KEYRING or
# KEYRING_FILE: {"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>"}}. With KMS_KEY_ID,
# AWS KMS wraps patient keys instead. Production refuses the development ring.
KMS_KEY_ID = env.str("KMS_KEY_ID", default="")
KMS_REGION = env.str("KMS_REGION", default="") or None
KMS_ENDPOINT_URL = env.str("KMS_ENDPOINT_URL", default="") or None
KEYRING = load_keyring(_secret("KEYRING"), var_dir=VAR_DIR, production=PRODUCTION, kms=bool(KMS_KEY_ID))

# Ed25519 key that signs deletion certificates and audit checkpoints (core/signing.py): PEM,
# from SIGNING_KEY or SIGNING_KEY_FILE; outside production a development key under var/.
SIGNING_KEY = _secret("SIGNING_KEY")
signing.load_private_key(SIGNING_KEY, var_dir=VAR_DIR, production=PRODUCTION)  # fail at start, not at first use

# Retention (lifecycle/retention.py). A case is purged this many days after it closed unless a
# policy for its country says otherwise or it is under legal hold. Audit events are never
# purged before AUDIT_RETENTION_YEARS. A patient's erasure request is approved by the policy
# when nothing holds it, unless ERASURE_AUTO_APPROVE is off (then an admin decides).
DEFAULT_RETENTION_DAYS = env.int("DEFAULT_RETENTION_DAYS", default=3650)
AUDIT_RETENTION_YEARS = max(6, env.int("AUDIT_RETENTION_YEARS", default=6))
ERASURE_AUTO_APPROVE = env.bool("ERASURE_AUTO_APPROVE", default=True)
# Access review (console/review.py): a staff member reading more distinct cases than this within
# one hour is flagged for the monthly review.
AUDIT_RAPID_READS = env.int("AUDIT_RAPID_READS", default=20)
# A signed checkpoint of the audit chain's head (audit/checkpoint.py) is written every hour (beat,
# and in every process that records events) and whenever this many more events have been written.
AUDIT_CHECKPOINT_EVERY = env.int("AUDIT_CHECKPOINT_EVERY", default=1000)

# Accounts and authentication
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "landing"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24 * 3  # also the lifetime of invitation links

# Lockout: 5 bad passwords for one account, or from one address, lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.signals.axes_username"  # one counter per address, whatever its capitals
# Off: axes' reset on success deletes every failure from the address too, so signing in to
# one's own account would wipe the guesses against someone else's. accounts.signals resets
# only the signed-in account's own failures.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_VERBOSE = False  # axes would log e-mail addresses
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Sessions: rotated at login and at MFA verification; idle and absolute limits enforced
# by accounts.middleware.SessionTimeoutMiddleware.
SESSION_IDLE_TIMEOUT = {"patient": 30 * 60, "staff": 15 * 60}
SESSION_ABSOLUTE_TIMEOUT = 12 * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_COOKIE_NAME = "so_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
STEP_UP_SECONDS = 5 * 60
# Password step-ups (patients without a second factor) per account: (attempts, seconds).
STEP_UP_PASSWORD_RATE = (5, 15 * 60)
DEFAULT_TURNAROUND_HOURS = env.int("DEFAULT_TURNAROUND_HOURS", default=72)
# The clinic's name until an admin saves its details in the console (core/clinic.py).
CLINIC_NAME = env.str("CLINIC_NAME", default="secondopinion")
# The currency of the fees admins set per specialty (console: Fees), an ISO 4217 code.
FEE_CURRENCY = env.str("FEE_CURRENCY", default="EUR")
# How long an admin's emergency (break-glass) access to one case lasts.
BREAK_GLASS_MINUTES = env.int("BREAK_GLASS_MINUTES", default=30)
# A case with its report ready closes by itself this many days after the last signed document or
# follow-up question (the case page announces the day); the patient may close it sooner.
FOLLOW_UP_QUIET_DAYS = env.int("FOLLOW_UP_QUIET_DAYS", default=30)

OTP_TOTP_ISSUER = "secondopinion"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# HTTPS and headers
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
# Networks of the reverse proxies whose X-Forwarded-For is believed (secondopinion/proxy.py),
# e.g. the compose file's edge network; empty: REMOTE_ADDR is the visitor.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _network in TRUSTED_PROXIES:  # a typo stops the start, not every request
    ipaddress.ip_network(_network, strict=False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=63072000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if env.bool("BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "accelerometer": [],
    "autoplay": [],
    "camera": ["self"],  # phone photos from the upload page
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "payment": [],
    "usb": [],
}

# Internationalisation
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
# One way to write dates per language (secondopinion/formats/): templates use the named formats.
FORMAT_MODULE_PATH = ["secondopinion.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# E-mail
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))  # only for the file backend
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="secondopinion <no-reply@localhost>")
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# Logging: never log names, e-mail addresses, file contents or free text.
# One JSON object per line (secondopinion/observability.py): ids, routes, codes and timings,
# never a name, free text or a query string. LOG_FORMAT=plain for reading by eye.
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "secondopinion.observability.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(case_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.security.csrf": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Django's runserver/request lines carry raw paths: the filter rewrites them, and
        # they go through the one handler (no propagation to a second copy). Our own
        # request line says the same, so runserver's is kept for problems only.
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Optional error reporting: no personal data, no request bodies, no local variables.
SENTRY_DSN = _secret("SENTRY_DSN")
if SENTRY_DSN:
    from secondopinion.observability import init_sentry

    init_sentry(SENTRY_DSN, DEPLOYMENT, env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0))
