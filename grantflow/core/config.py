"""Default configuration. Overridden by instance/config.py, then by environment variables."""

import os
from importlib.resources import files
from pathlib import Path

# The package's own folder, wherever this module lives in it: the checkout's grantflow/, or
# site-packages/grantflow/ when installed from a wheel.
PACKAGE = Path(files("grantflow")).resolve()
# The checkout (for an installed package: the folder the package is installed in).
ROOT = PACKAGE.parent


def resource_dir(name: str) -> Path:
    """The folder `name` (templates, workflows, migrations). A wheel ships these top-level folders
    of the checkout inside the package, as grantflow/<name> (see setup.py); the checkout, and so
    an editable install, keeps them at the top."""
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else ROOT / name


def default_instance_path() -> str | None:
    """instance/ of the checkout; None when installed from a wheel, for Flask's default
    (<sys.prefix>/var/grantflow-instance). GRANTFLOW_INSTANCE overrides both."""
    if (PACKAGE / "templates").is_dir():
        return None
    return str(ROOT / "instance")


DEFAULT_SECRET_KEY = "dev-only-change-me"

# Environment variables read on top of the defaults and instance/config.py.
ENV_KEYS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_USE_SSL",
    "MAIL_DEFAULT_SENDER",
    "MAIL_DELIVERY",
    "MAIL_LEASE_SECONDS",
    "REDIS_URL",
    "QUEUE_NAME",
    "QUEUE_SQLITE_PATH",
    "QUEUE_WORKERS",
    "QUEUE_NICE",
    "BATCH_LEASE_SECONDS",
    "EXPORT_LEASE_SECONDS",
    "RETENTION_DRAFT_DAYS",
    "RETENTION_INACTIVE_DAYS",
    "PUBLIC_URL",
    "GRANTFLOW_ENV",
    "MAX_CONTENT_LENGTH",
    "PROXY_FIX",
    "SQLITE_BUSY_TIMEOUT",
    "LOGIN_LIMIT_PER_EMAIL",
    "LOGIN_LIMIT_PER_IP",
    "LOGIN_LIMIT_WINDOW",
    "MAIL_LIMIT_PER_EMAIL",
    "MAIL_LIMIT_PER_IP",
    "MAIL_LIMIT_WINDOW",
    "PAYMENT_IBAN",
    "SIGNING_PASSPHRASE",
    "PAYMENT_BIC",
    "PAYMENT_ACCOUNT_NAME",
    "BRAND_COLOUR",
    "LOGO",
    "CONTACT_EMAIL",
    "CONTACT_PHONE",
    "CONTACT_ADDRESS",
    "WORKFLOWS_DIR",
    "FORMS_DIR",
)


