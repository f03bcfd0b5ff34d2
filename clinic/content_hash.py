"""Hashes of clinical rows, kept in their creation events, so a row changed in the database shows.

The audit chain proves its own events are untouched; the clinical tables are protected only by
triggers that someone with database access can drop. So the event that records an entry's
creation carries a SHA-256 of the entry's canonical content (`content_hash` in its detail), and
`verify-audit` recomputes it for every row of every registered table.

To cover a new append-only table, add one line to `HASHED_TABLES` and pass the new row to
`audit.record(..., content_of=row)` where it is created. Canonical content is every column of
the row, read back from the database, with NULLs left out: a nullable column added later (NULL
in the rows already there) leaves their hashes as they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, select

from clinic.extensions import db

#: Tables whose every row is created with a content hash. One line per table.
HASHED_TABLES = (
    "vital_signs",
    "withdrawal_assessment",
    "nursing_note",
    "entry_retraction",
    "safety_check",
    "missed_check_note",
    "escalation",
    "escalation_update",
    "protocol_override",
    "observation_level_change",
    "prn_order",
    "prn_discontinuation",
    "prn_dose",
    "prn_effect",
    "trend_review",
    "handover_item",
    "handover_signature",
    "handover_acceptance",
    "suicide_review",
    "observation_attestation",
    "thiamine_prompt",
    "admission_risk_flag",
    "discharge_reversal",
)
#: Key of the hash in an audit event's detail: "table:id:sha256".
DETAIL_KEY = "content_hash"


def _table(name: str) -> Table:
    return db.metadata.tables[name]


def _plain(value: Any) -> Any:
    """Return a value in the form its canonical JSON takes, alike on both databases."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        # A signed handover's PDF: its own digest stands for it, not a megabyte of JSON.
        return "sha256:" + hashlib.sha256(value).hexdigest()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def content_digest(row: dict[str, Any]) -> str:
    """Return the SHA-256 of a row's canonical content (columns by name, NULLs left out)."""
    content = {name: _plain(value) for name, value in row.items() if value is not None}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


_BY_ID: dict[str, Any] = {}
#: Attribute of an entry holding its row as the INSERT's RETURNING gave it back (`keep_stored`).
_STORED = "_stored_row"


def keep_stored(entry: Any, row: dict[str, Any]) -> None:
    """Keep the row the database returned for `entry`'s INSERT, so `stamp` needs no read-back."""
    setattr(entry, _STORED, row)


def stamp(entry: Any) -> str:
    """Return the detail value naming `entry`'s table, id and content hash, read from the database.

    Read back rather than taken from the object, so the hash covers exactly what was stored
    (defaults filled in, times as the column keeps them) and `verify` reads it the same way.
    A row its INSERT returned (`keep_stored`) is such a read, made in the same statement.
    """
    name = entry.__table__.name
    if name not in HASHED_TABLES:
        raise ValueError(f"{name} is not in content_hash.HASHED_TABLES")
    stored = getattr(entry, _STORED, None)
    if stored is not None and stored["id"] == entry.id:
        return stamp_row(name, stored)
    statement = _BY_ID.get(name)
    if statement is None:
        table = _table(name)
        statement = _BY_ID[name] = select(table).where(table.c.id == bindparam("id"))
    row = db.session.execute(statement, {"id": entry.id}).mappings().one()
    return stamp_row(name, dict(row))


def stamp_row(table: str, row: dict[str, Any]) -> str:
    """Return the detail value for a row already read from `table`."""
    return f"{table}:{row['id']}:{content_digest(row)}"


def parse(value: Any) -> tuple[str, int, str] | None:
    """Return (table, id, hash) from a detail value, or None if it is not one."""
    if not isinstance(value, str):
        return None
    parts = value.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


@dataclass(frozen=True)
class Mismatch:
    table: str
    row_id: int
    problem: str

    def __str__(self) -> str:
        return f"{self.table} #{self.row_id}: {self.problem}"


@dataclass(frozen=True)
class ContentReport:
    rows_checked: int
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches


def _rows(table: Table, batch_size: int) -> Iterator[dict[str, Any]]:
    last_id = 0
    while True:
        batch = db.session.execute(
            select(table).where(table.c.id > last_id).order_by(table.c.id).limit(batch_size)
        ).mappings().all()
        if not batch:
            return
        for row in batch:
            yield dict(row)
        last_id = batch[-1]["id"]


def unhashed_rows(
    recorded: dict[tuple[str, int], str], batch_size: int = 5000
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (table, row) for every registered row that no event gives a hash."""
    for name in HASHED_TABLES:
        for row in _rows(_table(name), batch_size):
            if (name, row["id"]) not in recorded:
                yield name, row


def verify(recorded: dict[tuple[str, int], str], batch_size: int = 5000) -> ContentReport:
    """Recompute every registered row's hash against `recorded` ((table, id) -> hash from the events).

    Names rows whose content differs, rows with no recorded hash (inserted past the app) and
    recorded rows that are gone.
    """
    mismatches: list[Mismatch] = []
    checked = 0
    for name in HASHED_TABLES:
        expected = {row_id: digest for (table, row_id), digest in recorded.items() if table == name}
        for row in _rows(_table(name), batch_size):
            checked += 1
            digest = expected.pop(row["id"], None)
            if digest is None:
                mismatches.append(Mismatch(name, row["id"], "no creation event carries its hash"))
            elif digest != content_digest(row):
                mismatches.append(Mismatch(name, row["id"], "content differs from when it was recorded"))
        mismatches.extend(Mismatch(name, row_id, "row is missing") for row_id in sorted(expected))
    return ContentReport(checked, mismatches)
