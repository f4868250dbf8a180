"""Displacement: WDD (ptools fixtures), harm weights, WDQ (Guerette cases), rings, hour profile, text."""

import itertools
import math

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from lagebild.analytics.displacement import (
    AreaWeights,
    buffer_rings,
    explain_de,
    format_number_de,
    hour_profile,
    verdict_de,
    wdd,
    wdd_harm,
    wdq,
    wdq_reading_de,
)

# Philadelphia data of Wheeler & Ratcliffe (2018), as in ptools tests/testthat/test-wdd.R.
PAPER = {
    "target": (207, 110),
    "target_control": (308, 318),
    "buffer": (178, 157),
    "buffer_control": (150, 140),
}


def test_ptools_local_only():
    result = wdd(target=(20, 10), target_control=(20, 20))
    assert result.local == -10
    assert result.displacement is None
    assert result.total == -10


def test_ptools_displacement_and_total():
    assert wdd((20, 20), (20, 20), buffer=(20, 10), buffer_control=(20, 20)).displacement == -10
    assert wdd((20, 10), (20, 20), buffer=(20, 10), buffer_control=(20, 20)).total == -20


def test_paper_result_with_parts():
    result = wdd(**PAPER, alpha=0.05)
    assert result.local == -107
    assert result.local_se == pytest.approx(30.708, abs=1e-3)
    assert result.displacement == -11
    assert result.displacement_se == pytest.approx(25.0)
    assert result.total == -118
    assert result.se == pytest.approx(math.sqrt(1568))
    assert round(result.z, 2) == -2.98
    assert result.ci_low == pytest.approx(-195.6, abs=0.05)
    assert result.ci_high == pytest.approx(-40.4, abs=0.05)
    assert result.p_value == pytest.approx(0.00288, abs=1e-5)
    assert result.significant


def test_time_weights_two_to_one():
    result = wdd(target=(80, 20), target_control=(100, 50), time_weights=(2, 1))
    assert result.total == pytest.approx(-20)
    assert result.se == pytest.approx(math.sqrt(115))


def test_area_weights_divide_each_area_own_counts():
    # ptools order (control, treated, disp_control, disp_treated) = (0.9, 1.2, 1.6, 1.5)
    weights = AreaWeights(target=1.2, target_control=0.9, buffer=1.5, buffer_control=1.6)
    result = wdd(**PAPER, area_weights=weights, alpha=0.05)
    assert result.total == pytest.approx(-99.69444444, abs=1e-7)
    assert result.se == pytest.approx(35.4280755, abs=1e-6)
    assert result.z == pytest.approx(-2.813995483, abs=1e-8)
    assert result.ci_low == pytest.approx(-169.1321965, abs=1e-6)
    assert result.ci_high == pytest.approx(-30.25669241, abs=1e-6)


def test_no_pre_data_matches_the_e_test_roughly():
    result = wdd(target=(0, 10), target_control=(0, 20))
    assert result.p_value == pytest.approx(0.068, abs=0.002)


def test_harm_weighted_aggregate_of_five_crime_types():
    # ptools test "Cumulative Harm": (control, treated) per type; weights 3, 2, 5, 7, 10
    types = [
        ((133, 91), (130, 74)),
        ((388, 305), (327, 202)),
        ((148, 97), (398, 190)),
        ((86, 64), (144, 92)),
        ((94, 67), (183, 96)),
    ]
    results = [wdd(target=treated, target_control=control) for control, treated in types]
    harm = wdd_harm(results, [3, 2, 5, 7, 10], alpha=0.05)
    assert harm.estimate == pytest.approx(-1721.0)
    assert harm.se == pytest.approx(304.10360077, rel=1e-5)
    assert harm.z == pytest.approx(-5.65925558, rel=1e-5)
    assert harm.ci_low == pytest.approx(-2317.03210507, rel=1e-5)
    assert harm.ci_high == pytest.approx(-1124.96789493, rel=1e-5)


