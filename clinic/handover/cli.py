"""`flask --app wsgi handover`: the unit's printed downtime copy, run by a scheduler at shift change."""

from __future__ import annotations

import click
from sqlalchemy import select

from clinic import audit
from clinic.db import utc_now
from clinic.extensions import db
from clinic.handover.services import assemble, choose_shift
from clinic.models import Unit
from clinic.reports.handover_pdf import build_pdf

#: Who the PDF says printed it, and the audit trail's user name for the event.
COMMAND_LINE = "(command line)"


@click.command("handover")
@click.option("--unit", "unit_name", required=True, help='The unit by name, e.g. "Detox Ward".')
@click.option("--shift", "which", default="current", show_default=True,
              help="current, previous, or an ISO time within the shift.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The PDF file to write.")
def handover_command(unit_name: str, which: str, out: str) -> None:
    """Write a unit's shift handover PDF (the same as the page's), audited as printed."""
    unit = db.session.scalar(select(Unit).where(Unit.name == unit_name))
    if unit is None:
        names = ", ".join(db.session.scalars(select(Unit.name).order_by(Unit.name))) or "none"
        raise click.ClickException(f"no unit named {unit_name!r} (units: {names})")
    now = utc_now()
    try:
        shift = choose_shift(unit, now, which)
    except ValueError as error:
        raise click.ClickException(f"--shift {which!r}: {error}") from None
    handover = assemble(unit, now=now, shift=shift)
    pdf = build_pdf(handover, printed_by=COMMAND_LINE, printed_at=now)
    with open(out, "wb") as handle:
        handle.write(pdf)
    audit.record("print", object_type="handover", object_id=unit.id, username=COMMAND_LINE,
                 detail={"unit": unit.name, "patients": handover.patient_ids, "via": "handover command",
                         "shift_starts_at": shift.starts_at, "bytes": len(pdf), "file": out})
    db.session.commit()
    click.echo(f"Wrote {out}: {unit.name}, {handover.shift_label}, {len(handover.patients)} patients.")