class Defaults:
    GRANTFLOW_ENV = "development"
    SECRET_KEY = DEFAULT_SECRET_KEY
    # SQLALCHEMY_DATABASE_URI is derived from DATABASE_URL in create_app; empty means instance/grantflow.sqlite3.
    DATABASE_URL = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # SQLite only: how long (milliseconds) a writing request waits for another's write to
    # finish before giving up. Writers queue one after another (see core.database), so at a
    # deadline rush this must cover the whole queue, not one write.
    SQLITE_BUSY_TIMEOUT = 30000
    WORKFLOWS_DIR = str(resource_dir("workflows"))
    # The form files (application and final-report forms); checked at start-up like workflows.
    FORMS_DIR = str(resource_dir("workflows") / "forms")
    # Staff roles beyond the built-in four, which workflow files may name in `roles:`:
    # {"programme_staff": {"label": {"lv": "Programmas darbinieks", "en": "Programme staff"},
    #                      "capabilities": ["screen", "assign", "moderate", "see_reviews"]}}
    # (capabilities: workflow.registry.CAPABILITIES). Checked at start-up.
    STAFF_ROLES: dict = {}

    BABEL_DEFAULT_LOCALE = "lv"
    BABEL_DEFAULT_TIMEZONE = "Europe/Riga"
    LANGUAGES = ("lv", "en")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 8
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 8

    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    # Behind a reverse proxy (nginx): how many proxies set X-Forwarded-For/-Proto, so client
    # addresses (login rate limits) and https are seen right. 0: served directly.
    PROXY_FIX = 0

    # Mail: "queue" tells the task queue's worker after the commit, "inline" sends at the end of
    # the request (tests, tiny setups), "off" leaves mails in the outbox for `flask mail send`.
    MAIL_DELIVERY = "queue"
    # A mail left "sending" longer than this (seconds) was left by a dead worker and is sent
    # again: far longer than an SMTP exchange (MAIL_TIMEOUT per step) plus rendering a PDF.
    MAIL_LEASE_SECONDS = 600
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_DEFAULT_SENDER = "GrantFlow <noreply@grantflow.local>"
    MAIL_TIMEOUT = 10
    MAIL_MAX_ATTEMPTS = 8

    # The task queue (core.queue): Redis when REDIS_URL is set (redis://host:6379/0), else a
    # SQLite file (QUEUE_SQLITE_PATH, default instance/queue.sqlite3) that needs no server.
    REDIS_URL = ""
    QUEUE_NAME = "grantflow"
    QUEUE_SQLITE_PATH = ""
    QUEUE_WORKERS = 2  # worker threads of `flask queue worker`
    QUEUE_NICE = 5  # the worker lowers its CPU priority by this much: web requests come first
    # A document batch whose worker has not moved it on for this long (seconds) was left by a
    # worker that died: the sweep resumes it. One document takes well under a second to issue.
    BATCH_LEASE_SECONDS = 120
    # An export still "running" after this long (seconds) was left by a dead worker: the sweep
    # builds it again.
    EXPORT_LEASE_SECONDS = 600
    # Retention (exports.personal.retention, daily): drafts nobody has touched for this many
    # days lose their contact details; accounts nobody has logged into for this many days are
    # pseudonymised (administrators excepted). 0 turns either off.
    RETENTION_DRAFT_DAYS = 730
    RETENTION_INACTIVE_DAYS = 1095
    QUEUE_IMMEDIATE = False  # run tasks at once in the enqueuing process (tests not about the queue)

    PUBLIC_URL = "http://127.0.0.1:5000"
    # Links mailed to people: how long they stay valid.
    EMAIL_CONFIRM_MAX_AGE = 3 * 24 * 3600  # seconds
    PASSWORD_RESET_MAX_AGE = 3600  # seconds
    INVITATION_DAYS = 14
    # Request limits, per e-mail and per client address within a window (seconds): failed
    # logins, and requests that send mail (registration, reset, confirmation, invitations).
    LOGIN_LIMIT_PER_EMAIL = 5
    LOGIN_LIMIT_PER_IP = 30
    LOGIN_LIMIT_WINDOW = 15 * 60
    MAIL_LIMIT_PER_EMAIL = 3
    MAIL_LIMIT_PER_IP = 10
    MAIL_LIMIT_WINDOW = 60 * 60

    # The programme operator, printed on letters and agreements.
    OPERATOR_NAME = "Izglītības iniciatīvu centrs"
    # The name in the genitive, as Latvian sentences need it ("... centra vārdā").
    OPERATOR_NAME_GENITIVE = "Izglītības iniciatīvu centra"
    OPERATOR_CITY = "Jēkabpils"
    OPERATOR_CITY_LOCATIVE = "Jēkabpilī"
    OPERATOR_SIGNATORY = "Daiga Zaķe"
    OPERATOR_SIGNATORY_POSITION = "direktore"
    # The operator's bank account: grants are paid from it (the SEPA files' debtor) and
    # refunds are asked to it. The name defaults to OPERATOR_NAME. Set your own.
    PAYMENT_IBAN = "LV87HABA0551012345678"
    PAYMENT_BIC = "HABALV22"
    PAYMENT_ACCOUNT_NAME = ""

    # The operator's PAdES signature on issued decision letters and agreements (pyHanko): a
    # PKCS#12 file, or a PEM key and certificate, in the instance folder (SIGNING_CHAIN: the
    # intermediate certificates' files); the key's passphrase from the environment. Unset:
    # documents are issued unsigned. SIGNATURE_TRUST_ROOTS: certificate files (PEM or DER) of
    # the certification authorities whose signatures uploaded signed copies may carry (for
    # eParaksts, its root certificates from eparaksts.lv; see documents/signing.py).
    SIGNING_PKCS12 = ""
    SIGNING_KEY = ""
    SIGNING_CERT = ""
    SIGNING_CHAIN: tuple = ()
    SIGNING_PASSPHRASE = ""
    SIGNATURE_TRUST_ROOTS: tuple = ()
    MAX_SIGNED_COPY_BYTES = 10 * 1024 * 1024

    # Open data (360Giving): the publisher's prefix from 360Giving (grant and organisation
    # identifiers start with it) and the licence the data is published under.
    OPEN_DATA_PREFIX = "360G-darbigaskopienas"
    OPEN_DATA_LICENSE = "https://creativecommons.org/licenses/by/4.0/"

    # The programme the pages are branded for: its name (one text, or {"lv": ..., "en": ...}),
    # the brand colour (header, buttons' focus and surfaces: a CSS colour), the logo (a file
    # under grantflow/static/ or an absolute URL path; empty: none), and the footer's contacts.
    PROGRAMME_NAME = {"lv": "Darbīgās kopienas", "en": "Darbīgās kopienas"}
    BRAND_COLOUR = "#1d5c4d"
    LOGO = "logo.svg"
    CONTACT_EMAIL = "kopienas@example.lv"
    CONTACT_PHONE = ""
    CONTACT_ADDRESS = "Jēkabpils"


def coerce(key: str, value: str):
    """Environment variables are strings; give booleans and integers their type."""
    if key in {"MAIL_USE_TLS", "MAIL_USE_SSL"}:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in {"MAIL_PORT", "MAX_CONTENT_LENGTH", "PROXY_FIX", "SQLITE_BUSY_TIMEOUT", "MAIL_LEASE_SECONDS",
               "QUEUE_WORKERS", "QUEUE_NICE", "BATCH_LEASE_SECONDS",
               "EXPORT_LEASE_SECONDS", "RETENTION_DRAFT_DAYS", "RETENTION_INACTIVE_DAYS"} or "_LIMIT_" in key:
        return int(value)
    return value


def from_environment() -> dict:
    values = {key: coerce(key, os.environ[key]) for key in ENV_KEYS if key in os.environ}
    # `PORT=8000 make run`: links in mails and QR codes follow the port unless PUBLIC_URL is set.
    if "PUBLIC_URL" not in values and os.environ.get("PORT", "").isdigit():
        values["PUBLIC_URL"] = f"http://127.0.0.1:{int(os.environ['PORT'])}"
    return values
