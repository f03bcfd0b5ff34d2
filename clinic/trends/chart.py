"""The timeline chart: one ReportLab Drawing, rendered to SVG for the page and drawn in the PDF.

Every value sits at its real time on one shared axis (clinic.scoring.trends.TimeAxis); runs are
broken where the next reading came later than its expected interval; a range with more readings
than the panel has room for is thinned keeping each slice's lowest and highest. Each plotted
point carries its value, time and author as an accessible label, and is focusable on the page.
Shapes and letters, not only colours, tell normal, abnormal, corrected, override and breach apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup, escape
from reportlab.graphics.shapes import Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from clinic.scoring.trends import TimeAxis, detox_day_starts, downsample, extreme_indices, split_at_gaps
from clinic.trends.model import EventMark, Fact, Panel, Timeline

FONT = "Helvetica"
BOLD = "Helvetica-Bold"
LEFT = 104
RIGHT = 14
HEAD = 30
FOOT = 30
PANEL = 66
GAP = 12
LANE = 34
#: Widths of the downsampling columns: each keeps at most its lowest and highest reading, so a
#: long stay draws at most two line vertices per LINE_COLUMN and two markers per MARK_COLUMN, and
#: the page's size follows its width, not the stay. The line keeps the curve's shape at about a
#: pixel's resolution; the focusable markers (the bulk of the page) are sparser, a tap picking the
#: nearest, and the flowsheet has every value. At 36 px a whole stay draws no more markers than
#: two days of hourly sets do (one per 17 px), so the page costs about the same at any length.
LINE_COLUMN = 2
MARK_COLUMN = 36
MARK = 6
#: The least room between two labels on one row.
LABEL_GAP = 3

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
GRID = colors.HexColor("#d9dee3")
DAY_LINE = colors.HexColor("#7b8794")
SERIES_COLOURS = [colors.HexColor("#1d4e89"), colors.HexColor("#a23b72"), colors.HexColor("#2f7d32")]
ABNORMAL = colors.HexColor("#b3261e")
WARNING = colors.HexColor("#b7791f")
BAND_FILLS = {
    "normal": colors.HexColor("#e3f1e6"),
    "mild": colors.HexColor("#f3f7e8"),
    "low": colors.HexColor("#f3f7e8"),
    "moderate": colors.HexColor("#fdf3d9"),
    "medium": colors.HexColor("#fdf3d9"),
    "severe": colors.HexColor("#fbe3df"),
    "high": colors.HexColor("#fbe3df"),
}


_SAMPLES = {Rect: lambda: Rect(0, 0, 1, 1), Line: lambda: Line(0, 0, 1, 1), String: lambda: String(0, 0, ""),
            PolyLine: lambda: PolyLine([])}
_DEFAULTS: dict[type, dict] = {}


def _shape(cls, **props):
    """Make a ReportLab shape without its per-attribute checks: a chart holds a thousand, all ours."""
    defaults = _DEFAULTS.get(cls)
    if defaults is None:
        defaults = _DEFAULTS[cls] = dict(_SAMPLES[cls]().__dict__)
    shape = cls.__new__(cls)
    shape.__dict__.update(defaults, **props)
    return shape


def _rect(x, y, width, height, **props) -> Rect:
    return _shape(Rect, x=x, y=y, width=width, height=height, **props)


def _line(x1, y1, x2, y2, **props) -> Line:
    return _shape(Line, x1=x1, y1=y1, x2=x2, y2=y2, **props)


@dataclass
class ChartSize:
    width: float = 960
    panel: float = PANEL
    font: float = 9.5
    #: On the page each point is a focusable element; the PDF needs none of that.
    interactive: bool = True


def build(timeline: Timeline, size: ChartSize | None = None) -> Drawing:
    """Draw the timeline's panels stacked on one time axis."""
    size = size or ChartSize()
    lanes = [lane for lane in (timeline.events, timeline.doses) if lane is not None]
    height = HEAD + FOOT + len(timeline.panels) * (size.panel + GAP) + len(lanes) * (LANE + GAP)
    drawing = Drawing(size.width, height)
    axis = TimeAxis(timeline.start, timeline.end, LEFT, size.width - LEFT - RIGHT)
    _day_boundaries(drawing, timeline, axis, size, height)
    _time_ticks(drawing, timeline, axis, size)
    top = height - HEAD
    for panel in timeline.panels:
        drawing.add(_panel(panel, axis, size, top))
        top -= size.panel + GAP
    for lane in lanes:
        drawing.add(_lane(lane, axis, size, top))
        top -= LANE + GAP
    if size.interactive:
        _tab_stops(drawing)
    return drawing


