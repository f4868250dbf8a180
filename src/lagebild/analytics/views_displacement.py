"""Displacement analysis page (/auswertung/verdraengung/) and its PDF.

The form is a plain GET form, so a result can be bookmarked and the PDF link carries the same
parameters. Without parameters the page opens with the defaults of
``displacement_service.default_params`` (on the demo: the KOD operation in the Wallring).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from lagebild.catalog.models import Category
from lagebild.field.forms import DATE_INPUT_FORMATS, DateInput, LagebildForm

from . import documents as doc
from . import selectors
from .displacement_service import (
    DisplacementInputError,
    DisplacementParams,
    DisplacementResult,
    Estimate,
    analyse_displacement,
    default_params,
    format_distances,
    parse_distances,
)
from .models import CITY_AREA
from .periods import Period

LIST_FIELDS = ("buffer_areas", "control", "buffer_control", "categories")
# The headline is coloured only for a significant result (as on the page); otherwise plain text.
HEADLINE_COLOURS = {"prevented": "#166534", "more": "#b91c1c"}
ALPHA_CHOICES = [("0.05", "95 %"), ("0.1", "90 %"), ("0.01", "99 %")]


# --- form ---------------------------------------------------------------------------------------


def _area_choices(*, with_city: bool) -> list[tuple[str, list[tuple[int, str]]]]:
    """Areas grouped by kind for the selects (the whole city only where it makes sense)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for choice in selectors.area_choices():
        if choice.id == CITY_AREA and not with_city:
            continue
        groups.setdefault(choice.kind_label, []).append((choice.id, choice.name))
    return list(groups.items())


def _indicator_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in selectors.indicators_for() if d.is_count]


class IdsField(forms.TypedMultipleChoiceField):
    """Several ids; an empty value (e.g. ``?control=``) means none rather than an invalid choice."""

    def to_python(self, value: Any) -> list[str]:
        return [v for v in super().to_python(value) if v not in ("", None)]


class DisplacementForm(LagebildForm):
    target = forms.TypedChoiceField(label="Zielgebiet", coerce=int, help_text="Gebiet der Maßnahme.")
    buffer_kind = forms.ChoiceField(
        label="Pufferbereich",
        choices=[("rings", "Ringe um das Zielgebiet"), ("areas", "Gebiete wählen")],
        widget=forms.RadioSelect,
        initial="rings",
    )
    rings = forms.CharField(
        label="Ringabstände (m)",
        required=False,
        max_length=200,
        help_text="Außenkante jedes Rings in Metern vom Rand des Zielgebiets, aufsteigend, "
        "z. B. 200, 400, 800.",
    )
    buffer_areas = IdsField(
        label="Pufferbereiche", coerce=int, required=False, help_text="Nur wenn „Gebiete wählen“."
    )
    control = IdsField(
        label="Kontrollgebiete",
        coerce=int,
        help_text="Vergleichbare Gebiete ohne Maßnahme; mehrere werden zusammengezählt.",
    )
    buffer_control = IdsField(
        label="Kontrolle für den Puffer",
        coerce=int,
        required=False,
        help_text="Leer: dieselben Kontrollgebiete wie für das Zielgebiet.",
    )
    pre_start = forms.DateField(label="Vorher von", input_formats=DATE_INPUT_FORMATS, widget=DateInput())
    pre_end = forms.DateField(label="Vorher bis", input_formats=DATE_INPUT_FORMATS, widget=DateInput())
    post_start = forms.DateField(label="Nachher von", input_formats=DATE_INPUT_FORMATS, widget=DateInput())
    post_end = forms.DateField(label="Nachher bis", input_formats=DATE_INPUT_FORMATS, widget=DateInput())
    count_kind = forms.ChoiceField(
        label="Gezählt wird",
        choices=[("indicator", "eine Kennzahl"), ("categories", "Feststellungen ausgewählter Sachverhalte")],
        widget=forms.RadioSelect,
        initial="indicator",
    )
    indicator = forms.ChoiceField(label="Kennzahl", required=False)
    categories = IdsField(
        label="Sachverhalte", coerce=int, required=False, help_text="Nur wenn „Feststellungen“ gewählt ist."
    )
    alpha = forms.ChoiceField(label="Konfidenz", choices=ALPHA_CHOICES, initial="0.05")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        areas = _area_choices(with_city=False)
        areas_with_city = _area_choices(with_city=True)
        self.fields["target"].choices = areas
        self.fields["buffer_areas"].choices = areas
        self.fields["control"].choices = areas_with_city
        self.fields["buffer_control"].choices = areas_with_city
        self.fields["indicator"].choices = [("", "Alle Feststellungen"), *_indicator_choices()]
        self.fields["categories"].choices = [
            (c.pk, c.name) for c in Category.objects.filter(active=True).order_by("name")
        ]
        for name in ("buffer_areas", "control", "buffer_control", "categories"):
            self.fields[name].widget.attrs["size"] = 8
        self.mark_invalid_fields()

    def clean_rings(self) -> tuple[float, ...]:
        text = self.cleaned_data.get("rings", "")
        if self.data.get("buffer_kind", "rings") != "rings":
            return ()
        try:
            return parse_distances(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("buffer_kind") == "areas"
            and not data.get("buffer_areas")
            and "buffer_areas" not in self.errors
        ):
            self.add_error("buffer_areas", "Bitte mindestens einen Pufferbereich wählen.")
        if data.get("count_kind") == "categories" and not data.get("categories"):
            self.add_error("categories", "Bitte mindestens einen Sachverhalt wählen.")
        return data

    def to_params(self) -> DisplacementParams:
        data = self.cleaned_data
        return DisplacementParams(
            target_id=data["target"],
            control_ids=tuple(data["control"]),
            pre=Period(data["pre_start"], max(data["pre_start"], data["pre_end"])),
            post=Period(data["post_start"], max(data["post_start"], data["post_end"])),
            ring_distances_m=data["rings"] if data["buffer_kind"] == "rings" else (),
            buffer_area_ids=tuple(data["buffer_areas"]) if data["buffer_kind"] == "areas" else (),
            buffer_control_ids=tuple(data["buffer_control"]),
            indicator_code=data["indicator"] if data["count_kind"] == "indicator" else "",
            category_ids=tuple(data["categories"]) if data["count_kind"] == "categories" else (),
            alpha=float(data["alpha"]),
        )

    def check_periods(self) -> bool:
        ok = True
        data = self.cleaned_data
        for start, end, label in (("pre_start", "pre_end", "Vorher"), ("post_start", "post_end", "Nachher")):
            if data[end] < data[start]:
                self.add_error(end, f"{label}: das Enddatum liegt vor dem Startdatum.")
                ok = False
        return ok


