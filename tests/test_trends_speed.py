"""A whole stay draws no more tap targets than two days do, keeping the extremes (issue 14, speed)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from clinic.db import utc_now
from clinic.scoring.trends import Point
from clinic.trends import chart
from clinic.trends.model import Fact, Lane, Panel, Series, Timeline
from tests.test_trends import points


def _hourly_chart(days: int, spikes: dict[int, int] | None = None) -> str:
    start = utc_now().replace(microsecond=0) - timedelta(days=days)
    values = [70 + (n * 7) % 15 for n in range(days * 24)]
    for hour, value in (spikes or {}).items():
        values[hour] = value
    readings = [Point(start + timedelta(hours=n), v, Fact(f"Heart rate {v} /min"))
                for n, v in enumerate(values)]
    timeline = Timeline(start, start + timedelta(days=days), ZoneInfo("Europe/London"), start, None,
                        [Panel("heart_rate", "Heart rate", "/min", 50, 110, [],
                               [Series("heart_rate", "Heart rate", readings, timedelta(hours=2))])],
                        Lane("Events", "", [], "none"))
    return chart.to_svg(chart.build(timeline), "test")


def test_a_fortnight_of_hourly_sets_draws_no_more_markers_than_two_days():
    fortnight = points(_hourly_chart(14, {100: 171, 250: 38}), "heart_rate")
    two_days = points(_hourly_chart(2), "heart_rate")

    assert 40 <= len(two_days) <= 48
    assert len(fortnight) <= len(two_days)
    shown = [int(label.split()[2]) for _, _, label in fortnight]
    assert 171 in shown and 38 in shown