def _tab_stops(drawing: Drawing) -> None:
    """Make each series' newest point its one tab stop; arrow keys (trends.js) reach the others.

    A fortnight's chart holds about a thousand points: as tab stops each, the form below the
    chart would be a thousand key presses away.
    """
    newest = {}
    for group in drawing.contents:
        for shape in getattr(group, "contents", ()):
            extra = shape.__dict__.get("_svg")
            if extra:
                classes = extra.split('"')[1].split()
                newest[next(c for c in classes if c[:2] in ("s-", "m-"))] = shape
    for shape in newest.values():
        shape.__dict__["_svg"] = shape.__dict__["_svg"].replace('tabindex="-1"', 'tabindex="0"', 1)


def _text(x, y, text, size, *, anchor="start", colour=INK, bold=False) -> String:
    return _shape(String, x=x, y=y, text=text, fontName=BOLD if bold else FONT, fontSize=size,
                  fillColor=colour, textAnchor=anchor)


def _day_boundaries(drawing, timeline: Timeline, axis: TimeAxis, size: ChartSize, height: float) -> None:
    """Draw every day's line, and over it the longest label that fits before the next day's.

    A fortnight gives each day about 60 px on the page and 28 pt on A4, less than "Day 5 · 96 h
    since use" needs: a shorter form is drawn, or none where even "D5" would touch the label
    before it. The page's label keeps the full words as its title (hover).
    """
    days = [(number, axis.x(start), timeline.hours_since_use(start))
            for number, start in enumerate(detox_day_starts(timeline.admitted_at, timeline.end), start=1)
            if axis.contains(start)]
    y, right = height - HEAD + 8, axis.left + axis.width
    last_end = -1e9
    for index, (number, x, hours) in enumerate(days):
        drawing.add(_line(x, FOOT - 4, x, height - HEAD + 4, strokeColor=DAY_LINE, strokeWidth=0.8,
                         strokeDashArray=[3, 2]))
        if hours is None:
            forms = [f"Day {number}", f"D{number}"]
        else:
            forms = [f"Day {number} · {hours} h since use", f"Day {number} · {hours} h",
                     f"D{number} · {hours} h", f"D{number}"]
        if x + 2 < last_end + LABEL_GAP:
            continue
        room = (days[index + 1][1] if index + 1 < len(days) else right) - LABEL_GAP
        label = _fitting(forms, x + 2, room, BOLD, size.font)
        if label is None:
            # Too narrow a day for any form: the shortest runs on over the next day's line, whose
            # label then gives way.
            label = forms[-1]
            if x + 2 + stringWidth(label, BOLD, size.font) > right + RIGHT:
                continue
        text = _text(x + 2, y, label, size.font, bold=True)
        if size.interactive:
            text.__dict__["_title"] = forms[0]
        drawing.add(text)
        last_end = x + 2 + stringWidth(label, BOLD, size.font)


def _fitting(forms: list[str], x: float, room: float, font: str, size: float) -> str | None:
    """Return the first (longest) of the forms that ends before room, if any."""
    for form in forms:
        if x + stringWidth(form, font, size) <= room:
            return form
    return None


def _tick_step(span: timedelta) -> timedelta:
    for limit, step in ((timedelta(hours=13), timedelta(hours=1)), (timedelta(hours=25), timedelta(hours=3)),
                        (timedelta(hours=73), timedelta(hours=6)), (timedelta(days=8), timedelta(hours=12))):
        if span <= limit:
            return step
    return timedelta(days=1)