def test_shared_control_counts_its_variance_four_times():
    result = wdd(target=(50, 30), target_control=(100, 90), buffer=(40, 45))
    assert result.shared_control
    assert result.local == -10  # −20 − (−10)
    assert result.displacement == 15  # +5 − (−10)
    assert result.se == pytest.approx(math.sqrt(80 + 85 + 4 * 190))
    assert result.local_se == pytest.approx(math.sqrt(80 + 190))
    assert result.displacement_se == pytest.approx(math.sqrt(85 + 190))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": (0, 0), "target_control": (0, 0)}, "Alle Zählwerte sind 0"),
        ({"target": (-1, 3), "target_control": (4, 4)}, "nicht negativ"),
        ({"target": (1, 3, 5), "target_control": (4, 4)}, "genau zwei Zahlen"),
        ({"target": (1, 3), "target_control": (4, 4), "time_weights": (0, 1)}, "größer als 0"),
        ({"target": (1, 3), "target_control": (4, 4), "area_weights": (1, 1)}, "vier Werte"),
        ({"target": (1, 3), "target_control": (4, 4), "alpha": 5}, "zwischen 0 und 1"),
        ({"target": (1, 3), "target_control": (4, 4), "buffer_control": (2, 2)}, "auch einen Pufferbereich"),
    ],
)
def test_wdd_bad_input_gives_german_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        wdd(**kwargs)


@pytest.mark.parametrize(
    ("inputs", "gross", "net", "success", "buffer", "expected_wdq", "tne", "target_net", "buffer_net"),
    [
        ((100, 60, 80, 95, 500, 475), 40, 0.0737, -0.0737, 0.0400, -0.5429, 16.0, 35.0, -19.0),
        ((100, 60, 80, 60, 500, 475), 40, 0.0737, -0.0737, -0.0337, 0.4571, 51.0, 35.0, 16.0),
        ((100, 60, 80, 130, 500, 475), 40, 0.0737, -0.0737, 0.1137, -1.5429, -19.0, 35.0, -54.0),
        ((207, 110, 178, 157, 308, 318), 97, 0.3262, -0.3262, -0.0842, 0.2582, 130.5, 103.72, 26.78),
    ],
    ids=["A-displacement-smaller", "B-diffusion", "C-displacement-larger", "Philadelphia"],
)
def test_wdq_worked_examples(inputs, gross, net, success, buffer, expected_wdq, tne, target_net, buffer_net):
    result = wdq(*inputs)
    assert result.gross_effect == gross
    assert result.net_effect == pytest.approx(net, abs=5e-5)
    assert result.success_measure == pytest.approx(success, abs=5e-5)
    assert result.buffer_measure == pytest.approx(buffer, abs=5e-5)
    assert result.wdq == pytest.approx(expected_wdq, abs=5e-5)
    assert result.total_net_effect == pytest.approx(tne, abs=0.05)
    assert result.target_net_effect == pytest.approx(target_net, abs=0.005)
    assert result.buffer_net_effect == pytest.approx(buffer_net, abs=0.005)
    assert result.meaningful


def test_wdq_interpretation_follows_guerettes_table():
    assert "kleiner als der direkte Nutzen" in wdq(100, 60, 80, 95, 500, 475).interpretation_de
    assert "Ausstrahlung positiver Effekte (Diffusion)" in wdq(100, 60, 80, 60, 500, 475).interpretation_de
    assert "kontraproduktiv" in wdq(100, 60, 80, 130, 500, 475).interpretation_de
    assert "größer ist als der direkte Effekt" in wdq(100, 60, 80, 20, 500, 475).interpretation_de
    assert "Weder Verdrängung" in wdq(100, 60, 100, 95, 500, 475).interpretation_de


