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
    """One table's INSERT of every column but the id, returning the new id (or the stored row)."""

    def __init__(self, table: Table):
        if any(column.server_default is not None for column in table.columns):
            raise ValueError(f"{table.name}: a server default would be overwritten")
        self.table = table
        self.columns = [column for column in table.columns if not column.primary_key]
        self._compiled: dict[tuple[str, bool], tuple[str, list[tuple[str, Any, Any]], bool]] = {}
        #: Per dialect, each returned column's key and result processor (known from the first row).
        self._readers: dict[str, list[tuple[str, Any]]] = {}

    def _compile(self, dialect: Dialect, whole_row: bool):
        keys = [column.key for column in self.columns]
        returned = self.table.columns if whole_row else [self.table.c.id]
        compiled = insert(self.table).returning(*returned).compile(dialect=dialect, column_keys=keys)
        order = compiled.positiontup if compiled.positional else keys
        by_key = {column.key: column for column in self.columns}
        steps = [
            (key, by_key[key].type.dialect_impl(dialect).bind_processor(dialect), by_key[key].default)
            for key in order
        ]
        prepared = (compiled.string, steps, compiled.positional)
        self._compiled[dialect.name, whole_row] = prepared
        return prepared

    def _params(self, dialect: Dialect, values: dict[str, Any], whole_row: bool):
        sql, steps, positional = (self._compiled.get((dialect.name, whole_row))
                                  or self._compile(dialect, whole_row))
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
        return sql, params

    def __call__(self, values: dict[str, Any]) -> int:
        """Insert `values` (column key -> value; a missing key takes the column's default)."""
        connection = db.session.connection()
        sql, params = self._params(connection.dialect, values, False)
        return _first_value(connection, sql, params)

    def stored(self, values: dict[str, Any]) -> dict[str, Any]:
        """Insert `values` like calling it, and return the row as stored (column key -> value).

        The row comes from the INSERT's RETURNING, so it is what the database kept (defaults
        filled in, numbers at the column's scale), converted as a SELECT of the row would be.
        """
        connection = db.session.connection()
        dialect = connection.dialect
        sql, params = self._params(dialect, values, True)
        raw = _first_row(connection, sql, params)
        readers = self._readers.get(dialect.name)
        if readers is None:
            readers = self._readers[dialect.name] = self._reader(dialect, raw.types)
        return {key: value if read is None else read(value)
                for (key, read), value in zip(readers, raw.values, strict=True)}

    def _reader(self, dialect: Dialect, types: list) -> list[tuple[str, Any]]:
        return [
            (column.key, column.type.dialect_impl(dialect).result_processor(dialect, type_code))
            for column, type_code in zip(self.table.columns, types, strict=True)
        ]


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


class PreparedQuery:
    """One statement with bound parameters, compiled once per database; returns its first value.

    As with PreparedScalar, the value comes back as the driver gives it, with no result processing.
    """

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[str, tuple[str, list[tuple[str, Any]], bool]] = {}

    def _compile(self, dialect: Dialect):
        compiled = self.statement.compile(dialect=dialect)
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        steps = [(name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                 for name in names]
        prepared = self._compiled[dialect.name] = (compiled.string, steps, compiled.positional)
        return prepared

    def __call__(self, **values):
        connection = db.session.connection()
        dialect = connection.dialect
        sql, steps, positional = self._compiled.get(dialect.name) or self._compile(dialect)
        params = [values[name] if process is None else process(values[name]) for name, process in steps]
        if not positional:
            params = dict(zip((name for name, _ in steps), params, strict=True))
        return _first_value(connection, sql, params)


def _first_value(connection, sql: str, params, *, results: int = 1):
    row = _first_row(connection, sql, params, results=results)
    return None if row is None else row.values[0]


class _Row:
    """A row as the driver returned it, with the driver's type code of each column."""

    __slots__ = ("types", "values")

    def __init__(self, values, types):
        self.values, self.types = values, types


def _first_row(connection, sql: str, params, *, results: int = 1) -> _Row | None:
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
        return None if row is None else _Row(row, [column[1] for column in cursor.description])
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()
