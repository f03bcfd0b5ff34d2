"""I-PASS illness severity suggested from NEWS2, scale bands, escalations and the suicide screen."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.scoring import severity
from clinic.scoring.severity import STABLE, UNSTABLE, WATCHER, suggest

LOW = {"news2_total": 0, "news2_band": "low"}


@pytest.mark.parametrize(("kwargs", "level", "reason"), [
    (LOW, STABLE, None),
    ({"news2_total": None, "news2_band": None}, WATCHER, "no complete vitals set recorded"),
    ({"news2_total": 2, "news2_band": "low"}, WATCHER, "NEWS2 2"),
    ({"news2_total": 3, "news2_band": "low-medium"}, UNSTABLE, "NEWS2 3 with a single parameter scoring 3"),
    ({"news2_total": 5, "news2_band": "medium"}, UNSTABLE, "NEWS2 5 (medium)"),
    ({"news2_total": 7, "news2_band": "high"}, UNSTABLE, "NEWS2 7 (high)"),
    ({**LOW, "scale_bands": [("CIWA-Ar", "moderate")]}, WATCHER, "CIWA-Ar moderate"),
    ({**LOW, "scale_bands": [("CIWA-Ar", "severe")]}, UNSTABLE, "CIWA-Ar severe"),
    ({**LOW, "scale_bands": [("COWS", "moderately severe")]}, UNSTABLE,
     "COWS moderately severe"),
    ({**LOW, "scale_bands": [("COWS", "mild")]}, STABLE, None),
    ({**LOW, "open_escalations": ["urgent"]}, WATCHER, "1 open escalation"),
    ({**LOW, "open_escalations": ["emergency"]}, UNSTABLE,
     "open emergency escalation"),
    ({**LOW, "suicide_risk": "low"}, WATCHER, "suicide-risk screen positive (low)"),
    ({**LOW, "suicide_risk": "moderate"}, UNSTABLE, "suicide-risk screen moderate"),
    ({**LOW, "suicide_risk": "high"}, UNSTABLE, "suicide-risk screen high"),
    ({**LOW, "scale_flagged": True}, WATCHER, "ketamine checklist flagged"),
])
def test_suggestion(kwargs, level, reason):
    result = suggest(**kwargs)
    assert result.level == level
    if reason is None:
        assert result.reasons == ()
    else:
        assert reason in result.reasons


_RANK = {STABLE: 0, WATCHER: 1, UNSTABLE: 2}


@given(total=st.integers(0, 20), band=st.sampled_from(["low", "low-medium", "medium", "high"]),
       risk=st.sampled_from([None, "low", "moderate", "high"]),
       escalations=st.lists(st.sampled_from(["urgent", "emergency"]), max_size=3))
def test_more_findings_never_lower_the_level(total, band, risk, escalations):
    base = suggest(news2_total=total, news2_band=band)
    more = suggest(news2_total=total, news2_band=band, suicide_risk=risk, open_escalations=escalations)
    assert _RANK[more.level] >= _RANK[base.level]
    assert severity.more_severe(base.level, more.level) == more.level
    # Stable always comes with no reasons, anything else with at least one.
    assert (more.level == STABLE) == (more.reasons == ())
