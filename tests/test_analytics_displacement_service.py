"""Displacement analysis through the whole stack: records → count tables / points → WDD, WDQ, page, PDF.

Check values: WDQ case A of the research notes (crime_analysis.md §1.3: Rb 100, Ra 60, Db 80, Da 95,
Cb 500, Ca 475 → WDQ −0.5429, TNE 16.0) scaled down by 5, and WDD values computed by hand from the
formulas of §1.4 for the same counts.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import math
import re
import zlib
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from pyproj import Transformer

from lagebild.analytics.displacement_service import (
    DisplacementInputError,
    DisplacementParams,
    analyse_displacement,
    parse_distances,
)
from lagebild.analytics.models import Indicator
from lagebild.analytics.periods import Period
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.geo.models import Area
from lagebild.geo.points import to_utm32
from lagebild.geo.services import area_save

from .conftest import _box

BERLIN = ZoneInfo("Europe/Berlin")
Z_975 = 1.959963984540054
TARGET_POINT = (51.514, 7.465)  # inside the focus area "centre" (7.455–7.475, 51.509–51.519)
BUFFER_POINT = (51.514, 7.484)
CONTROL_POINT = (51.547, 7.42)
BUFFER_CONTROL_POINT = (51.492, 7.50)
URL = "/auswertung/verdraengung/"


# --- helpers ------------------------------------------------------------------------------------


def _area(code: str, name: str, box: tuple[float, float, float, float], kind: str = Area.Kind.CUSTOM) -> Area:
    return area_save(area=Area(kind=kind, code=code, name=name), geometry=_box(*box))


@pytest.fixture
def design(world) -> dict:
    """Target = focus area "centre"; an adjacent buffer area, a control and a buffer control far away."""
    today = timezone.localdate()
    return {
        "target": world["areas"]["centre"],
        "buffer": _area("puffer-ost", "Puffer Ost", (7.478, 51.509, 7.49, 51.519)),
        "control": _area("kontrolle", "Kontrolle Nordwest", (7.41, 51.54, 7.43, 51.555)),
        "buffer_control": _area("pufferkontrolle", "Pufferkontrolle Süd", (7.49, 51.485, 7.51, 51.50)),
        "pre": Period(today - dt.timedelta(days=41), today - dt.timedelta(days=28)),
        "post": Period(today - dt.timedelta(days=14), today - dt.timedelta(days=1)),
        "pre_day": today - dt.timedelta(days=35),
        "post_day": today - dt.timedelta(days=7),
        "today": today,
    }


def _record(user, category, day: dt.date, hour: int, point: tuple[float, float], n: int = 1, **extra) -> None:
    with authority_scope(user.authority_id):
        for i in range(n):
            field.incident_create(
                user=user,
                category=category,
                occurred_at=dt.datetime.combine(day, dt.time(hour, i % 60), tzinfo=BERLIN),
                lat=point[0],
                lon=point[1],
                **extra,
            )


def _east_of_centre(metres: float) -> tuple[float, float]:
    """(lat, lon) of a point ``metres`` east of the middle of the target's east edge (UTM x axis)."""
    x, y = to_utm32(51.514, 7.475)
    lon, lat = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(x + metres, y)
    return lat, lon


def _params(d: dict, **overrides) -> DisplacementParams:
    values = {
        "target_id": d["target"].pk,
        "control_ids": (d["control"].pk,),
        "pre": d["pre"],
        "post": d["post"],
        "buffer_area_ids": (d["buffer"].pk,),
    }
    values.update(overrides)
    return DisplacementParams(**values)


# --- check values through the stack -------------------------------------------------------------


