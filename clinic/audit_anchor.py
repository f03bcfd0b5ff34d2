"""The audit chain's verified head, kept in a file off the database server.

The HMAC chain shows any changed or removed row except the newest: deleting the last events
leaves a shorter chain that still verifies. A head written by an earlier `verify-audit` run to
a file the database's users cannot reach closes that gap: the event it names must still be in
the chain, at the same id with the same hash.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass

from sqlalchemy import func, select

from clinic.audit import ChainReport
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import AuditEvent


class AnchorError(Exception):
    """The anchor file cannot be read, or the chain no longer holds the head it names."""


@dataclass(frozen=True)
class Head:
    #: None for an empty chain.
    event_id: int | None
    count: int
    hash: str | None
    verified_at: str | None = None


def read_head(path: str) -> Head | None:
    """Return the head stored in `path`, None if there is no file yet, or raise AnchorError."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return Head(
            event_id=_optional_int(data["event_id"]), count=int(data["count"]),
            hash=data["hash"], verified_at=data.get("verified_at"),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise AnchorError(f"cannot read the anchor file {path}: {error}") from None


def _optional_int(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"event_id {value!r} is not a whole number")
    return value


def check_head(earlier: Head) -> None:
    """Raise AnchorError unless the chain still holds `earlier` at the same id with the same hash."""
    if earlier.event_id is None:
        return
    stored = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == earlier.event_id))
    if stored is None:
        newest = db.session.scalar(select(func.max(AuditEvent.id)))
        raise AnchorError(
            f"event id {earlier.event_id}, the head verified at {earlier.verified_at or 'an earlier run'} "
            f"({earlier.count} events), is no longer in the chain (newest now: {newest}): "
            "events were removed"
        )
    if stored != earlier.hash:
        raise AnchorError(
            f"event id {earlier.event_id} no longer has the hash verified at "
            f"{earlier.verified_at or 'an earlier run'}: the chain was rewritten from there"
        )
    # Rows cannot vanish below the head without breaking the links, so the count only confirms.
    below = db.session.scalar(select(func.count()).where(AuditEvent.id <= earlier.event_id))
    if below != earlier.count:
        raise AnchorError(
            f"{below} events up to id {earlier.event_id}, where the earlier run counted {earlier.count}"
        )


def head_of(report: ChainReport) -> Head:
    """Return the head of a chain that verified."""
    return Head(event_id=report.head_id, count=report.rows_checked, hash=report.head_hash,
                verified_at=utc_now().replace(microsecond=0).isoformat())


def write_head(path: str, head: Head) -> None:
    """Replace `path` with `head` in one step, so a crash never leaves half a file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".anchor-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(head), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
