"""Say what a save stored and for whom, in one wording: "Vitals saved for WALKER, Jade, NEWS2 3 low."

Charting saves (vitals, scales, notes, escalations, PRN doses) do not use the session's flash, so a save does
not re-sign the session cookie: the redirect names the saved entry (`?saved=vitals-12`, no patient
data in the address) and the page it lands on says what was saved, for the user who saved it.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

from flask import flash, request
from flask_login import current_user

from clinic.db import utc_now
from clinic.extensions import db
from clinic.models import Admission, Assessment, Escalation, NursingNote, PrnDose, VitalSigns
from clinic.scoring.due import PROTOCOL_LABELS

#: Which entries the landing page may describe, by the name the redirect gives them.
_KINDS = {"vitals": VitalSigns, "assessment": Assessment, "note": NursingNote, "escalation": Escalation,
          "prn_dose": PrnDose}
#: A notice is shown only this long after the save, so an old link says nothing.
_FRESH = timedelta(minutes=15)


def whom(patients) -> str:
    """Name one patient, or the first of several and how many others ("WALKER, Jade and 2 others")."""
    if isinstance(patients, str):
        return patients  # not a patient: a bed, say
    if not isinstance(patients, (list, tuple)):
        return patients.display_name
    names = list(dict.fromkeys(getattr(p, "display_name", p) for p in patients))
    if len(names) == 1:
        return names[0]
    # Names hold a comma ("WALKER, Jade"), so a list of them would not read: count the rest.
    others = len(names) - 1
    return f"{names[0]} and {others} other{'' if others == 1 else 's'}"


def saved_message(what: str, patient, detail: str | None = None) -> str:
    """Return the one wording of a save: what, for whom (a patient or a list), and its result."""
    return f"{what} saved for {whom(patient)}" + (f", {detail}" if detail else "") + "."


def flash_saved(what: str, patient, detail: str | None = None) -> None:
    """Flash the save confirmation (pages whose save may re-sign the session cookie)."""
    flash(saved_message(what, patient, detail), "success")


def describe(entry) -> tuple[str, str | None]:
    """Return what an entry is called and its result, as the confirmation states them."""
    if isinstance(entry, VitalSigns):
        if entry.news2_total is None:
            return "Vitals", "NEWS2 incomplete (not every parameter charted)"
        return "Vitals", f"NEWS2 {entry.news2_total} {entry.news2_band}"
    if isinstance(entry, Assessment):
        label = PROTOCOL_LABELS.get(entry.scale, entry.scale)
        if entry.outcome == "unable":
            return label, "unable to assess"
        if entry.scale == "ketamine":
            return label, f"burden {entry.total}" + (f", {len(entry.flags)} flagged" if entry.flags else "")
        return label, f"{entry.total} {entry.band}" if entry.total is not None else None
    if isinstance(entry, NursingNote):
        return "Note", None
    if isinstance(entry, Escalation):
        return "Escalation", "record who you told and their response below"
    if isinstance(entry, PrnDose):
        return "PRN dose", _dose_result(entry)
    raise TypeError(f"no save wording for {type(entry).__name__}")


def _dose_result(dose: PrnDose) -> str:
    order = dose.order
    if dose.outcome != "given":
        return f"{order.drug} {dose.outcome}"
    words = (
        f"{order.drug} {format(dose.dose.normalize(), 'f')} {order.dose_unit} given, effect reassessment "
        f"due {dose.effect_due_at.astimezone(dose.admission.unit.zone):%H:%M}"
    )
    if dose.override_rule:
        words += "; recorded as an OVERRIDE"
    if dose.breach_rule:
        words += "; recorded as a LIMIT BREACH and escalated"
    return words


def mark(location: str, entry) -> str:
    """Return `location` with the saved entry named in its query, for `saved_notice` to read."""
    kind = next(name for name, model in _KINDS.items() if isinstance(entry, model))
    parts = urlsplit(location)
    # A page reached from a confirmation passes its own address on as `next`: keep one marker.
    kept = [q for q in parts.query.split("&") if q and not q.startswith("saved=")]
    query = "&".join([*kept, f"saved={kind}-{entry.id}"])
    return urlunsplit(parts._replace(query=query))


def saved_notice() -> str | None:
    """Return the confirmation for the entry this user has just saved, named in `?saved=`."""
    value = request.args.get("saved", "")
    kind, _, number = value.partition("-")
    model = _KINDS.get(kind)
    if model is None or not number.isdigit() or not current_user.is_authenticated:
        return None
    entry = db.session.get(model, int(number))
    if entry is None:
        return None
    by, at = ((entry.raised_by_id, entry.raised_at) if isinstance(entry, Escalation)
              else (entry.recorded_by_id, entry.recorded_at))
    # Only its author, just after saving: the address must not become a way to read the chart.
    if by != current_user.id or utc_now() - at > _FRESH:
        return None
    what, detail = describe(entry)
    if getattr(entry, "supersedes_id", None) is not None:
        what = f"Correction of {what if what[:2].isupper() else what.lower()}"
        detail = "; ".join(d for d in (detail, "the original stays readable in the history") if d)
    return saved_message(what, db.session.get(Admission, entry.admission_id).patient, detail)