def params_querydict(params: DisplacementParams) -> QueryDict:
    """The GET parameters of the form for ``params`` (defaults, links)."""
    query = QueryDict(mutable=True)
    query["target"] = str(params.target_id)
    query["buffer_kind"] = "rings" if params.uses_rings else "areas"
    query["rings"] = format_distances(params.ring_distances_m) if params.uses_rings else ""
    query.setlist("buffer_areas", [str(i) for i in params.buffer_area_ids])
    query.setlist("control", [str(i) for i in params.control_ids])
    query.setlist("buffer_control", [str(i) for i in params.buffer_control_ids])
    for name, day in (
        ("pre_start", params.pre.start),
        ("pre_end", params.pre.end),
        ("post_start", params.post.start),
        ("post_end", params.post.end),
    ):
        query[name] = day.isoformat()
    query["count_kind"] = "categories" if params.category_ids else "indicator"
    query["indicator"] = params.indicator_code
    query.setlist("categories", [str(i) for i in params.category_ids])
    query["alpha"] = f"{params.alpha:g}"
    return query


def _analyse(request: HttpRequest) -> tuple[DisplacementForm, DisplacementResult | None, QueryDict | None]:
    """Bind the form (defaults when the query is empty) and run the analysis if it is valid."""
    data: QueryDict | None = request.GET if request.GET else None
    if data is None:
        defaults = default_params()
        if defaults is None:
            return DisplacementForm(), None, None
        data = params_querydict(defaults)
        if not defaults.control_ids:
            # No district clear of the rings: let the user choose instead of greeting with an error.
            initial = {key: data.getlist(key) if key in LIST_FIELDS else data[key] for key in data}
            return DisplacementForm(initial=initial), None, None
    form = DisplacementForm(data)
    if not form.is_valid() or not form.check_periods():
        return form, None, data
    try:
        result = analyse_displacement(form.to_params())
    except DisplacementInputError as exc:
        for key, messages in exc.errors.items():
            target = key if key in form.fields else None
            if key == "rings" and form.cleaned_data.get("buffer_kind") == "areas":
                target = "buffer_areas"
            for message in messages:
                form.add_error(target, message)
        return form, None, data
    return form, result, data


