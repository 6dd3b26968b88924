"""AnyTrack / Spot customer portal."""

from __future__ import annotations

import click
from flask import Flask, has_request_context, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import ConfigError, instance_path, load_config

__all__ = ["ConfigError", "create_app"]


def create_app(config: object = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, commands.

    ``config`` is a :class:`portal.config.Config` instance or class, an environment name,
    or ``None`` for ``PORTAL_ENV``.

    :raises ConfigError: when the configuration is incomplete (production without secrets).
    """
    from portal.extensions import check_limits_only_where_declared
    from portal.templating import LocaleEnvironment

    cfg = load_config(config)
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(instance_path()),
    )
    # Before anything builds app.jinja_env: templates compiled once per language.
    app.jinja_environment = LocaleEnvironment
    cfg.finalise(instance_path())
    app.config.from_object(cfg)
    app.config["ENV_NAME"] = cfg.ENV_NAME
    app.config["PORTAL_BASE_URL"] = cfg.base_url()

    register_extensions(app)
    register_blueprints(app)
    check_limits_only_where_declared(app)
    register_errors(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extensions, the database pragmas, logging, headers and templates."""
    from portal import database, frontcache, models, templating  # noqa: F401 - models: metadata
    from portal.audit import access
    from portal.auth.sessions import load_user_from_session
    from portal.extensions import babel, csrf, db, limiter, login_manager
    from portal.logs import configure_logging
    from portal.security import register_security

    configure_logging(app)
    db.init_app(app)
    database.configure_engines(app)
    database.register_request_transaction(app)
    access.install()
    register_migrations(app)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Asia/Seoul")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = None  # the server-side session table does this job
    login_manager.user_loader(load_user_from_session)
    register_security(app)
    templating.register(app)
    # Outside the request transaction's retry: a replayed page touches no database.
    frontcache.register(app)
    proxies = int(app.config.get("PORTAL_TRUSTED_PROXIES", 0) or 0)
    if proxies:
        # Only as many X-Forwarded-* hops as there are real proxies in front of us. The
        # outermost layer, so the front cache keys its pages on the client's scheme/host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def register_migrations(app: Flask) -> None:
    """Flask-Migrate, for the ``flask db`` commands only.

    With Alembic it weighs 11 MB a process, and a web worker never migrates: it is loaded
    when the ``flask`` command builds the app (inside its click context) and in the tests,
    which run the commands on apps they build themselves.
    """
    if not app.testing and click.get_current_context(silent=True) is None:
        return
    from flask_migrate import Migrate

    from portal.extensions import db

    Migrate(app, db, directory=str(app.root_path + "/../migrations"))


def _select_locale() -> str:
    # Commands and background work speak Korean, the portal's first language.
    if not has_request_context():
        return "ko"
    lang = request.cookies.get("lang", "")
    return lang if lang in ("ko", "en") else "ko"


def register_blueprints(app: Flask) -> None:
    """Mount every blueprint; none declares its own template or static folder."""
    from portal.dbtypes import IdConverter

    # Before any route is added: every <int:…> then stays within the id columns' range.
    app.url_map.converters["int"] = IdConverter
    from portal.account import bp as account_bp
    from portal.account import views as _account_views  # noqa: F401 - attaches routes
    from portal.admin import bp as admin_bp
    from portal.admin import customer_views as _admin_customer_views  # noqa: F401
    from portal.admin import disclosure_views as _admin_disclosure_views  # noqa: F401
    from portal.admin import import_views as _admin_import_views  # noqa: F401
    from portal.admin import office_views as _admin_office_views  # noqa: F401
    from portal.admin import queue_views as _admin_queue_views  # noqa: F401
    from portal.admin import staff_views as _admin_staff_views  # noqa: F401
    from portal.admin import views as _admin_views  # noqa: F401
    from portal.auth import account_views as _auth_account_views  # noqa: F401
    from portal.auth import bp as auth_bp
    from portal.auth import views as _auth_views  # noqa: F401
    from portal.billing import bp as billing_bp
    from portal.billing import views as _billing_views  # noqa: F401
    from portal.main import bp as main_bp
    from portal.main import views as _main_views  # noqa: F401
    from portal.policy import bp as policy_bp
    from portal.policy import views as _policy_views  # noqa: F401
    from portal.withdrawal import bp as withdrawal_bp
    from portal.withdrawal import views as _withdrawal_views  # noqa: F401

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(policy_bp)
    app.register_blueprint(withdrawal_bp)
    app.register_blueprint(admin_bp)


def register_errors(app: Flask) -> None:
    from portal.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)