def test_wdq_case_a_and_wdd_by_hand_from_recorded_incidents(design, kod, polizei, catalogue):
    begging = catalogue["begging"]
    # Case A / 5: Rb 20, Ra 12, Db 16, Da 19, Cb 100, Ca 95; the buffer's own control 30 → 24.
    # Target incidents before at noon, after late in the evening (a shift into the night).
    _record(kod, begging, design["pre_day"], 12, TARGET_POINT, 20)
    _record(kod, begging, design["post_day"], 23, TARGET_POINT, 12)
    _record(kod, begging, design["pre_day"], 15, BUFFER_POINT, 16)
    _record(polizei, begging, design["post_day"], 15, BUFFER_POINT, 19)  # police-only records count too
    _record(kod, begging, design["pre_day"], 10, CONTROL_POINT, 100)
    _record(kod, begging, design["post_day"], 10, CONTROL_POINT, 95)
    _record(kod, begging, design["pre_day"], 9, BUFFER_CONTROL_POINT, 30)
    _record(kod, begging, design["post_day"], 9, BUFFER_CONTROL_POINT, 24)

    result = analyse_displacement(_params(design, category_ids=(begging.pk,)))

    assert (result.target.pre, result.target.post) == (20, 12)
    assert (result.buffer_total.pre, result.buffer_total.post) == (16, 19)
    assert (result.target_control.pre, result.target_control.post) == (100, 95)
    wdq = result.wdq
    assert wdq is not None and wdq.meaningful
    assert wdq.success_measure == pytest.approx(-0.0737, abs=5e-5)
    assert wdq.buffer_measure == pytest.approx(0.0400, abs=5e-5)
    assert wdq.wdq == pytest.approx(-0.5429, abs=5e-5)
    assert wdq.total_net_effect == pytest.approx(16.0 / 5)
    assert "Verdrängung" in wdq.interpretation_de and "Erfolg" in wdq.interpretation_de
    # WDD with the control serving target and buffer: its variance counts four times.
    assert result.wdd.local == pytest.approx((12 - 20) - (95 - 100))
    assert result.wdd.displacement == pytest.approx((19 - 16) - (95 - 100))
    assert result.wdd.total == pytest.approx(5)
    assert result.wdd.se == pytest.approx(math.sqrt(20 + 12 + 16 + 19 + 4 * (100 + 95)))
    assert not result.weighted
    # The temporal view: all of the target's incidents moved from noon to 23 h.
    assert result.hours.night_share_before == 0 and result.hours.night_share_after == 1
    assert result.hours.rate_before[12] == pytest.approx(20 / 14)
    assert result.hours.rate_after[23] == pytest.approx(12 / 14)
    assert "netto" in result.explanation_de

    # With the buffer's own control (Wheeler & Ratcliffe's four-area design).
    own = analyse_displacement(
        _params(design, category_ids=(begging.pk,), buffer_control_ids=(design["buffer_control"].pk,))
    )
    se = math.sqrt(20 + 12 + 100 + 95 + 16 + 19 + 30 + 24)
    assert own.buffer_control is not None and own.buffer_control.counts == (30, 24)
    assert own.wdd.local == pytest.approx(-3)
    assert own.wdd.displacement == pytest.approx((19 - 16) - (24 - 30))
    assert own.wdd.total == pytest.approx(6)
    assert own.wdd.se == pytest.approx(se)
    assert own.wdd.z == pytest.approx(6 / se)
    assert (own.wdd.ci_low, own.wdd.ci_high) == pytest.approx((6 - Z_975 * se, 6 + Z_975 * se))
    assert own.total.p_value == pytest.approx(own.wdd.p_value)
    assert own.wdq is not None and own.wdq.wdq == pytest.approx(wdq.wdq)  # WDQ uses the target's control

    # Unequal periods: 28 days before (same incidents), 14 after → time weights 2 : 1, "cases per 14 days".
    longer = Period(design["pre"].end - dt.timedelta(days=27), design["pre"].end)
    weighted = analyse_displacement(
        _params(
            design,
            pre=longer,
            category_ids=(begging.pk,),
            buffer_control_ids=(design["buffer_control"].pk,),
        )
    )
    assert (weighted.time_weights.before, weighted.time_weights.after) == (2.0, 1.0)
    assert weighted.weighted and weighted.target.pre_days == 28
    assert weighted.wdd.local == pytest.approx((12 - 20 / 2) - (95 - 100 / 2))
    assert weighted.wdd.displacement == pytest.approx((19 - 16 / 2) - (24 - 30 / 2))
    assert weighted.wdd.se == pytest.approx(math.sqrt(20 / 4 + 12 + 100 / 4 + 95 + 16 / 4 + 19 + 30 / 4 + 24))
    assert weighted.wdq is not None and weighted.wdq.wdq == pytest.approx(wdq.wdq)  # ratios need no weights
    assert weighted.hours.rate_before[12] == pytest.approx(20 / 28)
    assert "gewichtet" in weighted.explanation_de


