"""The PostgreSQL role the app runs as: it reads and appends, and changes in place only what it must.

Migrations run as the tables' owner. The app connects as another role that cannot TRUNCATE,
DELETE, UPDATE, ALTER or DROP the audit trail and the clinical tables, nor disable their
triggers (only an owner can): a leaked application password then cannot erase the record.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from clinic.extensions import db

#: The only columns the app changes in place, found by reading the services. Every other
#: table, the audit trail and every clinical table among them, is SELECT and INSERT only.
#: A service that starts changing another column of these tables adds it here (and the owner
#: runs grant-app-role again); SELECT ... FOR UPDATE also needs one of a table's columns here.
APP_UPDATES: dict[str, tuple[str, ...]] = {
    "user_account": ("display_name", "role", "active", "password_hash"),
    "user_session": ("last_seen_at", "ended_at", "ended_reason"),
    "login_throttle": ("failed_count", "last_failed_at", "locked_until"),
    "unit": ("name", "timezone", "shift_pattern", "late_entry_minutes"),
    "bed": ("active",),
    "patient": ("allergies",),
    "admission": (
        "bed_id", "status", "discharged_at", "discharged_by_id", "disposition", "discharge_note",
        "spo2_scale", "spo2_scale_set_by_id", "spo2_scale_set_at",
        "observation_level", "observation_level_since",
    ),
}
#: Tables whose rows the app deletes: a login throttle is cleared by a good login.
APP_DELETES = ("login_throttle",)


class RoleError(Exception):
    """The role cannot be made the app's role (missing, or too powerful to be restricted)."""


def _quote(connection: Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote(name)


def _check_role(connection: Connection, role: str, schema: str) -> None:
    found = connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).first()
    if found is None:
        raise RoleError(
            f"there is no role {role!r}. Create it first, as a database administrator: "
            f"CREATE ROLE {role} LOGIN PASSWORD '…';"
        )
    if found.rolsuper or found.rolbypassrls:
        raise RoleError(f"{role!r} is a superuser (or bypasses row security): it cannot be restricted")
    owner_of = connection.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') "
            "AND pg_has_role(:role, c.relowner, 'USAGE') LIMIT 1"
        ),
        {"schema": schema, "role": role},
    ).scalar()
    if owner_of is not None:
        raise RoleError(
            f"{role!r} owns (or is a member of the owner of) table {owner_of}: an owner can "
            "truncate, alter and drop. The app's role must be a role of its own."
        )


def grant_statements(connection: Connection, role: str, schema: str) -> list[str]:
    """Return the statements that give `role` exactly the app's privileges in `schema`."""
    q_role, q_schema = _quote(connection, role), _quote(connection, schema)
    statements = [
        # Start from nothing, so running it again after a migration leaves no stale grant.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {q_schema} FROM {q_role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {q_schema} FROM {q_role}",
        f"GRANT USAGE ON SCHEMA {q_schema} TO {q_role}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {q_schema} TO {q_role}",
    ]
    for name in db.metadata.tables:
        table = f"{q_schema}.{_quote(connection, name)}"
        statements.append(f"GRANT SELECT, INSERT ON {table} TO {q_role}")
        if name in APP_UPDATES:
            columns = ", ".join(_quote(connection, c) for c in APP_UPDATES[name])
            statements.append(f"GRANT UPDATE ({columns}) ON {table} TO {q_role}")
        if name in APP_DELETES:
            statements.append(f"GRANT DELETE ON {table} TO {q_role}")
    return statements


def grant_app_role(connection: Connection, role: str) -> str:
    """Give `role` the app's privileges on the connection's schema; return the schema's name."""
    if connection.dialect.name != "postgresql":
        raise RoleError("grant-app-role is for PostgreSQL; SQLite has no roles")
    schema = connection.execute(text("SELECT current_schema()")).scalar()
    _check_role(connection, role, schema)
    for statement in grant_statements(connection, role, schema):
        connection.execute(text(statement))
    return schema
