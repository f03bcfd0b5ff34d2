"""Administration operations: each writes its audit event and leaves the commit to the view."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from clinic import audit
from clinic.admissions.services import current_admission_in_bed
from clinic.auth.passwords import hash_password
from clinic.auth.policy import password_problem, username_problem
from clinic.auth.services import end_session, end_sessions_of, normalise_username
from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, Bed, DueDefinitionVersion, LoginThrottle, Unit, User, UserSession
from clinic.models.patient import ADMITTED
from clinic.models.user import ROLES
from clinic.scoring.due import DEFAULT_DEFINITION, DueDefinition
from clinic.scoring.shifts import format_pattern, parse_pattern

#: Reason recorded on sessions ended by a reset password (the login page explains it).
ENDED_BY_ADMIN = "ended by administrator"
#: Bed sort keys are capped so a long run of digits still fits an integer column.
MAX_SORT_KEY = 999_999
MIN_LATE_ENTRY_MINUTES = 5
MAX_LATE_ENTRY_MINUTES = 1440


class AdminError(Exception):
    """A broken administration rule, with the form field it belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    user: User
    live_sessions: int


def live_session_filter(now=None):
    """Return the condition for a session that still authenticates (not ended, not timed out)."""
    now = now or utc_now()
    cfg = current_app.config
    return (
        UserSession.ended_at.is_(None)
        & (UserSession.last_seen_at > now - cfg["SESSION_IDLE_LIMIT"])
        & (UserSession.created_at > now - cfg["SESSION_ABSOLUTE_LIMIT"])
    )


def list_users() -> list[UserRow]:
    """Return every account with its live session count, in one query."""
    live = (
        select(UserSession.user_id, func.count().label("n"))
        .where(live_session_filter())
        .group_by(UserSession.user_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User, func.coalesce(live.c.n, 0))
        .outerjoin(live, live.c.user_id == User.id)
        .order_by(User.active.desc(), User.username)
    ).all()
    return [UserRow(user, count) for user, count in rows]


def live_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, live_session_filter())
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def _user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
    }


def _check_password(password: str, field: str, *, username: str | None = None) -> None:
    problem = password_problem(password, username=username)
    if problem is not None:
        raise AdminError(problem, field)