def test_wdq_without_success_is_marked_not_meaningful():
    no_change = wdq(100, 95, 80, 90, 500, 475)  # target fell exactly as the control did
    assert no_change.success_measure == 0
    assert no_change.wdq is None
    assert not no_change.meaningful
    rising = wdq(100, 120, 80, 90, 500, 475)
    assert rising.wdq is not None and not rising.meaningful
    assert "nur aussagekräftig, wenn das Erfolgsmaß negativ ist" in rising.interpretation_de


def test_wdq_with_empty_control_is_refused_in_german():
    with pytest.raises(ValueError, match="Kontrollgebiet hat in einem der Zeiträume keine Fälle"):
        wdq(10, 5, 8, 9, 0, 12)
    with pytest.raises(ValueError, match="Kontrollgebiet hat in einem der Zeiträume keine Fälle"):
        wdq(10, 5, 8, 9, 12, 0)


def test_buffer_rings_are_concentric_and_do_not_overlap():
    target = box(0, 0, 100, 100)
    rings = buffer_rings(target, [100, 200, 400])
    assert len(rings) == 3
    assert not rings[0].intersects(target.buffer(-1))
    for inner, outer in itertools.pairwise(rings):
        assert inner.intersection(outer).area == pytest.approx(0, abs=1e-6)

    # Square of side a buffered by r: a² + 4ar + the rounded corners, a regular 64-gon of radius r
    # (16 segments per quarter circle, vertices on the circle).
    def corner_area(radius: float) -> float:
        return 32 * radius**2 * math.sin(2 * math.pi / 64)

    total = shapely.union_all([target, *rings]).area
    assert total == pytest.approx(100**2 + 4 * 100 * 400 + corner_area(400), rel=1e-9)
    assert rings[0].area == pytest.approx(4 * 100 * 100 + corner_area(100), rel=1e-9)
    # A point 150 m east of the target's edge is in the second ring only.
    probe = Point(250, 50)
    assert [ring.contains(probe) for ring in rings] == [False, True, False]


def test_buffer_rings_cut_out_excluded_area():
    target = box(0, 0, 100, 100)
    river = box(-1000, 150, 1000, 180)
    rings = buffer_rings(target, [100, 300], exclude=river)
    assert all(ring.intersection(river).area == pytest.approx(0, abs=1e-6) for ring in rings)
    assert rings[1].area < buffer_rings(target, [100, 300])[1].area


@pytest.mark.parametrize(
    ("distances", "message"),
    [
        ([], "mindestens einen Ringabstand"),
        ([200, 100], "aufsteigend"),
        ([100, 100], "aufsteigend"),
        ([0, 100], "größer als 0"),
        ([-50], "größer als 0"),
        ([100, 6000], "höchstens 5000 m"),
        (["weit"], "keine Zahl"),
    ],
)
def test_buffer_rings_validate_distances(distances, message):
    with pytest.raises(ValueError, match=message):
        buffer_rings(box(0, 0, 100, 100), distances)


def test_buffer_rings_need_a_polygon():
    with pytest.raises(ValueError, match="Fläche"):
        buffer_rings(Point(0, 0), [100])
    with pytest.raises(ValueError, match="vollständig im ausgeschlossenen Bereich"):
        buffer_rings(box(0, 0, 100, 100), [100], exclude=box(-500, -500, 500, 500))


def test_hour_profile_shows_shift_into_the_night():
    before = np.zeros(24)
    before[14:20] = 30  # 180 in the afternoon over 90 days
    after = np.zeros(24)
    after[14:20] = 10
    after[[22, 23, 0, 1]] = 15  # 60 + 60 over 60 days
    profile = hour_profile(before, after, days_pre=90, days_post=60)
    assert profile.rate_before[15] == pytest.approx(30 / 90)
    assert profile.rate_after[23] == pytest.approx(15 / 60)
    assert profile.share_before.sum() == pytest.approx(1.0)
    assert profile.share_after.sum() == pytest.approx(1.0)
    assert profile.night_share_before == 0
    assert profile.night_share_after == pytest.approx(0.5)
    assert profile.share_change[0] == pytest.approx(0.125)


