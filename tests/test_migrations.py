"""Migrations build the schema the models describe, on an empty SQLite and PostgreSQL database."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from clinic import MIGRATIONS_DIR, content_hash, create_app
from clinic.extensions import db
from config import TestConfig, normalise_database_url
from tests.conftest import PG_URL


def _migrated_app(uri):
    config = type("MigrationConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": uri})
    return create_app(config)


def _differences(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _check_upgrade_matches_models(uri):
    app = _migrated_app(uri)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        assert _differences(app) == []
        downgrade(directory=MIGRATIONS_DIR, revision="base")
        upgrade(directory=MIGRATIONS_DIR)
        assert _differences(app) == []
        db.engine.dispose()


def test_sqlite_empty_database_upgrades_to_models(tmp_path):
    _check_upgrade_matches_models(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


@pytest.mark.skipif(not PG_URL, reason="set CLINIC_TEST_DATABASE_URL to test PostgreSQL")
def test_postgresql_empty_database_upgrades_to_models():
    server = make_url(normalise_database_url(PG_URL))
    name = f"clinic_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _check_upgrade_matches_models(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_sqlite_triggers_survive_every_migration(tmp_path):
    """A batch alteration rebuilds a table on SQLite and drops its triggers with the old one."""
    from sqlalchemy import String

    app = _migrated_app(f"sqlite:///{tmp_path / 'triggers.sqlite3'}")
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as conn:
            found = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            triggers = set(found.scalars())
        db.engine.dispose()
    hashed = {"audit_event", "assignment", "due_definition", "handover_setting", *content_hash.HASHED_TABLES}
    missing = [f"{table}_no_{verb}" for table in hashed for verb in ("update", "delete")
               if f"{table}_no_{verb}" not in triggers]
    # Every declared length (VARCHAR(n), and bounded_text's TEXT on SQLite) is held by triggers on
    # SQLite, which ignores it, so the embedded database refuses what PostgreSQL refuses.
    for table in db.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length:
                missing += [f"{table.name}_{column.name}_length_{verb}" for verb in ("insert", "update")
                            if f"{table.name}_{column.name}_length_{verb}" not in triggers]
    assert missing == []
