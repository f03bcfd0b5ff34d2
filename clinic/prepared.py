"""Statements of every charting request, compiled once per database and run on the driver's cursor.

Every charting request writes two rows, the entry and its audit event, after reading the tail
of the audit chain. Through SQLAlchemy's execution path, building each statement's parameters
and result cost more than running it (profiled in bench/). Here a statement is compiled once;
each value still goes through its column's own bind processor, so a row is stored exactly as a
Core INSERT would store it, and a value read through its result processor, as a Core SELECT
would read it; a driver error comes back as the SQLAlchemy exception callers already handle.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from sqlalchemy import Executable, Select, Table, exc, insert
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
        rows, type_codes = _execute(connection, sql, params)
        readers = self._readers.get(dialect.name)
        if readers is None:
            readers = self._readers[dialect.name] = self._reader(dialect, type_codes)
        return {key: value if read is None else read(value)
                for (key, read), value in zip(readers, rows[0], strict=True)}

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


class PreparedSelect:
    """A SELECT with bound parameters, compiled once per database; returns its rows.

    Each row is a named tuple (one attribute per selected column) whose values went through
    their columns' result processors, and each parameter through its type's bind processor, as
    in SQLAlchemy's own execution.
    """

    def __init__(self, statement: Select):
        self.statement = statement
        columns = list(statement.selected_columns)
        self._row = namedtuple("Row", [column.key for column in columns])
        self._types = [column.type for column in columns]
        self._compiled: dict[str, tuple[str, list[tuple[str, Any, Any]], bool]] = {}
        self._readers: dict[str, list[Any]] = {}

    def _compile(self, dialect: Dialect):
        compiled = self.statement.compile(dialect=dialect)
        names = compiled.positiontup if compiled.positional else list(compiled.binds)
        # A parameter the statement fixed itself (`column == "given"`) keeps its value.
        steps = [(name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                  compiled.binds[name].effective_value) for name in names]
        prepared = self._compiled[dialect.name] = (compiled.string, steps, compiled.positional)
        return prepared

    def __call__(self, **values) -> list:
        """Run the statement with these parameters (name -> value) and return every row."""
        [rows] = select_together((self, values))
        return rows

    def _bind(self, dialect: Dialect, values: dict[str, Any]):
        sql, steps, positional = self._compiled.get(dialect.name) or self._compile(dialect)
        params = []
        for name, process, fixed in steps:
            value = values[name] if name in values else fixed
            params.append(value if process is None else process(value))
        if not positional:
            params = dict(zip((name for name, _, _ in steps), params, strict=True))
        return sql, params

    def _read(self, dialect: Dialect, rows: list, type_codes: list) -> list:
        readers = self._readers.get(dialect.name)
        if readers is None:
            readers = self._readers[dialect.name] = [
                type_.dialect_impl(dialect).result_processor(dialect, code)
                for type_, code in zip(self._types, type_codes, strict=True)
            ]
        make = self._row._make
        return [make(value if read is None else read(value) for read, value in zip(readers, row, strict=True))
                for row in rows]


def select_together(*calls: tuple[PreparedSelect, dict[str, Any]]) -> list[list]:
    """Run PreparedSelects one after another and return each one's rows.

    On PostgreSQL they share one round trip (psycopg's pipeline mode). Each still starts once the
    one before has finished, with a snapshot of its own under READ COMMITTED: a read sent after a
    row lock sees what the lock's previous holder committed.
    """
    connection = db.session.connection()
    dialect = connection.dialect
    statements = [select._bind(dialect, values) for select, values in calls]
    results = _execute_all(connection, statements)
    return [select._read(dialect, rows, type_codes)
            for (select, _), (rows, type_codes) in zip(calls, results, strict=True)]


def _first_value(connection, sql: str, params, *, results: int = 1):
    rows, _ = _execute(connection, sql, params, results=results)
    return rows[0][0] if rows else None


def _execute_all(connection, statements: list[tuple[str, Any]]) -> list[tuple[list, list]]:
    """Run statements in order, returning each one's rows and type codes; in one round trip on PostgreSQL."""
    dialect = connection.dialect
    if len(statements) == 1 or dialect.name != "postgresql":
        return [_execute(connection, sql, params, every_row=True) for sql, params in statements]
    driver = connection.connection.driver_connection
    cursors = [driver.cursor() for _ in statements]
    try:
        with driver.pipeline():
            for cursor, (sql, params) in zip(cursors, statements, strict=True):
                cursor.execute(sql, params)
        return [(cursor.fetchall(), [column[1] for column in cursor.description]) for cursor in cursors]
    except dialect.loaded_dbapi.Error as error:
        sql = "; ".join(sql for sql, _ in statements)
        raise exc.DBAPIError.instance(
            sql, [params for _, params in statements], error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        for cursor in cursors:
            cursor.close()


def _execute(connection, sql: str, params, *, results: int = 1, every_row: bool = False
             ) -> tuple[list, list]:
    """Run `sql` on the driver's cursor; return its first row (or every row) and the columns' type codes.

    With several statements (`results`), the rows are the last one's. A driver error comes back
    as SQLAlchemy's exception for it.
    """
    dialect = connection.dialect
    cursor = connection.connection.driver_connection.cursor()
    try:
        if params is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, params)
        for _ in range(results - 1):
            cursor.nextset()
        if every_row:
            rows = cursor.fetchall()
        else:
            row = cursor.fetchone()
            rows = [] if row is None else [row]
        return rows, [column[1] for column in cursor.description]
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()