def _other_active_admins(user: User) -> int:
    """Count active administrators other than `user`, locking all of them until commit."""
    # Every active administrator's row is locked, `user`'s too, in one order: two
    # administrators demoting each other at once on PostgreSQL then queue, and the second
    # sees the first's change. SQLite writers are already serialised by BEGIN IMMEDIATE.
    admins = db.session.scalars(
        select(User.id)
        .where(User.role == "admin", User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    return sum(1 for admin_id in admins if admin_id != user.id)


def create_user(
    *, by: User, username: str, display_name: str, role: str, password: str
) -> User:
    """Create an active account with an initial password."""
    name = normalise_username(username)
    if not name:
        raise AdminError("Enter a user name.", "username")
    if (problem := username_problem(name)) is not None:
        raise AdminError(problem, "username")
    if db.session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AdminError(f"The user name “{name}” is already taken.", "username")
    if role not in ROLES:
        raise AdminError("Choose a role.", "role")
    if not display_name.strip():
        raise AdminError("Enter the name shown on entries.", "display_name")
    _check_password(password, "password", username=name)
    user = User(
        username=name,
        display_name=display_name.strip(),
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "create", user=by, object_type="user", object_id=user.id,
        detail={"after": _user_snapshot(user)},
    )
    return user


def rename_user(*, by: User, user: User, display_name: str) -> bool:
    """Change the name shown as author; return whether anything changed."""
    new_name = display_name.strip()
    if not new_name:
        raise AdminError("Enter the name shown on entries.", "display_name")
    if new_name == user.display_name:
        return False
    before = _user_snapshot(user)
    user.display_name = new_name
    db.session.flush()
    audit.record(
        "update", user=by, object_type="user", object_id=user.id,
        detail=audit.changes(before, _user_snapshot(user)),
    )
    return True


def change_role(*, by: User, user: User, role: str) -> bool:
    """Give `user` another role; return whether anything changed."""
    if role not in ROLES:
        raise AdminError("Choose a role.", "role")
    if role == user.role:
        return False
    if user.role == "admin":
        if user.id == by.id:
            raise AdminError(
                "You cannot remove your own administrator role. Ask another administrator.", "role"
            )
        if user.active and _other_active_admins(user) == 0:
            raise AdminError(
                f"{user.display_name} is the last active administrator; make someone else an "
                "administrator first.",
                "role",
            )
    before = _user_snapshot(user)
    user.role = role
    db.session.flush()
    audit.record(
        "privilege_change", user=by, object_type="user", object_id=user.id,
        detail=audit.changes(before, _user_snapshot(user)),
    )
    return True


def deactivate_user(*, by: User, user: User) -> int:
    """Stop an account logging in and end its live sessions; return how many were ended."""
    if not user.active:
        raise AdminError(f"{user.display_name} is already deactivated.")
    if user.id == by.id:
        raise AdminError("You cannot deactivate your own account. Ask another administrator.")
    if user.role == "admin" and _other_active_admins(user) == 0:
        raise AdminError(
            f"{user.display_name} is the last active administrator and cannot be deactivated."
        )
    before = _user_snapshot(user)
    user.active = False
    db.session.flush()
    audit.record(
        "privilege_change", user=by, object_type="user", object_id=user.id,
        detail={"change": "deactivate", **audit.changes(before, _user_snapshot(user))},
    )
    return end_sessions_of(user, "account deactivated", by=by)


def reactivate_user(*, by: User, user: User) -> None:
    """Let a deactivated account log in again."""
    if user.active:
        raise AdminError(f"{user.display_name} is already active.")
    before = _user_snapshot(user)
    user.active = True
    db.session.flush()
    audit.record(
        "privilege_change", user=by, object_type="user", object_id=user.id,
        detail={"change": "reactivate", **audit.changes(before, _user_snapshot(user))},
    )


def reset_password(
    *, by: User, user: User, password: str, keep_session: UserSession | None = None
) -> int:
    """Set a new password, end the user's sessions and lift any login block on the name.

    `keep_session` spares one session: an administrator resetting their own password stays
    logged in where they are. Return how many sessions were ended.
    """
    _check_password(password, "password", username=user.username)
    user.password_hash = hash_password(password)
    throttle = db.session.get(LoginThrottle, user.username)
    unlocked = False
    if throttle is not None:
        unlocked = throttle.locked_until is not None and throttle.locked_until > utc_now()
        db.session.delete(throttle)
    ended = 0
    for session_row in db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all():
        if keep_session is not None and session_row.id == keep_session.id:
            continue
        end_session(session_row, ENDED_BY_ADMIN, by=by)
        ended += 1
    db.session.flush()
    audit.record(
        "update", user=by, object_type="user", object_id=user.id,
        detail={"change": "password reset", "sessions_ended": ended, "unlocked": unlocked},
    )
    return ended


def end_user_session(*, by: User, session_row: UserSession) -> bool:
    """End one session; return False if it had already ended."""
    if session_row.ended_at is not None:
        return False
    end_session(session_row, ENDED_BY_ADMIN, by=by)
    db.session.flush()
    return True


# --- Units and beds ----------------------------------------------------------------------


#: Names the system lists that are not places: "localtime" follows the server's own setting.
NOT_ZONES = frozenset({"localtime", "Factory"})


@cache
def timezone_names() -> tuple[str, ...]:
    """Return the IANA zone names the system knows, sorted (read from disk once per process)."""
    return tuple(sorted(available_timezones() - NOT_ZONES))


def check_timezone(name: str) -> str:
    """Return the time zone name if the system knows it, or raise AdminError."""
    name = name.strip()
    try:
        ZoneInfo(name)
        # ZoneInfo also opens files that are not zones to choose ("localtime", "posixrules").
        known = name in timezone_names() or not timezone_names()
    except (ZoneInfoNotFoundError, ValueError, OSError):
        known = False
    if not known:
        raise AdminError(
            f"“{name}” is not a known time zone. Use an IANA name such as Europe/London.",
            "timezone",
        )
    return name


def normalise_pattern(text: str) -> str:
    """Return the shift pattern in its canonical text, or raise AdminError saying what to fix."""
    try:
        return format_pattern(parse_pattern(text))
    except ValueError as error:
        raise AdminError(str(error), "shift_pattern") from None


def _unit_snapshot(unit: Unit) -> dict:
    return {
        "name": unit.name,
        "timezone": unit.timezone,
        "shift_pattern": unit.shift_pattern,
        "late_entry_minutes": unit.late_entry_minutes,
    }


def _clean_unit_fields(
    *, unit: Unit | None, name: str, timezone: str, shift_pattern: str, late_entry_minutes: int
) -> dict:
    name = name.strip()
    if not name:
        raise AdminError("Enter the unit's name.", "name")
    clash = select(Unit.id).where(func.lower(Unit.name) == name.lower())
    if unit is not None:
        clash = clash.where(Unit.id != unit.id)
    if db.session.scalar(clash) is not None:
        raise AdminError(f"There is already a unit called “{name}”.", "name")
    if not MIN_LATE_ENTRY_MINUTES <= late_entry_minutes <= MAX_LATE_ENTRY_MINUTES:
        raise AdminError(
            f"Enter a number of minutes from {MIN_LATE_ENTRY_MINUTES} to {MAX_LATE_ENTRY_MINUTES}.",
            "late_entry_minutes",
        )
    return {
        "name": name,
        "timezone": check_timezone(timezone),
        "shift_pattern": normalise_pattern(shift_pattern),
        "late_entry_minutes": late_entry_minutes,
    }


def create_unit(
    *, by: User, name: str, timezone: str, shift_pattern: str, late_entry_minutes: int = 60
) -> Unit:
    """Create a unit (with no beds yet)."""
    fields = _clean_unit_fields(
        unit=None, name=name, timezone=timezone, shift_pattern=shift_pattern,
        late_entry_minutes=late_entry_minutes,
    )
    unit = Unit(**fields)
    db.session.add(unit)
    db.session.flush()
    audit.record(
        "create", user=by, object_type="unit", object_id=unit.id,
        detail={"after": _unit_snapshot(unit)},
    )
    return unit


def update_unit(
    *, by: User, unit: Unit, name: str, timezone: str, shift_pattern: str, late_entry_minutes: int
) -> bool:
    """Change a unit's settings; return whether anything changed."""
    fields = _clean_unit_fields(
        unit=unit, name=name, timezone=timezone, shift_pattern=shift_pattern,
        late_entry_minutes=late_entry_minutes,
    )
    before = _unit_snapshot(unit)
    if fields == before:
        return False
    for key, value in fields.items():
        setattr(unit, key, value)
    db.session.flush()
    audit.record(
        "update", user=by, object_type="unit", object_id=unit.id,
        detail=audit.changes(before, _unit_snapshot(unit)),
    )
    return True


def bed_sort_key(label: str) -> int:
    """Return the number in a bed label so bed 2 sorts before bed 10; 0 when there is none."""
    match = re.search(r"\d+", label)
    return min(int(match.group()), MAX_SORT_KEY) if match else 0


def add_bed(*, by: User, unit: Unit, label: str) -> Bed:
    """Add an open bed to a unit."""
    label = label.strip()
    if not label:
        raise AdminError("Enter the bed's label.", "label")
    clash = db.session.scalar(
        select(Bed.label).where(Bed.unit_id == unit.id, func.lower(Bed.label) == label.lower())
    )
    if clash is not None:
        raise AdminError(f"{unit.name} already has a bed labelled “{clash}”.", "label")
    bed = Bed(unit=unit, label=label, sort_key=bed_sort_key(label), active=True)
    db.session.add(bed)
    db.session.flush()
    audit.record(
        "create", user=by, object_type="bed", object_id=bed.id,
        detail={"after": {"unit": unit.name, "label": bed.label}},
    )
    return bed


def close_bed(*, by: User, bed: Bed) -> None:
    """Close a free bed to new admissions; its history stays."""
    if not bed.active:
        raise AdminError(f"Bed {bed.label} is already closed.")
    holder = current_admission_in_bed(bed)
    if holder is not None:
        raise AdminError(
            f"Bed {bed.label} is occupied by {holder.patient.display_name} "
            f"(MRN {holder.patient.mrn}). Transfer or discharge the patient before closing it."
        )
    bed.active = False
    db.session.flush()
    audit.record(
        "update", user=by, object_type="bed", object_id=bed.id,
        detail={"unit": bed.unit.name, "label": bed.label,
                **audit.changes({"active": True}, {"active": False})},
    )


def reopen_bed(*, by: User, bed: Bed) -> None:
    """Open a closed bed to admissions again."""
    if bed.active:
        raise AdminError(f"Bed {bed.label} is already open.")
    bed.active = True
    db.session.flush()
    audit.record(
        "update", user=by, object_type="bed", object_id=bed.id,
        detail={"unit": bed.unit.name, "label": bed.label,
                **audit.changes({"active": False}, {"active": True})},
    )


def bed_occupants(unit: Unit) -> dict[int, Admission]:
    """Return the current admission of each occupied bed of `unit`, by bed id, in one query."""
    # Same rule as admissions.services.current_admission_in_bed, for all beds at once.
    admissions = db.session.scalars(
        select(Admission)
        .where(Admission.unit_id == unit.id, Admission.status == ADMITTED)
        .options(joinedload(Admission.patient))
    ).all()
    return {admission.bed_id: admission for admission in admissions}


# --- Due rules ---------------------------------------------------------------------------


class StaleDueRules(AdminError):
    """The unit's due rules were saved by someone else after this form was opened."""


def due_rules_of(unit: Unit) -> tuple[DueDefinition, DueDefinitionVersion | None]:
    """Return the unit's newest due rules and their row, or the built-in defaults and None."""
    row = db.session.scalar(
        select(DueDefinitionVersion)
        .where(DueDefinitionVersion.unit_id == unit.id)
        .order_by(DueDefinitionVersion.version.desc())
        .limit(1)
    )
    if row is None:
        return DEFAULT_DEFINITION, None
    return DueDefinition.from_dict(row.definition), row


def due_rule_versions(unit: Unit) -> list[DueDefinitionVersion]:
    """Return every saved version of a unit's due rules, newest first."""
    return list(db.session.scalars(
        select(DueDefinitionVersion)
        .where(DueDefinitionVersion.unit_id == unit.id)
        .options(joinedload(DueDefinitionVersion.created_by))
        .order_by(DueDefinitionVersion.version.desc())
    ))


def flat_due_settings(definition: DueDefinition | dict) -> dict[str, object]:
    """Return every setting but the version as name -> value; a table entry is named "table.key"."""
    data = definition.to_dict() if isinstance(definition, DueDefinition) else definition
    flat: dict[str, object] = {}
    for name, value in data.items():
        if name == "version":
            continue
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": minutes for key, minutes in value.items()})
        else:
            flat[name] = value
    return flat


def due_field_name(path: str) -> str:
    """Return the form field name of a flat setting: "table.low-medium" -> "table__low_medium"."""
    return path.replace(".", "__").replace("-", "_")


def due_rule_changes(versions: list[DueDefinitionVersion]) -> dict[int, dict[str, tuple]]:
    """Return, per version id, the settings it changed from the one before (the first: from the defaults)."""
    result: dict[int, dict[str, tuple]] = {}
    previous = flat_due_settings(DEFAULT_DEFINITION)
    for row in sorted(versions, key=lambda r: r.version):
        current = flat_due_settings(row.definition)
        result[row.id] = {path: (previous.get(path), value) for path, value in current.items()
                          if previous.get(path) != value}
        previous = current
    return result


def _nest(settings: dict[str, object], version: int) -> dict:
    data: dict = {"version": str(version)}
    for path, value in settings.items():
        table, _, key = path.partition(".")
        if key:
            data.setdefault(table, {})[key] = value
        else:
            data[path] = value
    return data


def _first_error(settings: dict[str, object]) -> str | None:
    try:
        DueDefinition.from_dict(_nest(settings, 1))
    except ValueError as error:
        return str(error)
    return None


def _culprit(settings: dict[str, object], message: str) -> str | None:
    """Return the first setting whose default value in its place changes or clears the refusal."""
    defaults = flat_due_settings(DEFAULT_DEFINITION)
    for path, value in settings.items():
        if path not in defaults or defaults[path] == value:
            continue
        if _first_error({**settings, path: defaults[path]}) != message:
            return path
    return None


def save_due_rules(
    *, by: User, unit: Unit, settings: dict[str, object], based_on: int
) -> DueDefinitionVersion | None:
    """Save the unit's due rules as a new version, or return None when nothing changed.

    `settings` holds every flat setting (see flat_due_settings); `based_on` is the version the
    form showed (0: the defaults). Due times are computed from the newest version when shown,
    so nothing already charted is rewritten.
    """
    current, newest = due_rules_of(unit)
    if (newest.version if newest else 0) != based_on:
        raise StaleDueRules(
            f"{newest.created_by.display_name} saved version {newest.version} of these rules while "
            "you were editing. Nothing was saved: check your values against it and save again."
            if newest else "The rules changed while you were editing. Check them and save again."
        )
    message = _first_error(settings)
    if message is not None:
        culprit = _culprit(settings, message)
        raise AdminError(message, due_field_name(culprit) if culprit else None)
    before = flat_due_settings(current)
    if settings == before:
        return None
    version = (newest.version if newest else 0) + 1
    definition = DueDefinition.from_dict(_nest(settings, version))
    row = DueDefinitionVersion(unit_id=unit.id, version=version, definition=definition.to_dict(),
                               created_by_id=by.id)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "update", user=by, object_type="due_definition", object_id=row.id,
        detail={"unit": unit.name, "version": version, **audit.changes(before, settings)},
    )
    return row
