"""GridPatrol (网格巡查) API and PWA server: `create_app` builds the Flask application."""
from __future__ import annotations

import logging

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .settings import Settings

__version__ = "0.1.0"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config.update(
        GRIDPATROL=settings,
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        JSON_AS_ASCII=False,
        API_TITLE="GridPatrol 网格巡查 API",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/assets/",
        API_SPEC_OPTIONS={"security": [{"bearerAuth": []}]},  # every route but those marked PUBLIC
    )
    from .extensions.jsonio import OrjsonProvider

    app.json = OrjsonProvider(app)  # UTF-8 out, as ensure_ascii=False did
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented hook, typed as a method
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies)

    from .context import authenticate_request
    from .extensions.http_errors import register_error_handlers
    from .extensions.api import Api
    from .extensions.database import Database
    from .resources import register_resources
    from .timing import register_timing
    from .web import register_web

    Database().init_app(app)
    if settings.is_production:
        _refuse_demo_accounts(app)
    register_timing(app)  # first, so the clock includes authentication
    register_error_handlers(app)
    app.before_request(authenticate_request)
    api = Api(app)  # one Api per app: tests build apps on both databases in one process
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    register_resources(api)
    from .resources.open311.routes import blp as open311  # its own standard (GeoReport v2), not in /api/openapi.json

    app.register_blueprint(open311)
    from .resources.public.routes import blp as public_pages  # pages for anyone: a draw's record, 亮码检查
    app.register_blueprint(public_pages)
    register_web(app)
    _deliver_notifications_after_requests(app)
    return app


def _deliver_notifications_after_requests(app: Flask) -> None:
    """A request that made deliveries (services.notifications.outbox) starts sending them once it is done, rather
    than at the next housekeeping round. NOTIFY_KICK False leaves them to the caller (tests that drive it)."""
    from flask import g

    @app.after_request
    def kick(response):
        if g.pop("notifications_made", False) and app.config.get("NOTIFY_KICK", True):
            from .services.notifications import deliver

            deliver.kick(app)
        return response


def _refuse_demo_accounts(app: Flask) -> None:
    """In production, refuse to start while a demo account still opens with the published demo password."""
    from sqlalchemy import inspect, select

    from .demo.loader import DEMO_ACCOUNTS
    from .models import User
    from .security import verify_password
    from .settings import DEMO_PASSWORD, ConfigError

    with app.app_context():
        db = app.extensions["gridpatrol_db"]
        if not inspect(db.engine).has_table("users"):
            return  # not migrated yet: the release step runs migrations with this same configuration
        session = db.session()
        users = session.scalars(select(User).where(User.username.in_(DEMO_ACCOUNTS), User.active)).all()
        open_demo = [u.username for u in users if verify_password(u.password_hash, DEMO_PASSWORD)]
        db.session.remove()
    if open_demo:
        raise ConfigError(
            "GRIDPATROL_ENV=production but demo accounts still use the demo password: "
            + ", ".join(open_demo) + ". Deactivate them or set new passwords (gridpatrol user set-password)."
        )