def test_rings_count_points_just_inside_and_just_outside_each_edge(design, kod, polizei, catalogue):
    begging, drugs = catalogue["begging"], catalogue["drugs"]
    pre_day, post_day = design["pre_day"], design["post_day"]
    _record(kod, begging, pre_day, 12, TARGET_POINT)  # the target itself: not in any ring
    _record(kod, begging, pre_day, 12, _east_of_centre(190))  # ring 0–200 m
    _record(kod, begging, pre_day, 12, _east_of_centre(210))  # ring 200–400 m
    _record(kod, begging, pre_day, 12, _east_of_centre(410))  # outside the rings
    _record(kod, begging, post_day, 12, _east_of_centre(190), 2)
    _record(kod, begging, post_day, 12, _east_of_centre(390))
    _record(polizei, begging, post_day, 12, _east_of_centre(210))  # police only: counted for everyone
    _record(kod, begging, post_day, 12, _east_of_centre(410))
    _record(kod, drugs, post_day, 12, _east_of_centre(190))  # another category: not counted
    _record(kod, begging, post_day - dt.timedelta(days=20), 12, _east_of_centre(190))  # between the periods
    _record(kod, begging, pre_day, 10, CONTROL_POINT, 3)
    _record(kod, begging, post_day, 10, CONTROL_POINT, 2)

    result = analyse_displacement(
        _params(design, buffer_area_ids=(), ring_distances_m=(200.0, 400.0), category_ids=(begging.pk,))
    )

    rings = [b.counts for b in result.buffers]
    assert [r.label for r in rings] == ["Ring 0–200 m", "Ring 200–400 m"]
    assert [(r.pre, r.post) for r in rings] == [(1, 2), (1, 2)]
    assert (result.buffer_total.pre, result.buffer_total.post) == (2, 4)
    assert (result.target.pre, result.target.post) == (1, 0)
    # Per ring: its own WDD with the shared control; all rings together are the buffer of the headline.
    control_change = 2 - 3
    assert result.buffers[0].wdd.displacement == pytest.approx((2 - 1) - control_change)
    assert result.wdd.displacement == pytest.approx((4 - 2) - control_change)
    assert result.buffers[0].displacement.se == pytest.approx(math.sqrt(1 + 2 + 3 + 2))
    # Ring areas: the first ring around a ~1.4 km × 1.1 km box is about 0.2 km wide all round.
    assert 0.9 < rings[0].area_km2 < 1.2
    roles = [f["properties"]["role"] for f in result.geojson["features"]]
    assert roles == ["target", "ring", "ring", "target_control"]
    lon, lat = result.geojson["features"][1]["geometry"]["coordinates"][0][0][:2]
    assert 7.4 < lon < 7.6 and 51.4 < lat < 51.6  # WGS84 for the map