def test_hour_profile_validates_input():
    with pytest.raises(ValueError, match="24 Stundenwerte"):
        hour_profile([1] * 23, [1] * 24, 7, 7)
    with pytest.raises(ValueError, match="nicht negativ"):
        hour_profile([-1] + [1] * 23, [1] * 24, 7, 7)
    with pytest.raises(ValueError, match="größer als 0"):
        hour_profile([1] * 24, [1] * 24, 0, 7)
    empty = hour_profile([0] * 24, [0] * 24, 7, 7)
    assert empty.share_before.sum() == 0


def test_german_number_format():
    assert format_number_de(-2.9799, 2) == "−2,98"
    assert format_number_de(1721.5, 1) == "1.721,5"
    assert format_number_de(-0.001, 1) == "0,0"


def test_explanation_of_the_paper_result_reads_like_a_briefing():
    result = wdd(**PAPER, alpha=0.05)
    text = explain_de(result, wdq(207, 110, 178, 157, 308, 318))
    assert "Im Zielgebiet ging die Zahl der Vorfälle von 207 auf 110 zurück (−97)" in text
    assert "Im Kontrollgebiet stieg die Zahl der Vorfälle von 308 auf 318 (+10)" in text
    assert "−107 Vorfälle" in text
    assert "netto etwa 118 ± 78 Vorfälle verhindert" in text
    assert "95 %-Konfidenzintervall der Veränderung: −195,6 bis −40,4" in text
    assert "statistisch signifikant (z = −2,98" in text
    assert "Ausstrahlung positiver Effekte" in text
    assert "WDQ) beträgt 0,26" in text


def test_explanation_of_an_insignificant_rise_says_it_may_be_chance():
    text = explain_de(wdd(target=(6, 9), target_control=(40, 38)), noun_de="Feststellungen")
    assert "netto etwa 5 ± " in text and "Feststellungen mehr" in text
    assert "nicht signifikant" in text and "zufällig" in text
    assert "Achtung: Die Fallzahlen im Zielgebiet sind klein" in text


def test_explanation_mentions_displacement_and_weights():
    # Per unit of time: target 30 → 40 (+10), control 100 → 100, buffer 25 → 90 (+65).
    result = wdd(target=(60, 40), target_control=(200, 100), buffer=(50, 90), time_weights=(2, 1))
    assert result.local == 10 and result.displacement == 65
    text = explain_de(result)
    assert "Hinweis auf Verdrängung in den Pufferbereich" in text
    assert "verglichen wird mit demselben Kontrollgebiet" in text
    assert "gleiche Zeitraumlänge" in text


# --- the headline states only what the statistics support -----------------------------------------
# Like the demo's Wallring operation: target 500 → 380, buffer 300 → 310, a control with far fewer
# cases 120 → 100. WDD −70 ± 95 (not significant), WDQ −1,64 (the ratio alone would read
# "kontraproduktiv").
WALLRING = {"target": (500, 380), "buffer": (300, 310), "control": (120, 100)}


def _wallring() -> tuple:
    counts = WALLRING
    result = wdd(counts["target"], counts["control"], counts["buffer"])
    ratio = wdq(*counts["target"], *counts["buffer"], *counts["control"])
    return result, ratio


