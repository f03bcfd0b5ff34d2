"""A handover section's lines as HTML, drawn in Python like the board's cells (a Jinja macro per
section per patient cost a third of the page)."""

from __future__ import annotations

from markupsafe import Markup, escape

from clinic.handover.lines import Line


def section(h, lines: list[Line], empty: str) -> Markup:
    """Return a section's lines as a list, alerts marked "[!]" (never colour alone); `empty` if none."""
    if not lines:
        return Markup(f'<p class="ho-none">{escape(empty)}</p>')
    items = []
    for line in lines:
        mark = '<span class="ho-mark" aria-label="attention">[!]</span> ' if line.alert else ""
        when = f"<time>{h.time(line.at)}</time> " if line.at else ""
        opening = '<li class="ho-alert">' if line.alert else "<li>"
        items.append(f"{opening}{mark}{when}{escape(line.text)}</li>")
    return Markup(f'<ul class="ho-lines">{"".join(items)}</ul>')
