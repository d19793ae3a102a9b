"""Django settings for Liudong.

Everything a deployment changes comes from the environment (DESIGN.md §5):
``DATABASE_URL`` (default: the SQLite file ``var/liudong.sqlite3`` under the current
directory), ``LIUDONG_SECRET_KEY`` (default: a random key kept in ``var/secret_key``),
``LIUDONG_DEBUG``, ``LIUDONG_ALLOWED_HOSTS``, ``LIUDONG_SESSION_MINUTES``,
``LIUDONG_TRUSTED_PROXIES``, ``LIUDONG_HTTPS`` (with ``LIUDONG_HSTS_SECONDS`` and
``LIUDONG_TRUSTED_ORIGINS``), the login limits, ``LIUDONG_NODE_KEY`` and the upload and
import limits (``LIUDONG_UPLOAD_MAX_MB``, ``LIUDONG_IMPORT_MAX_MB`` and the others of
README's table).
"""

import os
import secrets
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("LIUDONG_VAR_DIR", "var")).resolve()


def _secret_key() -> str:
    """The key from the environment, else one kept in var/ so sessions survive a restart."""
    if key := os.environ.get("LIUDONG_SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        key_file.write_text(key)
        key_file.chmod(0o600)
    except OSError:
        # A read-only working directory (e.g. `liudong --help` somewhere odd) still works.
        key = secrets.token_urlsafe(50)
    return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("LIUDONG_DEBUG", "") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LIUDONG_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "liudong.regions",
    "liudong.accounts",
    "liudong.audit",
    "liudong.people",
    "liudong.certificates",
    "liudong.services",
    "liudong.services.programmes",
    "liudong.places",
    "liudong.stats",
    "liudong.exchange",
    "liudong.jobs",
    "liudong.backup",
    "liudong.field",
    "liudong.residents",
    "liudong.api",
    "liudong.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "liudong.web.middleware.SecurityHeadersMiddleware",
    # Before anything reads the query string (sessions, the audit's request context).
    "liudong.controlchars.ControlCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The request time limit (REQUEST_SECONDS): around everything that reads the database
    # (sessions included), after the static files, which need no limit.
    "liudong.web.deadline.RequestDeadlineMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Chinese unless the user chose English (the language switch), never the browser's.
    "liudong.web.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed a second factor with a device that
    # still exists and is confirmed (a reset device ends that at the next request).
    "django_otp.middleware.OTPMiddleware",
    # A session that still owes its second factor or a password change reaches only the
    # page that settles it (accounts.middleware).
    "liudong.accounts.middleware.SignInStepsMiddleware",
    "liudong.audit.middleware.RequestContextMiddleware",
    # A resident's session (issue 19) is read-only outside her own pages under /me/.
    "liudong.residents.middleware.ResidentReadOnlyMiddleware",
    # After the user is known (the page shows the menu), before any body is read.
    "liudong.web.middleware.UploadSizeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "liudong.urls"
WSGI_APPLICATION = "liudong.wsgi.application"

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
                "liudong.web.context_processors.navigation",
            ],
        },
    },
]


def _databases() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "liudong.sqlite3")}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("OPTIONS", {}).update(
            {
                # Take the write lock at BEGIN: the audit hash chain reads its head and
                # appends in one transaction, which must not interleave with another writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # A 64 MiB page cache (default 2 MiB) holds the hot part of the registry's
                # indexes: a 400,000-row import ran 16% faster with it (256 MiB: no faster).
                # Reads through a memory map (up to 2 GiB, pages shared with the OS cache):
                # a province's monthly report over 1,000,000 files took 9-11 s instead of
                # 17-22 s once the file outgrew the page cache (bench/report.py).
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; "
                    "PRAGMA mmap_size=2147483648;"
                ),
            }
        )
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "phone")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Similarity misses a long password that holds the user name whole; an ID number in a
    # password is personal data at rest and a guess anyone with the file can make.
    {"NAME": "liudong.accounts.passwords.UserNameValidator"},
    {"NAME": "liudong.accounts.passwords.IdNumberValidator"},
]

# Second factor (accounts.second_factor): the name authenticator apps show for our codes.
OTP_TOTP_ISSUER = "Liudong"