def test_rings_count_measures_for_a_measure_indicator(design, kod, catalogue):
    begging = catalogue["begging"]
    indicator = Indicator.objects.create(
        code="platzverweise",
        name="Platzverweise",
        kind="activity",
        fact="measure",
        measure_types=["dispersal_order"],
    )
    dispersal = [MeasureInput(type="dispersal_order")]
    _record(kod, begging, design["pre_day"], 12, _east_of_centre(100), measures=dispersal)
    _record(kod, begging, design["post_day"], 12, _east_of_centre(100), 2, measures=dispersal)
    _record(
        kod, begging, design["post_day"], 12, _east_of_centre(100), measures=[MeasureInput(type="contact")]
    )
    _record(kod, begging, design["pre_day"], 10, CONTROL_POINT, 2, measures=dispersal)
    _record(kod, begging, design["post_day"], 10, CONTROL_POINT, 1, measures=dispersal)

    result = analyse_displacement(
        _params(design, buffer_area_ids=(), ring_distances_m=(200.0,), indicator_code=indicator.code)
    )

    assert result.buffers[0].counts.counts == (1, 2)
    assert result.target_control.counts == (2, 1)
    assert any("Aktivitätszahl" in warning for warning in result.warnings)


def test_contaminated_control_and_overlapping_buffer_are_flagged_not_forbidden(design, world, kod, catalogue):
    _record(kod, catalogue["begging"], design["pre_day"], 12, TARGET_POINT, 2)
    _record(kod, catalogue["begging"], design["post_day"], 12, TARGET_POINT, 1)
    overlapping_buffer = _area("puffer-gross", "Puffer mit Ziel", (7.45, 51.505, 7.48, 51.522))

    result = analyse_displacement(
        _params(design, control_ids=(world["areas"]["east"].pk,), buffer_area_ids=(overlapping_buffer.pk,))
    )

    text = " ".join(result.warnings)
    assert "Bezirk Ost" in text and "überschneidet das Zielgebiet" in text and "Guerette" in text
    assert "Puffer mit Ziel" in text and "doppelt gezählt" in text
    assert result.target_control.counts == (2, 1)  # the target's incidents are in the district too
    # The whole city as control: small overlap for the city, but it takes in all of the target.
    citywide = analyse_displacement(_params(design, control_ids=(0,)))
    assert citywide.control_areas[0].name.startswith("Stadtgebiet")
    assert any("100 % des Zielgebiets" in warning for warning in citywide.warnings)


def test_invalid_designs_get_german_messages_per_parameter(design, catalogue):
    Indicator.objects.create(code="bargeld", name="Bargeld", kind="activity", fact="measure", value="amount")
    Indicator.objects.create(code="streifen", name="Streifen", kind="activity", fact="patrol")
    cases = [
        ({"control_ids": ()}, "control"),
        ({"control_ids": (design["target"].pk,)}, "control"),
        ({"target_id": 999999}, "target"),
        ({"buffer_area_ids": ()}, "rings"),
        ({"ring_distances_m": (200.0,)}, "rings"),
        ({"indicator_code": "gibt-es-nicht"}, "indicator"),
        ({"indicator_code": "bargeld"}, "indicator"),
        ({"buffer_area_ids": (), "ring_distances_m": (200.0,), "indicator_code": "streifen"}, "indicator"),
        ({"category_ids": (999999,)}, "categories"),
        ({"post": design["pre"]}, "post_start"),
        ({"alpha": 1.5}, "alpha"),
    ]
    for overrides, key in cases:
        with pytest.raises(DisplacementInputError) as caught:
            analyse_displacement(_params(design, **overrides))
        assert key in caught.value.errors, (overrides, caught.value.errors)
        assert all(message[-1] in ".)" for message in caught.value.errors[key])
    with pytest.raises(DisplacementInputError) as caught:
        analyse_displacement(_params(design))  # no incidents anywhere: no standard error
    assert "Standardfehler" in caught.value.errors["__all__"][0]


