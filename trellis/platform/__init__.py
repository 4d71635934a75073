"""The Trellis web platform: ``create_app`` builds the Flask application.

Blueprints per area (``auth``, ``home``, ``admin``, ``network``, ``chain``, ``scoring``,
``ledger``, ``vendor``, ``anchor``, ``assistant``) each live in their own package with
``views.py`` (pages), ``api.py`` (JSON under ``/api/v1``) and ``cli.py`` (commands). An area
whose pages span several modules (``vendor``, ``anchor``) keeps its one blueprint in
``blueprint.py``; its page modules add routes to it.
:mod:`trellis.platform.blueprints` imports every blueprint object by name (nothing is
looked up from strings); ``create_app`` imports it, so importing this package stays light.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing Flask and the database layer is left to create_app
    from flask import Flask

    from trellis.config import Settings

logger = logging.getLogger(__name__)


def create_app(test_config: dict | None = None, *, settings: Settings | None = None,
               session_factory=None, light: bool = False, models: bool = True) -> Flask:
    """Build the application.

    *settings* default to the ``TRELLIS_*`` environment; *test_config* is merged into
    ``app.config`` (tests); *session_factory* replaces the engine's sessions (tests bind
    it to a connection that is rolled back). A *light* application (for commands) has the
    settings, the database and the models but no pages, API or login: building it does
    not import the areas' views (and with them scipy, web3, pandas...). With *models*
    false (read-only commands) not every area's tables are imported either: the command
    imports the ones it reads.
    """
    # Late imports throughout: every trellis.platform.* import (the CLI's too) runs this file.
    from flask import Flask

    from trellis import db as database
    from trellis.config import Settings

    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=settings.instance_path)
    from trellis.platform.converters import BoundedIntConverter

    # Before any route is added: an id past the database's range is "not found", not a
    # 500 from the driver.
    app.url_map.converters["int"] = BoundedIntConverter
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Alembic lists each of its plugins at INFO when the health check first reads the
    # migration heads (a dozen lines a worker); its migrations' own lines stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.upload_max_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_NAME="trellis_session",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.cookie_secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.session_max_seconds),
        WTF_CSRF_TIME_LIMIT=settings.session_max_seconds,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        JSON_AS_ASCII=False,
    )
    if test_config:
        app.config.update(test_config)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the last N hops are believed: a client cannot choose its own address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,
                                x_proto=settings.trusted_proxies)
    app.extensions["trellis.settings"] = settings
    if session_factory is None:
        engine = database.make_engine(settings.database_url)
        app.extensions["trellis.engine"] = engine
        session_factory = database.make_sessionmaker(engine)
    app.extensions["trellis.sessions"] = session_factory
    if models or not light:
        from trellis import schema, tasks

        schema.import_models()
        from trellis.platform.web import install_audit_listeners

        # wherever jobs run (pages, scheduler, worker): the chain's re-anchoring is audited
        install_audit_listeners()

        app.extensions["trellis.tasks"] = tasks.install(
            tasks.TaskQueue(settings=settings, session_factory=session_factory))

    from trellis.platform import web

    if light:
        app.teardown_appcontext(web.close_session)
        return app
    from trellis.platform import errors, extensions, i18n, links, security, words

    extensions.csrf.init_app(app)
    extensions.babel.init_app(
        app, locale_selector=i18n.select_locale,
        default_translation_directories=";".join(str(p) for p in i18n.translation_dirs()))
    i18n.init_app(app)
    words.install(app)
    links.install(app)
    _init_login(app)
    security.init_app(app)
    errors.init_app(app)
    app.teardown_appcontext(web.close_session)

    from trellis.platform import nav

    app.context_processor(nav.context)
    from trellis.platform.blueprints import APIS, PAGES

    for page_bp in PAGES:
        app.register_blueprint(page_bp)
    for api_bp in APIS:
        app.register_blueprint(api_bp, url_prefix="/api/v1")
    from trellis.platform.api import auth as api_auth

    api_auth.init_app(app)
    from trellis.platform import retry

    retry.init_app(app)   # after every view is registered
    return app


def _init_login(app: Flask) -> None:
    # late: as in create_app
    from flask_babel import lazy_gettext

    from trellis.accounts.models import User
    from trellis.platform.extensions import login_manager
    from trellis.platform.web import db

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = lazy_gettext("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        from trellis.platform import sessions  # late: as in create_app

        try:
            user = db().get(User, int(user_id))
        except (ValueError, OverflowError):
            return None
        if user is None or not user.is_active or not sessions.valid(user):
            sessions.drop()
            return None
        return user