def test_insignificant_result_gets_a_neutral_headline_that_explains_wdd_and_wdq():
    result, ratio = _wallring()
    assert result.total == pytest.approx(-70) and not result.significant
    assert ratio.wdq == pytest.approx(-1.636, abs=1e-3) and ratio.total_net_effect < 0

    verdict = verdict_de(result, ratio, noun_de="Fälle")

    assert verdict.headline == "Kein gesicherter Effekt"
    assert verdict.effect == "none" and not verdict.significant
    text = verdict.text
    assert "Die WDD (Ziel und Puffer zusammen) zeigt netto 70 Fälle weniger" in text
    assert "95 %-Konfidenzintervall der Veränderung −165 bis +25" in text
    assert "das Intervall schließt 0 ein" in text
    assert (
        "Der WDQ (Verhältnis der Verdrängung im Puffer zum direkten Effekt im Zielgebiet) beträgt −1,64"
        in text
    )
    assert "WDD und WDQ zeigen hier in verschiedene Richtungen, weil sie Verschiedenes messen" in text
    # Why here: the WDD carries the control's absolute change over, the WDQ its relative change.
    assert "absolute Veränderung des Kontrollgebiets (−20 Fälle)" in text and "die relative (−17 %)" in text
    assert "Belegt ist damit weder ein Nutzen noch ein Schaden der Maßnahme." in text
    for words in (verdict.headline, text, explain_de(result, ratio), wdq_reading_de(ratio, result)):
        assert "kontraproduktiv" not in words and "verhindert:" not in words
    assert "die WDD findet keinen gesicherten Effekt" in wdq_reading_de(ratio, result)


def test_wdq_on_a_small_uncertain_direct_effect_is_called_unstable():
    # Target 20 → 13 while the control fell 40 → 30: the direct effect (+3, z = 0,30) is no effect at
    # all, yet the WDQ divides by it and reads 2,75 (diffusion larger than the direct effect).
    result = wdd((20, 13), (40, 30), (10, 2))
    ratio = wdq(20, 13, 10, 2, 40, 30)
    assert result.total == pytest.approx(5) and not result.significant
    assert ratio.wdq == pytest.approx(2.75)

    verdict = verdict_de(result, ratio)

    assert verdict.headline == "Kein gesicherter Effekt" and verdict.effect == "none"
    assert "netto 5 Vorfälle mehr" in verdict.text
    assert "Der WDQ teilt durch den direkten Effekt im Zielgebiet, und der ist selbst nicht gesichert" in (
        verdict.text
    )
    assert "(+3 Vorfälle, z = 0,30)" in verdict.text and "schwankt stark" in verdict.text


def test_significant_results_get_a_coloured_headline_and_only_supported_judgements():
    prevented = wdd(**PAPER)
    verdict = verdict_de(prevented, wdq(207, 110, 178, 157, 308, 318))
    assert verdict.effect == "prevented" and verdict.significant
    assert verdict.headline == "Netto verhindert: 118 ± 78 Vorfälle"
    assert "das ist statistisch signifikant (p = 0,003)" in verdict.text
    assert "verschiedene Richtungen" not in verdict.text  # WDD and WDQ agree

    # Guerette's case C ten times larger: the displacement outweighs the benefit, and the WDD
    # confirms it with significantly more cases than expected. Only now "kontraproduktiv".
    harm = wdd((1000, 600), (5000, 4750), (800, 1300))
    ratio = wdq(1000, 600, 800, 1300, 5000, 4750)
    assert harm.total == pytest.approx(600) and harm.significant and ratio.wdq < -1
    verdict = verdict_de(harm, ratio)
    assert verdict.effect == "more"
    assert verdict.headline == "Netto mehr als erwartet: 600 ± 405 Vorfälle"
    assert "Die Maßnahme ist insgesamt kontraproduktiv" in wdq_reading_de(ratio, harm)
    assert "Die Maßnahme ist insgesamt kontraproduktiv" in explain_de(harm, ratio)

    # Case C as Guerette gives it (a tenth of the counts, the same WDQ) is not significant: no judgement.
    small = wdd((100, 60), (500, 475), (80, 130))
    small_ratio = wdq(100, 60, 80, 130, 500, 475)
    assert not small.significant and small_ratio.wdq == pytest.approx(ratio.wdq)
    assert "kontraproduktiv" not in wdq_reading_de(small_ratio, small)
    assert "kontraproduktiv" not in explain_de(small, small_ratio)
    assert verdict_de(small, small_ratio).headline == "Kein gesicherter Effekt"