def test_ring_distances_are_parsed_with_german_messages():
    assert parse_distances("200, 400, 800") == (200.0, 400.0, 800.0)
    assert parse_distances("100m;250 m 300") == (100.0, 250.0, 300.0)
    for text, words in [
        ("", "mindestens einen"),
        ("200, abc", "keine Zahl"),
        ("400, 200", "aufsteigend"),
        ("0", "größer als 0"),
        ("99999", "höchstens"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_distances(text)


# --- page and PDF -------------------------------------------------------------------------------


def _query(d: dict, **extra: str) -> dict[str, str]:
    query = {
        "target": str(d["target"].pk),
        "buffer_kind": "rings",
        "rings": "200, 400",
        "control": str(d["control"].pk),
        "pre_start": d["pre"].start.isoformat(),
        "pre_end": d["pre"].end.isoformat(),
        "post_start": d["post"].start.isoformat(),
        "post_end": d["post"].end.isoformat(),
        "count_kind": "indicator",
        "indicator": "",
        "alpha": "0.05",
    }
    query.update(extra)
    return query


@pytest.fixture
def ring_data(design, kod, polizei, catalogue) -> dict:
    begging = catalogue["begging"]
    _record(kod, begging, design["pre_day"], 12, TARGET_POINT, 8)
    _record(kod, begging, design["post_day"], 21, TARGET_POINT, 2)
    _record(kod, begging, design["pre_day"], 12, _east_of_centre(190))
    _record(polizei, catalogue["dealing"], design["post_day"], 12, _east_of_centre(190))  # police only
    _record(kod, begging, design["post_day"], 12, _east_of_centre(300), 2)
    _record(kod, begging, design["pre_day"], 10, CONTROL_POINT, 5)
    _record(kod, begging, design["post_day"], 10, CONTROL_POINT, 4)
    return design


def test_page_shows_the_same_result_to_city_analyst_and_police_officer(client, ring_data, analyst, polizei):
    pages = {}
    for user in (analyst, polizei):
        client.force_login(user)
        response = client.get(URL, _query(ring_data))
        assert response.status_code == 200
        pages[user.username] = response
    city, police = (pages[name].context["result"] for name in ("analyse", "polizei"))
    for result in (city, police):
        assert [b.counts.counts for b in result.buffers] == [(1, 1), (0, 2)]  # incl. the police record
        assert result.target.counts == (8, 2)
        assert result.wdd.total == pytest.approx((2 - 8) - (4 - 5) + (3 - 1) - (4 - 5))
    assert city.wdd == police.wdd and city.wdq == police.wdq and city.all_counts == police.all_counts
    html = pages["analyse"].content.decode()
    assert "Ring 0–200 m" in html and "Ring 200–400 m" in html
    assert "Kein gesicherter Effekt" in html and "WDQ" in html and "Regression zur Mitte" in html
    assert '<svg viewBox="0 0 720 260" role="img"' in html and "Zahlen des Diagramms als Tabelle" in html
    assert 'id="displacement-geojson"' in html
    # Only areas and rings go to the map, never points of records.
    geojson = pages["polizei"].context["result"].geojson
    assert {f["geometry"]["type"] for f in geojson["features"]} <= {"Polygon", "MultiPolygon"}


def test_pdf_is_a_valid_document(client, ring_data, analyst):
    client.force_login(analyst)
    response = client.get("/auswertung/verdraengung.pdf", _query(ring_data))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and response.content.rstrip().endswith(b"%%EOF")
    assert response.content.count(b"/Type /Page\n") + response.content.count(b"/Type /Page ") >= 1


def _pdf_lines(data: bytes) -> list[tuple[str, str]]:
    """(fill colour, text) of every line of text in a ReportLab PDF, from its content streams."""
    lines = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = stream.strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        text = raw.decode("latin-1")
        colour = "0 0 0"
        for match in re.finditer(r"([\d. ]+) rg|\(((?:[^()\\]|\\.)*)\) Tj", text):
            if match.group(1) is not None:
                colour = match.group(1).strip()
            else:
                literal = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), match.group(2))
                lines.append((colour, re.sub(r"\\(.)", r"\1", literal)))
    return lines


