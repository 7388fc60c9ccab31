"""The digitized-results portal of the Department of Science and Technology."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    # Imported here, not above: a process that only reads scans (portal.imports.reader) imports
    # this package too, and should not pay for Flask, SQLAlchemy and Alembic.
    from flask import Flask
    from flask_migrate import Migrate
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import config
    from .extensions import csrf, db, limiter
    from .search.postgresql import not_the_search_table

    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(config.load(Path(app.instance_path)))
    if overrides:
        app.config.update(overrides)
    Path(app.config["PORTAL_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    from .storage import check_settings

    check_settings(app.config)  # a wrong PORTAL_STORAGE stops the start, not the first download
    if app.config["PROXY_HOPS"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_HOPS"], x_proto=1)

    db.init_app(app)
    Migrate(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True,
            include_name=not_the_search_table)
    from .views.gate import before_the_body

    app.before_request(before_the_body)  # who is asking, and how large a body: before CSRF protection reads it
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login(app)

    from . import jobs, oauth, search
    from .views import register_views

    search.init_app(app)
    jobs.init_app(app)
    oauth.init_app(app)
    register_views(app)

    from .cli import register_commands

    register_commands(app)
    return app


def _init_login(app: Flask) -> None:
    from flask import g, session

    from .extensions import login_manager
    from .operations import sessions

    login_manager.init_app(app)
    login_manager.login_view = "account.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str):
        user, ended = sessions.session_user(session.get(sessions.COOKIE_KEY), user_id)
        g.session_ended = ended
        return user

    from .views.account import unauthorized

    login_manager.unauthorized_handler(unauthorized)
