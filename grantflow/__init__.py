"""GrantFlow: a workflow engine for community-idea grant competitions."""

import os
from importlib import import_module

from flask import Flask
from werkzeug.routing import IntegerConverter

from grantflow.config import DEFAULT_SECRET_KEY, ROOT, Defaults, from_environment

# Product areas, each a package with a `views.bp` blueprint (and optionally `cli.register`).
AREAS = ("home", "auth", "orgs", "ideas", "admin", "apply", "reports", "decide", "documents", "review", "competitions")
# Modules whose guards, effects and models must be known before workflows load.
DOMAIN_MODULES = (
    "grantflow.territory.models",
    "grantflow.auth.models",
    "grantflow.orgs.models",
    "grantflow.competitions.models",
    "grantflow.apply.models",
    "grantflow.review.models",
    "grantflow.decide.models",
    "grantflow.documents.models",
    "grantflow.reports.models",
    "grantflow.workflow.models",
    "grantflow.mail.models",
    "grantflow.auth.operations",
    "grantflow.apply.operations",
    "grantflow.admin.operations",
    "grantflow.review.operations",
    "grantflow.decide.operations",
    "grantflow.reports.operations",
)


class ConfigError(RuntimeError):
    pass


class BoundedInt(IntegerConverter):
    """`<int:...>` limited to what an INTEGER column holds (PostgreSQL refuses larger)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Configuration: defaults, then instance/config.py, then environment variables, then
    `config` (tests)."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("GRANTFLOW_INSTANCE", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "grantflow" / "static"),
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    app.config.update(config or {})
    _check_config(app)

    from grantflow.database import configure_engine, database_uri

    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["DATABASE_URL"], app.instance_path)
    os.makedirs(app.instance_path, exist_ok=True)
    # Ids in URLs beyond what the database holds are 404, not a database error.
    app.url_map.converters["int"] = BoundedInt
    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    for module in DOMAIN_MODULES:
        import_module(module)
    _init_extensions(app)
    with app.app_context():
        from grantflow.extensions import db

        configure_engine(db.engine)

    from grantflow.workflow.definition import load_dir

    app.extensions["grantflow.workflows"] = load_dir(app.config["WORKFLOWS_DIR"])

    for area in AREAS:
        module = import_module(f"grantflow.{area}.views")
        app.register_blueprint(module.bp)
    from grantflow import cli

    cli.register(app)
    return app


def _check_config(app: Flask) -> None:
    if app.config["GRANTFLOW_ENV"] == "production":
        if app.config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None):
            raise ConfigError(
                "Refusing to start in production with the default SECRET_KEY: set SECRET_KEY in the "
                "environment or in instance/config.py (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _init_extensions(app: Flask) -> None:
    from grantflow.extensions import babel, csrf, db, login_manager, migrate
    from grantflow.i18n import select_locale
    from grantflow.mail import operations as mail_ops

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    # One catalogue per area: grantflow/<area>/translations/<lang>/LC_MESSAGES/messages.po
    dirs = sorted(str(p) for p in (ROOT / "grantflow").glob("**/translations") if p.is_dir())
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(dirs) or "translations")
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    mail_ops.init_app(app)

    from grantflow.auth.models import User

    @login_manager.user_loader
    def load_user(session_id: str):
        return User.from_session_id(session_id)

    from grantflow import web

    web.init_app(app)