def _areas_query(d: dict) -> dict[str, str]:
    return _query(d, buffer_kind="areas", rings="", buffer_areas=str(d["buffer"].pk))


def test_insignificant_result_is_headlined_as_no_established_effect(
    client, design, kod, polizei, analyst, catalogue
):
    # Like the demo's Wallring operation, a tenth of it: target 50 → 38, buffer 30 → 31, a control with
    # far fewer cases 12 → 10. WDD −7 ± 30 (not significant); WDQ −1,64, which alone would read
    # "kontraproduktiv". Some records are police-only: they count for everyone.
    begging = catalogue["begging"]
    pre_day, post_day = design["pre_day"], design["post_day"]
    _record(kod, begging, pre_day, 12, TARGET_POINT, 50)
    _record(kod, begging, post_day, 12, TARGET_POINT, 30)
    _record(polizei, begging, post_day, 13, TARGET_POINT, 8)
    _record(kod, begging, pre_day, 12, BUFFER_POINT, 30)
    _record(polizei, begging, post_day, 12, BUFFER_POINT, 31)
    _record(kod, begging, pre_day, 10, CONTROL_POINT, 12)
    _record(kod, begging, post_day, 10, CONTROL_POINT, 10)

    pages = {}
    for user in (analyst, polizei):
        client.force_login(user)
        pages[user.username] = client.get(URL, _areas_query(design))
        client.logout()

    for response in pages.values():
        assert response.status_code == 200
        result = response.context["result"]
        assert (result.target.counts, result.buffer_total.counts) == ((50, 38), (30, 31))
        assert result.wdd.total == pytest.approx(-7) and not result.wdd.significant
        assert result.wdq.wdq == pytest.approx(-1.636, abs=1e-3)
        html = response.content.decode()
        # The headline says what the statistics support, in the neutral colour.
        assert '<p class="displacement-headline is-none"><strong>Kein gesicherter Effekt</strong></p>' in html
        assert "is-prevented" not in html and "is-more" not in html
        assert "netto verhindert:" not in html.lower()
        # Right below: what WDD and WDQ each show and why they disagree.
        verdict = html[html.index('class="displacement-verdict"') :]
        verdict = verdict[: verdict.index("</p>")]
        assert "Die WDD (Ziel und Puffer zusammen) zeigt netto 7 Fälle weniger" in verdict
        assert "das Intervall schließt 0 ein" in verdict
        assert "beträgt −1,64" in verdict and "weil sie Verschiedenes messen" in verdict
        assert "Belegt ist damit weder ein Nutzen noch ein Schaden der Maßnahme." in verdict
        assert "kontraproduktiv" not in html
        assert "die WDD findet keinen gesicherten Effekt" in html  # the WDQ section
    assert pages["analyse"].context["result"].verdict == pages["polizei"].context["result"].verdict

    client.force_login(analyst)
    pdf = client.get("/auswertung/verdraengung.pdf", _areas_query(design))
    assert pdf.status_code == 200
    lines = _pdf_lines(pdf.content)
    text = " ".join(line for _colour, line in lines)
    assert ("0 0 0", "Kein gesicherter Effekt") in lines  # black, not green
    assert "kontraproduktiv" not in text and "verhindert:" not in text
    assert "schließt 0 ein" in text