# Login throttling (accounts.throttle), for the login page and the API token endpoint alike:
# - LOGIN_MAX_FAILURES consecutive failures for one account from one address lock that pair;
# - LOGIN_ADDRESS_MAX_FAILURES failures from one address (an IPv6 /64 counts as one), whatever
#   the account names, lock that address: password spraying tries few passwords on many names;
# - LOGIN_GLOBAL_MAX_FAILURES failures from everywhere together close password login for
#   everyone: a spray spread over many addresses. Set it well above a busy morning's typos.
# Counts run over windows of LOGIN_LOCK_MINUTES; a lock lasts LOGIN_LOCK_MINUTES.
LOGIN_MAX_FAILURES = int(os.environ.get("LIUDONG_LOGIN_MAX_FAILURES", "5"))
LOGIN_ADDRESS_MAX_FAILURES = int(os.environ.get("LIUDONG_LOGIN_ADDRESS_MAX_FAILURES", "20"))
LOGIN_GLOBAL_MAX_FAILURES = int(os.environ.get("LIUDONG_LOGIN_GLOBAL_MAX_FAILURES", "300"))
LOGIN_LOCK_MINUTES = int(os.environ.get("LIUDONG_LOGIN_LOCK_MINUTES", "15"))

# Her own view (issue 19, liudong.residents). RESIDENT_SIGN_IN_METHOD names how she proves
# who she is (the office's access code today; an SMS code or the national app's login
# later: one class, see residents/signin.py). A code is valid RESIDENT_CODE_DAYS; her
# session lasts RESIDENT_SESSION_SECONDS; RESIDENT_ID_MAX_FAILURES wrong tries for one ID
# number (from anywhere) lock it for LOGIN_LOCK_MINUTES, and her tries count against the
# address like the staff login's (LOGIN_ADDRESS_MAX_FAILURES).
RESIDENT_SIGN_IN_METHOD = os.environ.get(
    "LIUDONG_RESIDENT_SIGN_IN_METHOD", "liudong.residents.signin.AccessCodeMethod"
)
RESIDENT_CODE_DAYS = int(os.environ.get("LIUDONG_RESIDENT_CODE_DAYS", "30"))
RESIDENT_SESSION_SECONDS = int(os.environ.get("LIUDONG_RESIDENT_SESSION_SECONDS", "900"))
RESIDENT_ID_MAX_FAILURES = int(os.environ.get("LIUDONG_RESIDENT_ID_MAX_FAILURES", "5"))
# "Who read my file" names the office and the role, never the staff member, unless the
# province's policy says she may see the name (residents/mine.who_read).
RESIDENT_SHOWS_STAFF_NAMES = os.environ.get("LIUDONG_RESIDENT_SHOWS_STAFF_NAMES", "") == "1"

# API tokens expire; this many days unless whoever issues one chooses fewer (or more, up to
# API_TOKEN_MAX_DAYS). A token that never expires cannot be issued.
API_TOKEN_DAYS = int(os.environ.get("LIUDONG_API_TOKEN_DAYS", "90"))
API_TOKEN_MAX_DAYS = 366

