"""The board's hours since last use, per withdrawal-relevant substance (issue 11 item 15)."""

from __future__ import annotations

from tests.test_board import board_rows


def test_hours_since_last_use_per_withdrawal_relevant_substance(client, auth, make_admission):
    # Admitted 8 h ago: alcohol last used 72 h before (80 h now), cannabis 2 h ago, benzodiazepines 52 h.
    admission = make_admission(hours_ago=8, protocols=("vitals", "ciwa_ar", "ciwa_b"),
                               substances=(("alcohol", 72), ("cannabis", -6), ("benzodiazepines", 52)))
    auth.login_as("nurse")
    row = board_rows(client.get(f"/units/{admission.unit_id}/board"))[admission.bed.label]
    assert "Alcohol 80 h since last use" in row
    assert "Benzodiazepines 60 h since last use" in row
    # Cannabis has no withdrawal scale here and is not the primary substance.
    assert "2 h since last use" not in row and "Cannabis" not in row.split("(")[0]
    chart = client.get(f"/admissions/{admission.id}").get_data(as_text=True)
    assert "<strong>Since last use</strong>Alcohol 80 h since last use · Benzodiazepines 60 h" in chart


def test_a_single_substance_is_named_with_its_hours(client, auth, make_admission):
    admission = make_admission(hours_ago=8, protocols=("vitals", "cows"),
                               substances=(("opioids", 10),))
    auth.login_as("nurse")
    row = board_rows(client.get(f"/units/{admission.unit_id}/board"))[admission.bed.label]
    assert "Opioids 18 h since last use" in row
