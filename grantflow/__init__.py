"""GrantFlow: a workflow engine for community-idea grant competitions.

`create_app` is the application factory; `cli` holds the `flask` commands. Everything else
lives in an area (see README, Development, for their order of layers)."""

import os

from flask import Flask
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from grantflow import cli
from grantflow.accounts import views as accounts_views
from grantflow.accounts.models import User
from grantflow.amendments import views as amendments_views
from grantflow.api import views as api_views
from grantflow.competitions import views as competitions_views
from grantflow.core import drafts, queue, web  # noqa: F401  (drafts: its model, form_drafts)
from grantflow.core.config import (
    DEFAULT_SECRET_KEY,
    PACKAGE,
    Defaults,
    default_instance_path,
    from_environment,
    resource_dir,
)
from grantflow.core.database import configure_engine, database_uri
from grantflow.core.extensions import babel, csrf, db, login_manager, migrate
from grantflow.core.i18n import LOGIN_MESSAGE, select_locale
from grantflow.documents import views as documents_views
from grantflow.exports import views as exports_views
from grantflow.funding import views as funding_views
from grantflow.ideas import views as ideas_views
from grantflow.ideas.states import stranded
from grantflow.impact import views as impact_views
from grantflow.mail import operations as mail_operations
from grantflow.messages import views as messages_views
from grantflow.opendata import views as opendata_views
from grantflow.organisations import views as organisations_views
from grantflow.pages import views as pages_views
from grantflow.payments import views as payments_views
from grantflow.people import views as people_views
from grantflow.public import views as public_views
from grantflow.questionnaires import views as questionnaires_views
from grantflow.questionnaires.definition import declared_name
from grantflow.questionnaires.definition import load_dir as load_forms
from grantflow.reminders import views as reminders_views
from grantflow.reports import views as reports_views
from grantflow.review import views as review_views
from grantflow.workflow.definition import Broken, load_dir
from grantflow.workflow.registry import parse_staff_roles, registry

# Each area's blueprint. Importing the areas above registered their models, roles, guards and
# effects, so every name a workflow file uses is known before the files load.
BLUEPRINTS = (
    accounts_views.bp,
    organisations_views.bp,
    competitions_views.bp,
    ideas_views.bp,
    review_views.bp,
    funding_views.bp,
    messages_views.bp,
    documents_views.bp,
    reports_views.bp,
    payments_views.bp,
    amendments_views.bp,
    pages_views.bp,
    opendata_views.bp,
    public_views.bp,
    impact_views.bp,
    people_views.bp,
    reminders_views.bp,
    exports_views.bp,
    questionnaires_views.bp,
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
        instance_path=os.environ.get("GRANTFLOW_INSTANCE") or default_instance_path(),
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        static_folder=str(PACKAGE / "static"),
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(from_environment())
    app.config.update(config or {})
    _check_config(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["DATABASE_URL"], app.instance_path)
    os.makedirs(app.instance_path, exist_ok=True)
    # Ids in URLs beyond what the database holds are 404, not a database error.
    app.url_map.converters["int"] = BoundedInt
    if app.config["PROXY_FIX"]:
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    with app.app_context():
        configure_engine(db.engine, int(app.config["SQLITE_BUSY_TIMEOUT"]))
    # A broken file does not stop the app: its problems are logged and shown to administrators.
    app.extensions["grantflow.staff_roles"] = _staff_roles(app)
    workflows, broken = load_dir(
        app.config["WORKFLOWS_DIR"], staff_roles=app.extensions["grantflow.staff_roles"], forms_dir=app.config["FORMS_DIR"]
    )
    with app.app_context():
        broken += _refuse_stranded(app, workflows)
    app.extensions["grantflow.workflows"] = workflows
    app.extensions["grantflow.workflow_problems"] = broken
    for file in broken:
        app.logger.error("workflow file %s not loaded: %s", file.source, "; ".join(file.problems))
    app.extensions["grantflow.form_problems"] = _form_problems(app.config["FORMS_DIR"])
    for file in app.extensions["grantflow.form_problems"]:
        app.logger.error("form file %s not loaded: %s", file.source, "; ".join(file.problems))
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    api_views.init_app(app)  # the JSON API (its own Api object and error answers) and the tokens page
    cli.register(app)
    return app


def _form_problems(directory: str) -> list[Broken]:
    """Every form file that does not load, with its problems: reported, never fatal (form
    versions already stored keep working; see questionnaires.operations.default_form)."""
    _forms, broken = load_forms(directory)
    return [Broken(source, declared_name(source), tuple(problems)) for source, problems in sorted(broken.items())]


def _refuse_stranded(app: Flask, workflows: dict) -> list[Broken]:
    """A workflow file that no longer has a state in which ideas are is refused like a broken
    one, naming them (`ideas.states`). Removed from `workflows`; returned as broken. A database
    not reachable or not yet migrated is no reason to refuse: the check is skipped, said in the
    log, and `flask workflow check --database` runs it on demand."""
    try:
        problems = stranded(workflows)
    except SQLAlchemyError as error:
        app.logger.info("workflow states not checked against the database: %s", type(error).__name__)
        problems = {}
    finally:
        db.session.rollback()
        db.session.remove()
    refused = []
    for name, found in problems.items():
        refused.append(Broken(workflows.pop(name).source, name, tuple(found)))
    return refused


def _check_config(app: Flask) -> None:
    if app.config["MAIL_DELIVERY"] not in ("queue", "inline", "off"):
        raise ConfigError(f"MAIL_DELIVERY must be queue, inline or off, not {app.config['MAIL_DELIVERY']!r}")
    if app.config["GRANTFLOW_ENV"] == "production":
        if app.config["SECRET_KEY"] in (DEFAULT_SECRET_KEY, "", None):
            raise ConfigError(
                "Refusing to start in production with the default SECRET_KEY: set SECRET_KEY in the "
                "environment or in instance/config.py (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    # One catalogue per area: grantflow/<area>/translations/<lang>/LC_MESSAGES/messages.po
    dirs = sorted(str(p) for p in PACKAGE.glob("**/translations") if p.is_dir())
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", ";".join(dirs) or "translations")
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = LOGIN_MESSAGE
    login_manager.localize_callback = gettext
    login_manager.session_protection = "strong"
    mail_operations.init_app(app)
    # After every area is imported: their tasks are declared.
    queue.init_app(app)

    @login_manager.user_loader
    def load_user(session_id: str):
        return User.from_session_id(session_id)

    web.init_app(app)


def _staff_roles(app: Flask) -> dict:
    """The deployment's staff roles (config `STAFF_ROLES`); a mistake there stops start-up,
    naming every problem, as any other configuration error does."""
    roles, problems = parse_staff_roles(app.config.get("STAFF_ROLES") or {}, builtin=registry.roles)
    if problems:
        raise ConfigError("; ".join(problems))
    return roles