def _time_ticks(drawing, timeline: Timeline, axis: TimeAxis, size: ChartSize) -> None:
    step = _tick_step(timeline.end - timeline.start)
    local_start = timeline.start.astimezone(timeline.zone)
    # Ticks fall on whole local hours that are multiples of the step.
    hours = int(step.total_seconds() // 3600)
    first = local_start.replace(minute=0, second=0, microsecond=0)
    while first < local_start or first.hour % hours:
        first += timedelta(hours=1)
    tick = first
    while tick <= timeline.end:
        x = axis.x(tick)
        drawing.add(_line(x, FOOT, x, FOOT - 4, strokeColor=MUTED, strokeWidth=0.6))
        label = tick.strftime("%H:%M") if tick.hour or step < timedelta(hours=6) else tick.strftime("%d %b")
        if step >= timedelta(hours=12) and tick.hour == 0:
            label = tick.strftime("%d %b")
        drawing.add(_text(x, FOOT - 13, label, size.font - 0.5, anchor="middle", colour=MUTED))
        tick = (tick.astimezone(timeline.zone) + step).astimezone(timeline.zone)
    zone_name = timeline.end.astimezone(timeline.zone).strftime("%Z")
    drawing.add(_text(LEFT - 6, FOOT - 13, f"time ({zone_name})", size.font - 0.5, anchor="end",
                      colour=MUTED))


def _y_range(panel: Panel) -> tuple[float, float]:
    low, high = panel.floor, panel.ceiling
    for series in panel.series:
        if series.points:
            values = [point.value for point in series.points]
            low, high = min(low, float(min(values))), max(high, float(max(values)))
    if high - low < 1:
        high = low + 1
    return low, high


def _panel(panel: Panel, axis: TimeAxis, size: ChartSize, top: float) -> Group:
    group = Group()
    bottom = top - size.panel
    low, high = _y_range(panel)
    per_unit = size.panel / (high - low)

    def y(value) -> float:
        return bottom + (float(value) - low) * per_unit

    group.add(_rect(axis.left, bottom, axis.width, size.panel, fillColor=colors.white, strokeColor=GRID,
                   strokeWidth=0.6))
    for band in panel.bands:
        b_low, b_high = max(band.low, low), min(band.high, high)
        if b_high <= b_low:
            continue
        group.add(_rect(axis.left, y(b_low), axis.width, y(b_high) - y(b_low),
                       fillColor=BAND_FILLS.get(band.kind, BAND_FILLS["normal"]), strokeColor=None))
        group.add(_text(axis.left + axis.width - 3, y(b_high) - size.font, band.label, size.font - 1.5,
                        anchor="end", colour=MUTED))
    group.add(_text(4, top - size.font - 1, panel.title, size.font, bold=True))
    if panel.subtitle:
        group.add(_text(4, top - 2 * size.font - 3, panel.subtitle, size.font - 1, colour=MUTED))
    group.add(_text(LEFT - 4, top - size.font, _number(high), size.font - 1, anchor="end", colour=MUTED))
    group.add(_text(LEFT - 4, bottom + 1, _number(low), size.font - 1, anchor="end", colour=MUTED))
    if not any(series.points for series in panel.series):
        group.add(_text(axis.left + 8, bottom + size.panel / 2 - 3, "Nothing charted in this range",
                        size.font, colour=MUTED))
    line_columns = max(1, int(axis.width / LINE_COLUMN))
    mark_columns = max(1, int(axis.width / MARK_COLUMN))
    start, left = axis.start, axis.left
    per_second = axis.width / (axis.end - axis.start).total_seconds()
    for index, series in enumerate(panel.series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        for run in split_at_gaps(series.points, series.expected):
            # Runs come sorted; only one with more readings than columns needs thinning.
            traced = run if len(run) <= line_columns else downsample(run, axis, line_columns)
            # Every vertex of a fortnight's line passes here: the axis and y() are inlined.
            xs = [left + (p.at - start).total_seconds() * per_second for p in traced]
            ys = [bottom + (float(p.value) - low) * per_unit for p in traced]
            if len(traced) > 1:
                coords = [0.0] * (2 * len(traced))
                coords[0::2], coords[1::2] = xs, ys
                group.add(_shape(PolyLine, points=coords, strokeColor=colour, strokeWidth=1.2))
            marked = range(len(traced)) if len(traced) <= mark_columns else extreme_indices(
                [(x - left) / MARK_COLUMN for x in xs], ys, mark_columns)
            # Appended directly: Group.add checks each child, and these are all Rects made here.
            group.contents.extend(_point(series.fact(traced[i]), xs[i], ys[i], colour, size, series.key)
                                  for i in marked)
    return group


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _point(fact: Fact, x: float, y: float, colour, size: ChartSize, key: str) -> Rect:
    half = MARK / 2
    if fact.corrected:
        shape = _rect(x - half, y - half, MARK, MARK, fillColor=colors.white, strokeColor=colour,
                      strokeWidth=1.6)
    elif fact.abnormal:
        shape = _rect(x - half, y - half, MARK, MARK, fillColor=ABNORMAL, strokeColor=None)
    else:
        shape = _rect(x - half, y - half, MARK, MARK, rx=half, ry=half, fillColor=colour, strokeColor=None)
    if size.interactive:
        kinds = " ".join(filter(None, ["pt", f"s-{key}", "corrected" if fact.corrected else "",
                                       "abnormal" if fact.abnormal else ""]))
        shape.__dict__["_svg"] = (f' class="{kinds}" tabindex="-1" role="img" '
                                  f'aria-label="{escape(fact.label)}"')
    return shape


def _lane(lane, axis: TimeAxis, size: ChartSize, top: float) -> Group:
    group = Group()
    bottom = top - LANE
    group.add(_rect(axis.left, bottom, axis.width, LANE, fillColor=colors.white, strokeColor=GRID,
                   strokeWidth=0.6))
    group.add(_text(4, top - size.font - 1, lane.title, size.font, bold=True))
    if lane.subtitle:
        group.add(_text(4, top - 2 * size.font - 3, lane.subtitle, size.font - 1, colour=MUTED))
    if not lane.marks:
        group.add(_text(axis.left + 8, bottom + LANE / 2 - 3, lane.empty, size.font, colour=MUTED))
    placed = _stagger(lane.marks, axis)
    # A mark's text runs right until the next mark on its row; where the whole text has no room
    # only the first word (the drug) is drawn, or nothing: the mark's label has all of it.
    next_x, seen = [0.0] * len(placed), {}
    for index in range(len(placed) - 1, -1, -1):
        row, x, _ = placed[index]
        next_x[index] = seen.get(row, axis.left + axis.width + 4.5)
        seen[row] = x
    font = size.font - 1.5
    for index, (row, x, mark) in enumerate(placed):
        y = bottom + 5 + row * 13
        group.add(_line(x, bottom, x, y, strokeColor=MUTED, strokeWidth=0.5))
        group.contents.extend(_mark(mark, x, y, size))
        if mark.text:
            forms = [mark.text, mark.text.split(" → ")[0]] if " → " in mark.text else [mark.text]
            text = _fitting(forms, x + 6, next_x[index] - 4.5 - LABEL_GAP, FONT, font)
            if text:
                group.add(_text(x + 6, y + 1, text, font, colour=INK))
    return group


def _stagger(marks: list[EventMark], axis: TimeAxis) -> list[tuple[int, float, EventMark]]:
    """Put marks on the lower row while they are far apart, else on the row with more room.

    Dense marks (a fortnight's doses come every 14 px or so) alternate, so no two touch unless
    three fall within a mark's width.
    """
    placed, last_x = [], {0: -1e9, 1: -1e9}
    for mark in sorted(marks, key=lambda m: m.at):
        x = axis.x(mark.at)
        row = 0 if x - last_x[0] > 44 or last_x[0] <= last_x[1] else 1
        last_x[row] = x
        placed.append((row, x, mark))
    return placed


def _mark(mark: EventMark, x: float, y: float, size: ChartSize) -> list:
    half = 4.5
    fill = {"danger": ABNORMAL, "warning": WARNING}.get(mark.tone, SERIES_COLOURS[0])
    hollow = mark.tone == "hollow"
    shape = _rect(x - half, y - half, 2 * half, 2 * half, fillColor=colors.white if hollow else fill,
                 strokeColor=ABNORMAL if hollow else None, strokeWidth=1.4)
    if size.interactive:
        shape.__dict__["_svg"] = (f' class="pt mark m-{mark.kind}" tabindex="-1" role="img" '
                                  f'aria-label="{escape(mark.label)}"')
    return [shape, _text(x, y - 3, mark.symbol, 6.5, anchor="middle",
                         colour=ABNORMAL if hollow else colors.white, bold=True)]


# --- SVG for the page ----------------------------------------------------------------------------
#
# ReportLab's renderSVG builds a minidom tree (about 3 ms per hundred shapes here: a 14-day
# timeline took over 300 ms) and writes inline styles, which the CSP refuses. The Drawing's few
# shape kinds are written here instead, straight to text with presentation attributes; the
# Drawing itself (what is drawn, where) stays the one the PDF draws.


_COLOURS: dict[int, tuple] = {}


def _colour(colour) -> str:
    if colour is None:
        return "none"
    # By identity: the chart's few colours are module constants, and Color.hexval is slow. The
    # colour is kept in the entry, so its id cannot be reused by another object.
    known = _COLOURS.get(id(colour))
    if known is None:
        known = _COLOURS[id(colour)] = (colour, "#" + colour.hexval()[2:])
    return known[1]


_VERTEX = "{:.2f} {:.2f}"


def _n(value: float) -> str:
    return str(round(value, 2))


def _paint(shape, *, fill: bool = True) -> str:
    parts = []
    if fill:
        parts.append(f'fill="{_colour(getattr(shape, "fillColor", None))}"')
    stroke = getattr(shape, "strokeColor", None)
    if stroke is not None:
        parts.append(f'stroke="{_colour(stroke)}"')
        width = getattr(shape, "strokeWidth", 1)
        if width != 1:
            parts.append(f'stroke-width="{_n(width)}"')
        dashes = getattr(shape, "strokeDashArray", None)
        if dashes:
            parts.append(f'stroke-dasharray="{" ".join(_n(d) for d in dashes)}"')
    return " ".join(parts)


def _extra(shape) -> str:
    """Return the page-only attributes of a point (class, focus, accessible label), if any."""
    return shape.__dict__.get("_svg", "")


def _svg_shapes(node, height: float, out: list[str]) -> None:
    for shape in node.getContents():
        if isinstance(shape, Group):
            if tuple(shape.transform) != (1, 0, 0, 1, 0, 0):
                raise ValueError("transformed groups are not drawn on the page")
            _svg_shapes(shape, height, out)
        elif isinstance(shape, Rect):
            y = height - shape.y - shape.height
            rounded = f' rx="{_n(shape.rx)}"' if shape.rx else ""
            out.append(f'<rect x="{_n(shape.x)}" y="{_n(y)}" width="{_n(shape.width)}" '
                       f'height="{_n(shape.height)}"{rounded} {_paint(shape)}{_extra(shape)}/>')
        elif isinstance(shape, Line):
            out.append(f'<line x1="{_n(shape.x1)}" y1="{_n(height - shape.y1)}" x2="{_n(shape.x2)}" '
                       f'y2="{_n(height - shape.y2)}" {_paint(shape, fill=False)}/>')
        elif isinstance(shape, PolyLine):
            # A fortnight's lines hold thousands of vertices: formatted in one pass at C speed.
            coords = shape.points
            points = ",".join(map(_VERTEX.format, coords[0::2], map(float(height).__sub__, coords[1::2])))
            out.append(f'<polyline points="{points}" fill="none" {_paint(shape, fill=False)}/>')
        elif isinstance(shape, String):
            anchor = {"start": "", "middle": ' text-anchor="middle"', "end": ' text-anchor="end"'}[
                shape.textAnchor]
            weight = ' font-weight="bold"' if shape.fontName.endswith("Bold") else ""
            # Text lets taps through (trends.css) unless it has a title to show on hover.
            title = shape.__dict__.get("_title")
            title = f' class="titled"><title>{escape(title)}</title' if title else ""
            out.append(f'<text x="{_n(shape.x)}" y="{_n(height - shape.y)}" '
                       f'font-size="{_n(shape.fontSize)}"{weight}{anchor} fill="{_colour(shape.fillColor)}"'
                       f'{title}>{escape(shape.text)}</text>')
        else:
            raise TypeError(f"no SVG for {type(shape).__name__}")


def to_svg(drawing: Drawing, title: str) -> Markup:
    """Write the drawing as inline SVG that scales to its container."""
    box = f"0 0 {_n(drawing.width)} {_n(drawing.height)}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box}" class="timeline-chart" role="group" '
           f'aria-label="{escape(title)}" font-family="Helvetica">']
    _svg_shapes(drawing, drawing.height, out)
    out.append("</svg>")
    return Markup("\n".join(out))
