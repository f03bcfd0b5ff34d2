"""Statements of every charting request, compiled once per database and run on the driver's cursor.

Every charting request writes two rows, the entry and its audit event, after reading the tail
of the audit chain. Through SQLAlchemy's execution path, building each statement's parameters
and result cost more than running it (profiled in bench/). Here a statement is compiled once;
each value still goes through its column's own bind processor, so a row is stored exactly as a
Core INSERT would store it, and a driver error comes back as the SQLAlchemy exception callers
already handle.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable, Table, exc, insert
from sqlalchemy.engine import Dialect

from clinic.extensions import db


class PreparedInsert:
    """One table's INSERT of every column but the id, returning the new id."""

    def __init__(self, table: Table):
        if any(column.server_default is not None for column in table.columns):
            raise ValueError(f"{table.name}: a server default would be overwritten")
        self.table = table
        self.columns = [column for column in table.columns if not column.primary_key]
        self._compiled: dict[str, tuple[str, list[tuple[str, Any, Any]], bool]] = {}

    def _compile(self, dialect: Dialect):
        keys = [column.key for column in self.columns]
        compiled = insert(self.table).returning(self.table.c.id).compile(
            dialect=dialect, column_keys=keys
        )
        order = compiled.positiontup if compiled.positional else keys
        by_key = {column.key: column for column in self.columns}
        steps = [
            (key, by_key[key].type.dialect_impl(dialect).bind_processor(dialect), by_key[key].default)
            for key in order
        ]
        prepared = (compiled.string, steps, compiled.positional)
        self._compiled[dialect.name] = prepared
        return prepared

    def __call__(self, values: dict[str, Any]) -> int:
        """Insert `values` (column key -> value; a missing key takes the column's default)."""
        connection = db.session.connection()
        dialect = connection.dialect
        sql, steps, positional = self._compiled.get(dialect.name) or self._compile(dialect)
        params = []
        for key, process, default in steps:
            if key in values:
                value = values[key]
            elif default is None:
                value = None
            else:
                value = default.arg(None) if default.is_callable else default.arg
            params.append(process(value) if process is not None else value)
        if not positional:
            params = dict(zip((key for key, _, _ in steps), params, strict=True))
        return _first_value(connection, sql, params)


class PreparedScalar:
    """Statements without parameters, sent together; the last one's first value is returned.

    Only for results the driver already hands back as wanted (integers, text): no result
    processing is applied. Several statements go in one round trip and run one after another,
    each with a snapshot of its own under READ COMMITTED; only PostgreSQL's driver takes them.
    """

    def __init__(self, *statements: Executable):
        self.statements = statements
        self._sql: dict[str, str] = {}

    def __call__(self):
        connection = db.session.connection()
        dialect = connection.dialect
        sql = self._sql.get(dialect.name)
        if sql is None:
            sql = self._sql[dialect.name] = "; ".join(
                statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}).string
                for statement in self.statements
            )
        return _first_value(connection, sql, None, results=len(self.statements))


def _first_value(connection, sql: str, params, *, results: int = 1):
    dialect = connection.dialect
    cursor = connection.connection.driver_connection.cursor()
    try:
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        for _ in range(results - 1):
            cursor.nextset()
        row = cursor.fetchone()
        return None if row is None else row[0]
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()
