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

    # Mail: "thread" sends after commit in a background thread, "inline" right after commit
    # (tests), "off" leaves mails in the outbox for `flask mail send`.
    MAIL_DELIVERY = "thread"
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 25
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_DEFAULT_SENDER = "GrantFlow <noreply@grantflow.local>"
    MAIL_TIMEOUT = 10
    MAIL_MAX_ATTEMPTS = 8

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


def coerce(key: str, value: str):
    """Environment variables are strings; give booleans and integers their type."""
    if key in {"MAIL_USE_TLS", "MAIL_USE_SSL"}:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in {"MAIL_PORT", "MAX_CONTENT_LENGTH", "PROXY_FIX", "SQLITE_BUSY_TIMEOUT"} or "_LIMIT_" in key:
        return int(value)
    return value


def from_environment() -> dict:
    values = {key: coerce(key, os.environ[key]) for key in ENV_KEYS if key in os.environ}
    # `PORT=8000 make run`: links in mails and QR codes follow the port unless PUBLIC_URL is set.
    if "PUBLIC_URL" not in values and os.environ.get("PORT", "").isdigit():
        values["PUBLIC_URL"] = f"http://127.0.0.1:{int(os.environ['PORT'])}"
    return values