def test_significant_result_is_headlined_in_colour(client, design, kod, polizei, analyst, catalogue):
    # Target 60 → 5 (partly police records), buffer and control unchanged: WDD −55 ± 31, significant.
    begging = catalogue["begging"]
    pre_day, post_day = design["pre_day"], design["post_day"]
    _record(kod, begging, pre_day, 12, TARGET_POINT, 40)
    _record(polizei, begging, pre_day, 14, TARGET_POINT, 20)
    _record(polizei, begging, post_day, 12, TARGET_POINT, 5)
    for day in (pre_day, post_day):
        _record(kod, begging, day, 12, BUFFER_POINT, 10)
        _record(kod, begging, day, 10, CONTROL_POINT, 20)

    for user in (analyst, polizei):
        client.force_login(user)
        response = client.get(URL, _areas_query(design))
        client.logout()
        result = response.context["result"]
        assert result.wdd.total == pytest.approx(-55) and result.wdd.significant
        html = response.content.decode()
        headline = "<strong>Netto verhindert: 55 ± 31 Fälle</strong>"
        assert f'<p class="displacement-headline is-prevented">{headline}</p>' in html
        assert "das ist statistisch signifikant" in html
        assert "Insgesamt ein Erfolg: die WDD zeigt signifikant weniger Fälle als erwartet." in html

    client.force_login(analyst)
    lines = _pdf_lines(client.get("/auswertung/verdraengung.pdf", _areas_query(design)).content)
    [(colour, _text)] = [line for line in lines if line[1] == "Netto verhindert: 55 ± 31 Fälle"]
    assert [float(v) for v in colour.split()] == pytest.approx([0x16 / 255, 0x65 / 255, 0x34 / 255], abs=1e-3)


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"rings": "400, 200"}, "rings", "aufsteigend"),
        ({"rings": "zweihundert"}, "rings", "keine Zahl"),
        ({"pre_start": "31.02.2026"}, "pre_start", "gültiges Datum"),
        ({"control": ""}, "control", "erforderlich"),
        ({"buffer_kind": "areas"}, "buffer_areas", "mindestens einen Pufferbereich"),
        ({"count_kind": "categories"}, "categories", "mindestens einen Sachverhalt"),
        ({"post_end": "2000-01-01"}, "post_end", "vor dem Startdatum"),
    ],
)
def test_bad_input_shows_german_errors_at_the_field(client, design, analyst, extra, field, words):
    client.force_login(analyst)
    response = client.get(URL, _query(design, **extra))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and words in " ".join(errors[field])
    assert response.context["result"] is None
    assert "field-error" in response.content.decode()


def test_service_errors_land_on_the_form_and_the_pdf_answers_with_the_page(client, design, analyst):
    client.force_login(analyst)
    query = _query(design)  # no incidents at all: nothing to compute
    response = client.get(URL, query)
    assert response.status_code == 400
    assert "Standardfehler" in " ".join(response.context["form"].non_field_errors())
    pdf = client.get("/auswertung/verdraengung.pdf", {**query, "rings": "-5"})
    assert pdf.status_code == 400 and pdf["Content-Type"].startswith("text/html")


def test_page_without_parameters_opens_with_sensible_defaults(client, design, analyst, kod, catalogue):
    far = _area("fern", "Bezirk Fern", (7.40, 51.545, 7.42, 51.56), kind=Area.Kind.DISTRICT)
    _record(kod, catalogue["begging"], design["today"] - dt.timedelta(days=40), 12, TARGET_POINT, 3)
    _record(kod, catalogue["begging"], design["today"] - dt.timedelta(days=3), 12, TARGET_POINT, 1)
    _record(kod, catalogue["begging"], design["today"] - dt.timedelta(days=40), 12, (51.55, 7.41), 2)
    _record(kod, catalogue["begging"], design["today"] - dt.timedelta(days=3), 12, (51.55, 7.41), 2)
    client.force_login(analyst)

    response = client.get(URL)

    assert response.status_code == 200
    result = response.context["result"]
    assert result.target_area.name == "Zentrum"  # the only focus area
    assert result.params.ring_distances_m == (200.0, 400.0, 800.0)
    # Districts touching the target or the 800 m ring are no controls (contamination).
    assert [a.name for a in result.control_areas] == [far.name]
    assert result.post.end == design["today"] - dt.timedelta(days=3)  # the last day with data
    assert result.pre.days == 56 and result.pre.end < result.post.start


def test_page_without_a_clear_control_asks_instead_of_failing(client, world, analyst):
    client.force_login(analyst)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["result"] is None and not response.context["form"].is_bound
