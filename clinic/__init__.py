"""Detox clinical-monitoring record: the application factory."""

from __future__ import annotations

import os
import secrets

from flask import Flask, abort, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, Config

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(config_class: type[Config] | str | None = None) -> Flask:
    """Build the app; touches no database."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
    )
    app.config.from_object(_resolve_config(config_class))
    os.makedirs(app.instance_path, exist_ok=True)
    configure_secrets(app)
    configure_database_url(app)
    configure_proxies(app)
    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_errors(app)
    register_commands(app)
    return app


def _resolve_config(config_class):
    if config_class is None:
        config_class = os.environ.get("CLINIC_CONFIG", "production")
    if isinstance(config_class, str):
        try:
            return CONFIGS[config_class]
        except KeyError:
            raise RuntimeError(
                f"unknown CLINIC_CONFIG {config_class!r}; use one of {', '.join(CONFIGS)}"
            ) from None
    return config_class


#: Shortest secret production accepts: 32 characters leave no key an attacker could try out.
MIN_SECRET_LENGTH = 32


def configure_secrets(app: Flask) -> None:
    """Refuse to start without long secrets in production; elsewhere keep them in the instance folder."""
    for name in ("SECRET_KEY", "AUDIT_HMAC_KEY"):
        if app.config.get(name):
            if app.config.get("REQUIRE_SECRETS") and len(app.config[name]) < MIN_SECRET_LENGTH:
                raise RuntimeError(
                    f"{name} is shorter than {MIN_SECRET_LENGTH} characters. Production refuses "
                    f"to start with it: set {name} to a long random value, such as the output of "
                    "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            continue
        if app.config.get("REQUIRE_SECRETS"):
            raise RuntimeError(
                f"{name} is not set. Production refuses to start without it: set the {name} "
                "environment variable to a long random value (and keep AUDIT_HMAC_KEY out of "
                "the database and its backups)."
            )
        path = os.path.join(app.instance_path, name.lower())
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        with open(path) as handle:
            app.config[name] = handle.read().strip()


def configure_database_url(app: Flask) -> None:
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "clinic.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    # A failed statement's parameters are notes, names and allergies: never in an error or a log.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "hide_parameters": True,
    }
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Times come back in UTC, as the app keeps them: psycopg then tags them with
        # datetime.UTC itself and UTCDateTime has nothing to convert (a board reads about a
        # thousand). Shown times are converted to each unit's zone as before.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}))
        connect_args = dict(options.get("connect_args", {}))
        connect_args["options"] = " ".join(filter(None, ["-c TimeZone=UTC", connect_args.get("options")]))
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options | {"connect_args": connect_args}


def configure_proxies(app: Flask) -> None:
    """Trust X-Forwarded-* only from as many proxies as configured (default none)."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    from clinic.db import configure_sqlite
    from clinic.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    # "strong" protection trusts a client-set X-Forwarded-For; revocable sessions do the job.
    login_manager.session_protection = None
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(
                engine,
                busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"],
                # An in-memory database (tooling, not the app) has no file to lock beside.
                lock_path=f"{engine.url.database}.writelock" if engine.url.database else None,
            )


def register_url_converters(app: Flask) -> None:
    from clinic.routing import IdConverter

    app.url_map.converters["int"] = IdConverter


def register_blueprints(app: Flask) -> None:
    from clinic.admin import bp as admin_bp
    from clinic.admissions import bp as admissions_bp
    from clinic.assessments import bp as assessments_bp
    from clinic.assignments import bp as assignments_bp
    from clinic.audit_report import bp as audit_report_bp
    from clinic.auth import bp as auth_bp
    from clinic.board import bp as board_bp
    from clinic.duelist import bp as duelist_bp
    from clinic.escalations import bp as escalations_bp
    from clinic.handover import bp as handover_bp
    from clinic.main import bp as main_bp
    from clinic.monitoring import bp as monitoring_bp
    from clinic.notes import bp as notes_bp
    from clinic.patients import bp as patients_bp
    from clinic.prn.routes import bp as prn_bp
    from clinic.rounds import bp as rounds_bp
    from clinic.safety import bp as safety_bp
    from clinic.trends import bp as trends_bp
    from clinic.vitals import bp as vitals_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(board_bp)
    app.register_blueprint(admissions_bp)
    app.register_blueprint(vitals_bp)
    app.register_blueprint(assessments_bp)
    app.register_blueprint(notes_bp)
    app.register_blueprint(prn_bp)
    app.register_blueprint(escalations_bp)
    app.register_blueprint(monitoring_bp)
    app.register_blueprint(duelist_bp)
    app.register_blueprint(rounds_bp)
    app.register_blueprint(safety_bp)
    app.register_blueprint(assignments_bp)
    app.register_blueprint(trends_bp)
    app.register_blueprint(handover_bp)
    app.register_blueprint(patients_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(audit_report_bp, url_prefix="/audit")


#: Endpoints reachable without logging in.
PUBLIC_ENDPOINTS = {"auth.login", "auth.logout", "static"}


def register_request_hooks(app: Flask) -> None:
    from clinic.security import register_refusal_audit, register_security_headers

    @app.before_request
    def require_login():
        # A second line behind each view's own decorator: a route that forgets it stays closed.
        public = PUBLIC_ENDPOINTS | set(app.config.get("EXTRA_PUBLIC_ENDPOINTS", ()))
        if request.endpoint in public or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            from clinic.extensions import login_manager

            return login_manager.unauthorized()
        view = app.view_functions.get(request.endpoint)
        if view is not None and not hasattr(view, "allowed_roles"):
            abort(403)
        return None

    register_security_headers(app)
    register_refusal_audit(app)


def register_template_helpers(app: Flask) -> None:
    from clinic import badges, saved, timefmt
    from clinic.assessments.services import ENTRY_LABELS
    from clinic.datehint import date_hint
    from clinic.forms import EmptyForm
    from clinic.models.patient import DISPOSITIONS, PROTOCOL_SHORT
    from clinic.routing import next_path

    app.jinja_env.globals.update(badges.TEMPLATE_GLOBALS)
    app.jinja_env.globals["next_path"] = next_path
    app.jinja_env.globals["saved_notice"] = saved.saved_notice
    app.jinja_env.globals["date_hint"] = date_hint
    app.add_template_filter(timefmt.local_time, "local_time")
    app.add_template_filter(timefmt.to_local_input, "local_input")
    app.add_template_filter(timefmt.ago, "ago")
    app.add_template_filter(lambda code: ENTRY_LABELS.get(code, code), "protocol_label")
    app.add_template_filter(lambda code: PROTOCOL_SHORT.get(code, code), "protocol_short")
    app.add_template_filter(lambda code: DISPOSITIONS.get(code, code), "disposition_label")

    @app.context_processor
    def inject():
        return {"logout_form": EmptyForm()}


def register_errors(app: Flask) -> None:
    from clinic.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    from clinic.cli import register_cli

    register_cli(app)
