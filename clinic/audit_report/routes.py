"""The audit report: search the trail by user, patient, action and date (admin and auditor)."""

from __future__ import annotations

from flask import current_app, render_template, request, url_for
from flask_login import current_user

from clinic import audit
from clinic.audit_report import bp, services
from clinic.audit_report.forms import ANY_ACTION, DEFAULT_SORT, AuditSearchForm
from clinic.auth.decorators import role_required
from clinic.extensions import db
from clinic.routing import MAX_ID

#: The sortable columns (forms.SORT_COLUMNS) with their headings, in table order.
COLUMN_LABELS = {
    "occurred_at": "Time",
    "user": "User",
    "patient": "Patient",
    "action": "Action",
    "object": "Object",
    "ip": "IP",
}
#: Detail lines shown at once; the rest open on request (a patient's creation has a dozen).
DETAIL_LINES_SHOWN = 4
#: Longest typed filter value copied into the audit event.
MAX_LOGGED_CHARS = 100


@bp.route("/")
@role_required("admin", "auditor")
def search():
    form = AuditSearchForm(request.args)
    valid = form.validate()
    # The MRN is looked up even when another filter is wrong, so every message shows at once.
    patient_id = _patient_id(form)
    filters = _filters_from(form, patient_id) if valid and not form.mrn.errors else None
    page = None
    if filters is not None:
        page = services.search(
            filters, sort=form.sort_column, descending=form.descending,
            page=request.args.get("page", 1, type=int),
            # Clinical content is for auditors; administrators have no clinical access.
            clinical=current_user.has_role("auditor"),
        )
    typed = _typed_filters(form)
    # Reading the trail is itself audited: what was asked, and which patients it showed.
    detail: dict = {**typed, "page": page.page if page else None}
    if filters is not None and filters.upto_id is not None:
        detail["upto"] = filters.upto_id
    detail["patients"] = page.patient_ids if page else []
    if form.errors:
        detail["invalid"] = sorted(form.errors)
    audit.record(
        "view", object_type="audit_report", detail=detail,
        patient_id=filters.patient_id if filters is not None else None,
    )
    db.session.commit()
    return render_template(
        "audit_report/search.html", form=form, result=page,
        headers=_column_headers(typed, form), pager=_pager_links(typed, form, page),
        upto=filters.upto_id if filters is not None else None,
        zone=current_app.config["DISPLAY_TIMEZONE"], detail_lines_shown=DETAIL_LINES_SHOWN,
    ), (422 if form.errors else 200)


def _patient_id(form: AuditSearchForm) -> int | None:
    """Resolve the MRN typed to a patient id; an unknown one becomes the field's error."""
    if form.mrn.errors or not (form.mrn.data or "").strip():
        return None
    patient_id = services.find_patient_id(form.mrn.data)
    if patient_id is None:
        form.mrn.errors = [*form.mrn.errors, "No patient has this MRN."]
    return patient_id


def _filters_from(form: AuditSearchForm, patient_id: int | None) -> services.Filters:
    """Turn valid form data into filters."""
    name, prefix = services.username_filter(form.user.data or "")
    since, before = services.utc_bounds(
        form.date_from.data, form.date_to.data, current_app.config["DISPLAY_TIMEZONE"]
    )
    return services.Filters(
        username=name or None,
        username_prefix=prefix,
        patient_id=patient_id,
        action=form.action.data if form.action.data != ANY_ACTION else None,
        since=since,
        before=before,
        upto_id=_event_id(request.args.get("upto", type=int)),
    )


def _event_id(value: int | None) -> int | None:
    """Return `value` if it can be an event id (a hand-edited URL may hold anything)."""
    return value if value is not None and 0 < value <= MAX_ID else None


def _typed_filters(form: AuditSearchForm) -> dict[str, str]:
    """Return the filters as typed (for links and the audit event), leaving out empty ones."""
    typed = {
        "user": (form.user.data or "").strip(),
        "mrn": (form.mrn.data or "").strip(),
        "action": form.action.data if form.action.data != ANY_ACTION else "",
        "date_from": _raw(form.date_from),
        "date_to": _raw(form.date_to),
    }
    typed = {k: v[:MAX_LOGGED_CHARS] for k, v in typed.items() if v}
    if form.sort_column != DEFAULT_SORT or not form.descending:
        typed["sort"] = form.sort_column
        typed["dir"] = "desc" if form.descending else "asc"
    return typed


def _raw(field) -> str:
    """Return what was typed into `field`, valid or not."""
    return field.raw_data[0].strip() if field.raw_data else ""


def _column_headers(typed: dict[str, str], form: AuditSearchForm) -> list[dict]:
    """Return each column's label, current order and the link that sorts by it (filters kept)."""
    filters = {k: v for k, v in typed.items() if k not in ("sort", "dir")}
    headers = []
    for column, label in COLUMN_LABELS.items():
        current = column == form.sort_column
        if current:
            next_dir = "asc" if form.descending else "desc"
        else:
            # Time reads newest first; text columns A to Z.
            next_dir = "desc" if column == "occurred_at" else "asc"
        headers.append({
            "column": column,
            "label": label,
            "order": ("descending" if form.descending else "ascending") if current else None,
            "url": url_for("audit_report.search", **filters, sort=column, dir=next_dir),
            "next_label": "descending" if next_dir == "desc" else "ascending",
        })
    return headers


def _pager_links(typed: dict[str, str], form: AuditSearchForm, page) -> dict | None:
    """Return the earlier/later page links, named by time when the order is by time."""
    if page is None or page.pages <= 1:
        return None
    if form.sort_column == "occurred_at":
        labels = ("Newer", "Older") if form.descending else ("Older", "Newer")
    else:
        labels = ("Previous", "Next")
    # Later pages stay on the events the first page counted (see Filters.upto_id).
    args = {**typed, "upto": page.snapshot_id}
    return {
        "previous": url_for("audit_report.search", **args, page=page.page - 1)
        if page.page > 1 else None,
        "next": url_for("audit_report.search", **args, page=page.page + 1)
        if page.page < page.pages else None,
        "previous_label": labels[0],
        "next_label": labels[1],
    }
