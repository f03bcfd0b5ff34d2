"""Lift a table's append-only triggers inside a test, as someone with database access would."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import text

from clinic.db import append_only_ddl, drop_append_only_ddl
from clinic.extensions import db


@contextmanager
def triggers_dropped(*tables: str):
    """Drop the append-only triggers of `tables`, let the block tamper, commit, restore them."""
    dialect = db.engine.dialect.name
    for table in tables:
        for statement in drop_append_only_ddl(table, dialect):
            db.session.execute(text(statement))
    try:
        yield
        db.session.commit()
    finally:
        db.session.rollback()
        for table in tables:
            for statement in append_only_ddl(table, dialect):
                db.session.execute(text(statement))
        db.session.commit()