# --- presentation helpers (page and PDF) --------------------------------------------------------


def num(value: float | None, decimals: int = 0, *, sign: bool = False) -> str:
    if value is None:
        return "–"
    text = doc.number_de(value, decimals, sign=sign)
    return text.replace("-", "−")


def p_de(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0,001" if value < 0.001 else num(value, 3)


def _estimate_cells(estimate: Estimate) -> dict[str, str]:
    return {
        "estimate": num(estimate.estimate, 1, sign=True),
        "se": num(estimate.se, 1),
        "z": num(estimate.z, 2),
        "p": p_de(estimate.p_value),
        "ci": f"{num(estimate.ci_low, 1)} bis {num(estimate.ci_high, 1)}",
        "significant": estimate.p_value is not None and estimate.p_value < 0.05,
    }


def count_rows(result: DisplacementResult) -> list[dict[str, str]]:
    rows = []
    for counts in result.all_counts:
        rows.append(
            {
                "role": counts.role_label if counts.key != "buffer" else "Puffer gesamt",
                "label": counts.label,
                "km2": num(counts.area_km2, 2) if counts.area_km2 else "–",
                "pre": num(counts.pre),
                "post": num(counts.post),
                "pre_per_day": num(counts.pre_per_day, 2),
                "post_per_day": num(counts.post_per_day, 2),
                "change": num(counts.post_per_day - counts.pre_per_day, 2, sign=True),
                "total": counts.key == "buffer",
            }
        )
    return rows


def buffer_rows(result: DisplacementResult) -> list[dict[str, Any]]:
    rows = []
    for buffer in result.buffers:
        rows.append(
            {
                "label": buffer.counts.label,
                "pre": num(buffer.counts.pre),
                "post": num(buffer.counts.post),
                "displacement": _estimate_cells(buffer.displacement),
                "total": _estimate_cells(buffer.total),
            }
        )
    return rows


def wdd_rows(result: DisplacementResult) -> list[dict[str, Any]]:
    return [
        {"label": "Zielgebiet (lokale Wirkung)", **_estimate_cells(result.local)},
        {"label": "Pufferbereich (Verdrängung / Ausstrahlung)", **_estimate_cells(result.displacement)},
        {"label": "Gesamt (WDD)", **_estimate_cells(result.total), "is_total": True},
    ]


def wdq_rows(result: DisplacementResult) -> list[tuple[str, str]]:
    wdq = result.wdq
    if wdq is None:
        return []
    return [
        ("Erfolgsmaß (Ra/Ca − Rb/Cb; negativ = Erfolg)", num(wdq.success_measure, 4, sign=True)),
        ("Puffermaß (Da/Ca − Db/Cb; positiv = Verdrängung)", num(wdq.buffer_measure, 4, sign=True)),
        ("WDQ (Puffermaß / Erfolgsmaß)", num(wdq.wdq, 2) if wdq.wdq is not None else "–"),
        ("Bruttoeffekt im Zielgebiet (Rb − Ra)", num(wdq.gross_effect, 0, sign=True)),
        ("Nettoeffekt Zielgebiet (Fälle verhindert)", num(wdq.target_net_effect, 1, sign=True)),
        ("Nettoeffekt Puffer (negativ = verdrängt)", num(wdq.buffer_net_effect, 1, sign=True)),
        ("Gesamter Nettoeffekt (TNE)", num(wdq.total_net_effect, 1, sign=True)),
    ]


def hour_rows(result: DisplacementResult) -> list[dict[str, str]]:
    hours = result.hours
    return [
        {
            "hour": f"{h:02d}–{(h + 1) % 24:02d} Uhr",
            "pre": num(result.hour_counts_pre[h]),
            "post": num(result.hour_counts_post[h]),
            "pre_rate": num(7 * float(hours.rate_before[h]), 2),
            "post_rate": num(7 * float(hours.rate_after[h]), 2),
            "pre_share": num(100 * float(hours.share_before[h]), 1),
            "post_share": num(100 * float(hours.share_after[h]), 1),
        }
        for h in range(24)
    ]


def _nice_step(maximum: float) -> float:
    if maximum <= 0:
        return 1.0
    raw = maximum / 4
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def hour_chart(result: DisplacementResult) -> dict[str, Any]:
    """Coordinates of an inline SVG line chart of the weekly rates per hour (before / after).

    Rates per week (7 × the daily rate) rather than per day: periods of different length compare, and
    the numbers are large enough to read.
    """
    width, height = 720, 260
    left, right, top, bottom = 52, 12, 14, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    before = [7 * float(v) for v in result.hours.rate_before]
    after = [7 * float(v) for v in result.hours.rate_after]
    step = _nice_step(max(before + after + [0.0]))
    top_value = step * max(1, -(-max(before + after + [0.0]) // step))

    def x(hour: int) -> float:
        return round(left + (hour + 0.5) * plot_w / 24, 1)

    def y(rate: float) -> float:
        return round(top + plot_h - rate / top_value * plot_h, 1)

    ticks = []
    value = 0.0
    while value <= top_value + 1e-9:
        decimals = 0 if step >= 1 else (1 if step >= 0.1 else 2)
        ticks.append({"y": y(value), "label": num(value, decimals)})
        value += step
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": top + plot_h,
        "before": " ".join(f"{x(h)},{y(v)}" for h, v in enumerate(before)),
        "after": " ".join(f"{x(h)},{y(v)}" for h, v in enumerate(after)),
        "before_points": [{"x": x(h), "y": y(v)} for h, v in enumerate(before)],
        "after_points": [{"x": x(h), "y": y(v)} for h, v in enumerate(after)],
        "ticks": ticks,
        "hours": [{"x": x(h), "label": f"{h}"} for h in range(0, 24, 3)],
        "label_y": top + plot_h + 32,
        "tick_x": left - 6,
        "hour_y": top + plot_h + 16,
    }


def summary(result: DisplacementResult) -> dict[str, Any]:
    wdd = result.wdd
    confidence = num(100 * (1 - wdd.alpha))
    return {
        "headline": result.headline_de,
        "effect": result.verdict.effect,
        "verdict": result.verdict.text,
        "ci": f"{confidence} %-Konfidenzintervall: {num(wdd.ci_low, 1)} bis {num(wdd.ci_high, 1)}",
        "z": num(wdd.z, 2),
        "p": p_de(wdd.p_value),
        "significant": wdd.significant,
        "confidence": confidence,
        "wdq": num(result.wdq.wdq, 2) if result.wdq and result.wdq.wdq is not None else "–",
        "tne": num(result.wdq.total_net_effect, 1, sign=True) if result.wdq else "–",
        "night_pre": num(100 * result.hours.night_share_before, 1),
        "night_post": num(100 * result.hours.night_share_after, 1),
        "weights": (
            f"Vorher {result.pre.days} Tage, nachher {result.post.days} Tage: die Vorher-Zahlen werden mit "
            f"{num(result.time_weights.before, 3)} gewichtet, alle Schätzwerte gelten für den "
            f"Nachher-Zeitraum."
        )
        if result.weighted
        else f"Beide Zeiträume sind {result.pre.days} Tage lang; es wird nicht gewichtet.",
    }


def subtitle(result: DisplacementResult) -> str:
    return (
        f"{result.target_area.name} · {result.counted.name} · vorher {result.pre.dates_label} "
        f"({result.pre.days} Tage), nachher {result.post.dates_label} ({result.post.days} Tage)"
    )


def effect_query(result: DisplacementResult) -> str:
    """GET parameters of the patrol effect page (/einsatzplanung/wirkung/) for the same after period
    and target area: whole weeks from the after period's first day (2 to 26)."""
    from lagebild.deployment.views_effect import query_for

    return query_for(result.post.start, result.post.days, result.params.target_id)


# --- views --------------------------------------------------------------------------------------


@login_required
@permission_required("analytics.view", raise_exception=True)
def displacement(request: HttpRequest) -> HttpResponse:
    form, result, query = _analyse(request)
    context: dict[str, Any] = {"form": form, "result": result, "current": "analytics"}
    if result is not None:
        context.update(
            summary=summary(result),
            count_rows=count_rows(result),
            buffer_rows=buffer_rows(result),
            wdd_rows=wdd_rows(result),
            wdq_rows=wdq_rows(result),
            hour_rows=hour_rows(result),
            chart=hour_chart(result),
            subtitle=subtitle(result),
            pdf_query=query.urlencode() if query is not None else "",
            stand=doc.stand_de(),
            effect_query=effect_query(result),
        )
    status = 400 if request.GET and form.errors else 200
    return render(request, "analytics/displacement.html", context, status=status)


@login_required
@permission_required("analytics.export", raise_exception=True)
def displacement_pdf(request: HttpRequest) -> HttpResponse:
    form, result, _query = _analyse(request)
    if result is None:
        # Bad parameters: the page with the messages at the fields, never a broken file.
        return render(
            request,
            "analytics/displacement.html",
            {"form": form, "result": None, "current": "analytics"},
            status=400,
        )
    data = displacement_pdf_bytes(result)
    filename = f"verdraengung-{result.post.end.isoformat()}.pdf"
    return doc.file_response(data, filename, doc.PDF_TYPE)


def displacement_pdf_bytes(result: DisplacementResult) -> bytes:
    info = summary(result)
    significance = "statistisch signifikant" if info["significant"] else "statistisch nicht signifikant"
    story: list[Any] = [
        doc.heading("Ergebnis"),
        doc.lead(info["headline"], HEADLINE_COLOURS.get(info["effect"])),
        doc.paragraph(f"{info['ci']}; z = {info['z']}, p = {info['p']}; {significance}.", small=True),
        doc.paragraph(info["verdict"]),
        doc.paragraph(result.explanation_de),
        doc.paragraph(info["weights"], small=True),
    ]
    for warning in result.warnings:
        story.append(doc.paragraph(f"Hinweis: {warning}", small=True))
    story += [
        doc.heading("Fallzahlen"),
        doc.table(
            ["Rolle", "Gebiet", "km²", "Vorher", "Nachher", "je Tag vorher", "je Tag nachher"],
            [
                [r["role"], r["label"], r["km2"], r["pre"], r["post"], r["pre_per_day"], r["post_per_day"]]
                for r in count_rows(result)
            ],
            col_widths_mm=[26, 62, 14, 16, 16, 18, 20],
            right_from=2,
        ),
        doc.heading("WDD: Wirkung und Verdrängung"),
        doc.table(
            ["Teil", "Schätzung", "SE", "z", "p", "Konfidenzintervall"],
            [[r["label"], r["estimate"], r["se"], r["z"], r["p"], r["ci"]] for r in wdd_rows(result)],
            col_widths_mm=[62, 20, 16, 14, 16, 44],
            bold_rows=[2],
        ),
        doc.heading("Verdrängung je Ring bzw. Pufferbereich (Entfernungsabfall)"),
        doc.table(
            ["Puffer", "Vorher", "Nachher", "Verdrängung", "SE", "z", "p", "WDD gesamt"],
            [
                [
                    r["label"],
                    r["pre"],
                    r["post"],
                    r["displacement"]["estimate"],
                    r["displacement"]["se"],
                    r["displacement"]["z"],
                    r["displacement"]["p"],
                    r["total"]["estimate"],
                ]
                for r in buffer_rows(result)
            ],
            col_widths_mm=[40, 16, 18, 22, 14, 14, 16, 24],
        ),
        doc.heading("WDQ und gesamter Nettoeffekt"),
    ]
    if result.wdq is not None:
        story.append(doc.table(["Maß", "Wert"], wdq_rows(result), col_widths_mm=[120, 40]))
        story.append(doc.paragraph(result.wdq_reading_de))
    if result.wdq_note:
        story.append(doc.paragraph(result.wdq_note, small=True))
    labels = [f"{h}" for h in range(24)]
    story += [
        doc.heading("Zeitliche Verdrängung: Stundenprofil im Zielgebiet"),
        doc.paragraph(
            "Fälle je Woche in jeder Stunde des Tages. Anteil der Nachtstunden (22–6 Uhr): "
            f"vorher {info['night_pre']} %, nachher {info['night_post']} %."
        ),
        doc.line_chart(
            labels,
            {
                "vorher": [7 * float(v) for v in result.hours.rate_before],
                "nachher": [7 * float(v) for v in result.hours.rate_after],
            },
            title="Fälle je Woche nach Uhrzeit",
        ),
        doc.table(
            ["Stunde", "Vorher", "je Woche", "Anteil %", "Nachher", "je Woche", "Anteil %"],
            [
                [
                    r["hour"],
                    r["pre"],
                    r["pre_rate"],
                    r["pre_share"],
                    r["post"],
                    r["post_rate"],
                    r["post_share"],
                ]
                for r in hour_rows(result)
            ],
            col_widths_mm=[30, 18, 18, 18, 18, 18, 18],
        ),
        doc.heading("So sind die Zahlen zu lesen"),
    ]
    story += [doc.paragraph(f"• {caveat}") for caveat in result.caveats]
    return doc.pdf_document("Verdrängungsanalyse", subtitle(result), story)
