"""The shared badges: what each says, and that recorded text is escaped."""

from types import SimpleNamespace

from clinic.badges import allergy_badge, news2_badge, score_badge, status_badge, trend_arrow


def test_news2_badge_names_the_band_and_says_when_a_set_is_partial():
    assert news2_badge(6, "medium") == '<span class="badge news2-medium">NEWS2 6 · medium</span>'
    assert news2_badge(3, "low-medium") == '<span class="badge news2-low-medium">NEWS2 3 · low-medium</span>'
    assert "NEWS2 incomplete" in news2_badge(None, None)


def test_score_badge_for_bands_ketamine_flags_and_unable():
    def result(**values):
        defaults = {"outcome": "scored", "scale": "ciwa_ar", "flags": [], "band": None}
        return SimpleNamespace(**(defaults | values))

    assert score_badge(result(total=12, band="moderate")) == (
        '<span class="badge band-moderate">12 · moderate (8–15)</span>')
    assert score_badge(result(total=0, band="mild")) == '<span class="badge band-mild">0 · mild (0–7)</span>'
    assert "2 · none (0–4)<" in score_badge(result(scale="cows", total=2, band="none"))
    assert "0 · none (0)<" in score_badge(result(scale="ciwa_b", total=0, band="none"))
    assert "21 · moderate (21–40)<" in score_badge(result(scale="ciwa_b", total=21, band="moderate"))
    assert 'class="badge band-very-severe"' in score_badge(result(total=30, band="very severe"))
    assert score_badge(result(scale="ketamine", total=4)) == '<span class="badge badge-muted">Burden 4</span>'
    assert "⚑ 1 flag<" in score_badge(result(scale="ketamine", total=9, flags=["bladder pain"]))
    assert "⚑ 2 flags" in score_badge(result(scale="ketamine", total=9, flags=["a", "b"]))
    assert "Unable to assess" in score_badge(result(outcome="unable", total=None))


def test_trend_arrow_has_words_for_screen_readers_and_nothing_without_a_previous_score():
    assert "rising" in trend_arrow("up") and "falling" in trend_arrow("down")
    assert "unchanged" in trend_arrow("same")
    assert trend_arrow(None) == ""


def test_allergy_badge_warns_when_unrecorded_and_escapes_what_was_typed():
    assert "Allergies not recorded" in allergy_badge("  ")
    assert allergy_badge("NKDA") == '<span class="badge badge-muted">NKDA</span>'
    typed = allergy_badge('penicillin <script>alert("x")</script>')
    assert "<script>" not in typed and "&lt;script&gt;" in typed and "⚠ Allergy:" in typed


def test_status_badge_by_due_state():
    def entry(status, due_in=0):
        return SimpleNamespace(status=status, due_in_minutes=due_in)

    assert "Overdue" in status_badge(entry("overdue"))
    assert "Due now" in status_badge(entry("due"))
    assert "Due soon" in status_badge(entry("due", 20))
    assert status_badge(entry("later", 90)) == ""