# Idle timeout: the session ends after this many minutes without a request.
SESSION_COOKIE_AGE = int(os.environ.get("LIUDONG_SESSION_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True
# Database sessions, an unchanged one written once a minute at most (accounts.sessions).
SESSION_ENGINE = "liudong.accounts.sessions"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
HTTPS = os.environ.get("LIUDONG_HTTPS", "") == "1"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "liudong_session"
CSRF_COOKIE_NAME = "liudong_csrftoken"
LANGUAGE_COOKIE_NAME = "liudong_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Trusted reverse proxies whose X-Forwarded-For we believe (audit log addresses).
TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("LIUDONG_TRUSTED_PROXIES", "").split(",") if p.strip()
]

# Behind TLS (LIUDONG_HTTPS=1) browsers are told to come back only over HTTPS, plain HTTP
# is redirected, and the scheme the TLS-terminating proxy saw is believed only from the
# proxy's own header. Without it the server speaks plain HTTP on the intranet and none of
# this applies (HSTS over HTTP would be ignored, a redirect would loop).
if HTTPS:
    # One year by default; an operator trying HTTPS out starts small (e.g. 300) because a
    # browser that saw the header refuses plain HTTP for that long. Subdomains are not ours.
    SECURE_HSTS_SECONDS = int(os.environ.get("LIUDONG_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_HSTS_PRELOAD = False
    # The proxy in front terminates TLS and must set (not pass through) this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
# Origins (scheme://host[:port]) whose form posts pass the CSRF check, e.g. the name the
# offices type when the proxy's public name differs from the Host it forwards.
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("LIUDONG_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# Only for `collectstatic` behind a front web server; `liudong serve` needs none.
STATIC_ROOT = os.environ.get("LIUDONG_STATIC_ROOT") or None

# Exchange between nodes: seconds between delivery rounds of `liudong worker`, and the first
# wait after a failed delivery (it doubles with each failure, up to an hour).
# The address the public reaches this node at: a certificate's QR code is a link to its
# public check page there (certificates.payload.link).
PUBLIC_URL = os.environ.get("LIUDONG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# A TrueType CJK font file (.ttf/.ttc) the printed certificate embeds; unset: the first of
# certificates.printing.FONT_FILES installed (Debian's fonts-wqy-microhei).
CERTIFICATE_FONT = os.environ.get("LIUDONG_CERTIFICATE_FONT", "")

# Rankings (assessment tables, the dashboard): a unit whose rate is of fewer than this many
# (women, fields checked, requests due) is listed as too few to rank, not ranked first at
# 100% with one woman (issue 16 item 8).
RANKING_MIN_DENOMINATOR = int(os.environ.get("LIUDONG_RANKING_MIN_DENOMINATOR", "10"))

EXCHANGE_INTERVAL = float(os.environ.get("LIUDONG_EXCHANGE_INTERVAL", "10"))
EXCHANGE_FIRST_RETRY = float(os.environ.get("LIUDONG_EXCHANGE_FIRST_RETRY", "60"))
# Seconds between signed anchors of the audit chain's head that `liudong worker` writes
# (while the log grows; 0: none). A tail cut since the last anchor is not detectable, so
# this is the window an insider has; the anchor costs one query and one signature.
AUDIT_ANCHOR_INTERVAL = float(os.environ.get("LIUDONG_AUDIT_ANCHOR_INTERVAL", "300"))
# Uploads and imports (liudong/filecheck.py; README "Upload and import limits"). A file is
# checked against these before any parser reads it. The defaults take a county register
# of 1,000,000 rows (about 220 MB as csv; as xlsx 150 MB, its sheet 0.9 GB inflated) and
# refuse a zip bomb (a sheet inflating a thousand times its size) or a 50 MB csv line.
_MIB = 1 << 20


def _limit(name: str, default: int, unit: int = 1) -> int:
    return int(os.environ.get(name, str(default))) * unit


# The largest request body a web upload may send (refused with a page, before it is read).
UPLOAD_MAX_BYTES = _limit("LIUDONG_UPLOAD_MAX_MB", 400, _MIB)
# Files the importers that stream rows read (persons, match) / those read whole (forms).
IMPORT_MAX_BYTES = _limit("LIUDONG_IMPORT_MAX_MB", 400, _MIB)
FORM_IMPORT_MAX_BYTES = _limit("LIUDONG_FORM_IMPORT_MAX_MB", 20, _MIB)
IMPORT_MAX_ROWS = _limit("LIUDONG_IMPORT_MAX_ROWS", 1_100_000)
IMPORT_MAX_COLUMNS = _limit("LIUDONG_IMPORT_MAX_COLUMNS", 200)
IMPORT_MAX_CELL_CHARS = _limit("LIUDONG_IMPORT_MAX_CELL_CHARS", 32_767)  # Excel's own ceiling
IMPORT_MAX_LINE_BYTES = _limit("LIUDONG_IMPORT_MAX_LINE_KB", 1024, 1024)  # a csv line, an xlsx row
# An xlsx file's parts inflated: all together (the sheet of a million rows is most of it),
# each part read whole (workbook, styles, relationships), and the ratio of one part's
# inflated to compressed size (real sheets stay well under 30).
IMPORT_MAX_INFLATED_BYTES = _limit("LIUDONG_IMPORT_MAX_INFLATED_MB", 2048, _MIB)
IMPORT_MAX_PART_BYTES = _limit("LIUDONG_IMPORT_MAX_PART_MB", 32, _MIB)
IMPORT_MAX_RATIO = _limit("LIUDONG_IMPORT_MAX_RATIO", 100)
IMPORT_MAX_ZIP_MEMBERS = _limit("LIUDONG_IMPORT_MAX_ZIP_MEMBERS", 1000)
# Django's own: a form's fields held in memory, files above 2.5 MiB spooled to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * _MIB
FILE_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * _MIB)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# Serve straight from the apps' static folders: `liudong serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "liudong.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["liudong.accounts.permissions.IsStaffWithRegion"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Request bodies are JSON (issue 16: a body offered as json, form and multipart at once
    # broke generated clients); the one upload (match reports) names multipart itself. The
    # parser refuses control characters in what it parsed.
    "DEFAULT_PARSER_CLASSES": ["liudong.controlchars.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "liudong.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    # Response fields as blank and null as their columns (liudong/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "liudong.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "liudong.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min"},
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Liudong API",
    "DESCRIPTION": "流动人口服务管理系统 API. Every list is scoped to the caller's region.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Enum members named for generated clients (SexEnum.MALE, not VALUE_0): x-enum-varnames.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "liudong.api.schema.name_enum_members",
        # Every operation's 4xx in the one error shape (schemathesis checks status codes).
        "liudong.api.schema.declare_errors",
    ],
    # Several models have a `status` or `action`: each choice set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "ReportStatusEnum": "liudong.stats.models.ReportStatus",
        "HelpStatusEnum": "liudong.services.models.HelpStatus",
        "CertificateStatusEnum": "liudong.certificates.models.Status",
        "SpotCheckStatusEnum": "liudong.stats.models.SpotCheckStatus",
        "FieldActionKindEnum": "liudong.field.models.Kind",
        "FieldActionStatusEnum": "liudong.field.models.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "liudong": {"handlers": ["console"], "level": "INFO"},
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}

CSRF_FAILURE_VIEW = "liudong.web.views.csrf_failure"

# --- The web server, `liudong serve` (liudong/web/server.py, issue 15) -----------------------
# Worker processes (0: one per core) and threads in each; connections the kernel holds
# beyond those before refusing; seconds a request may run before it is stopped with a 503
# page (liudong/web/deadline.py; 0: no limit).
WEB_WORKERS = int(os.environ.get("LIUDONG_WORKERS", "0"))
WEB_THREADS = int(os.environ.get("LIUDONG_THREADS", "4"))
WEB_BACKLOG = int(os.environ.get("LIUDONG_BACKLOG", "64"))
REQUEST_SECONDS = float(os.environ.get("LIUDONG_REQUEST_SECONDS", "20"))

# Long imports (liudong.jobs) are queued for `liudong worker`; tests set this to run them
# inside the request instead.
JOBS_RUN_INLINE = False

# Background work out of the web process (liudong/worker, issue 15): `liudong worker` runs
# the queued tasks (imports) and the periodic jobs: exchange delivery (EXCHANGE_INTERVAL),
# audit anchors (AUDIT_ANCHOR_INTERVAL), the statistics refresher and the resumption of
# imports whose worker died. The queue is a table of this database (django-tasks-db).
INSTALLED_APPS += ["django_tasks", "django_tasks_db", "liudong.worker"]
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The function that brings the pre-counted statistics up to date, called as
# ``refresh(budget_seconds=...)``; imported when first needed (skipped, logged once, if
# it cannot be), every STATS_REFRESH_INTERVAL seconds (0: never), working at most
# STATS_REFRESH_BUDGET seconds a round (the rest waits for the next one).
STATS_REFRESHER = os.environ.get("LIUDONG_STATS_REFRESHER", "liudong.stats.store.refresh")
STATS_REFRESH_INTERVAL = float(os.environ.get("LIUDONG_STATS_REFRESH_INTERVAL", "10"))
STATS_REFRESH_BUDGET = float(os.environ.get("LIUDONG_STATS_REFRESH_BUDGET", "30"))
# Seconds a worker holds a periodic job (renewed while it lives) and after which a worker
# that stopped reporting counts as dead: its periodic jobs pass to another worker and the
# import it ran is resumed.
WORKER_LEASE = float(os.environ.get("LIUDONG_WORKER_LEASE", "30"))
# Days a finished queued task's result row is kept (an import's own record is the jobs
# table, kept for good): the worker deletes older ones once an hour, so the queue table
# does not grow by one row per import and delivery for ever.
WORKER_KEEP_RESULTS_DAYS = float(os.environ.get("LIUDONG_WORKER_KEEP_RESULTS_DAYS", "14"))

# Pre-counted statistics store (liudong/stats/store/, issue 15): "on" reads stored cells
# where a month is stored and a count ready, "off" counts live only, "check" (the test
# suite) refreshes, reads both and raises on any difference. LIUDONG_STATS_FROM (YYYY-MM):
# the first month the refresher keeps (default: 24 months before the current one).
STATS_STORE = os.environ.get("LIUDONG_STATS_STORE", "on")
STATS_FROM = os.environ.get("LIUDONG_STATS_FROM", "")
