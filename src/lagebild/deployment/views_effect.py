"""Effect of patrols on patrolled cells (/einsatzplanung/wirkung/): matched difference-in-differences.

Open to everyone who may see the displacement analysis (``analytics.view``): the page shows only
aggregates of both partners (cell counts, means, sums), never a single record, its text or a
patrol's name. A plain GET form, so a result can be bookmarked and linked from the displacement page
and from a special operation's evaluation (``?operation=<id>``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render

from lagebild.analytics import documents as doc
from lagebild.field.forms import DATE_INPUT_FORMATS, DateInput, LagebildForm
from lagebild.geo.models import Area

from . import effect_queries as queries
from .effect import SMD_LIMIT, EffectResult, number_de, p_de, percent_de

HEADLINE_CLASSES = {"fewer": "is-prevented", "more": "is-more"}


class EffectForm(LagebildForm):
    operation = forms.TypedChoiceField(
        label="Schwerpunkteinsatz",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Übernimmt Zielgebiet und Zeitraum des Einsatzes (Beginn und Wochen lassen sich ändern).",
    )
    start = forms.DateField(
        label="Streifenwochen ab",
        required=False,
        input_formats=DATE_INPUT_FORMATS,
        widget=DateInput(),
        help_text="Erster Tag der Wochen mit Streifen. Leer: die letzten vollständigen Wochen.",
    )
    weeks = forms.IntegerField(
        label="Wochen",
        required=False,
        min_value=queries.MIN_WEEKS,
        max_value=queries.MAX_WEEKS,
        help_text="Länge der Streifenwochen und des gleich langen Vorher-Zeitraums davor.",
    )
    group = forms.ChoiceField(label="Gezählt werden", required=False)
    area = forms.TypedChoiceField(
        label="Nur Zellen in diesem Gebiet gelten als bestreift",
        coerce=int,
        required=False,
        empty_value=None,
    )
    min_hours = forms.FloatField(
        label="Mindeststunden je Woche",
        required=False,
        min_value=0.1,
        max_value=168,
        help_text="So viele Streifenstunden je Woche (im Mittel) braucht eine Zelle, um als bestreift "
        "zu gelten.",
    )
    buffer_m = forms.IntegerField(
        label="Pufferring (m)",
        required=False,
        min_value=0,
        max_value=3000,
        help_text="Zellen so nah an bestreiften Zellen dienen nicht zum Vergleich (Verdrängung).",
    )
    k = forms.IntegerField(
        label="Vergleichszellen je bestreifter Zelle", required=False, min_value=1, max_value=20
    )

    def __init__(self, *args: Any, operations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.operations = {op.pk: op for op in operations}
        self.fields["operation"].choices = [("", "– keiner –")] + [
            (op.pk, f"{op.name} ({op.start:%d.%m.%Y}–{op.end:%d.%m.%Y})") for op in self.operations.values()
        ]
        self.fields["group"].choices = queries.group_choices()
        areas = Area.objects.filter(active=True).exclude(kind=Area.Kind.CITY).order_by("kind", "name")
        self.fields["area"].choices = [("", "– ganzes Stadtgebiet –")] + [
            (a.pk, f"{a.name} ({a.get_kind_display()})") for a in areas
        ]
        self.mark_invalid_fields()

    def to_params(self) -> queries.EffectParams:
        data = self.cleaned_data
        overrides: dict[str, Any] = {"group": data.get("group") or queries.ALL_GROUPS}
        for name, key in (("min_hours", "min_hours_per_week"), ("buffer_m", "buffer_m"), ("k", "k")):
            if data.get(name) is not None:
                overrides[key] = data[name]
        if data.get("weeks"):
            overrides["weeks"] = data["weeks"]
        if data.get("start"):
            overrides["start"] = data["start"]
        if data.get("area") is not None:
            overrides["area_id"] = data["area"]
        operation = self.operations.get(data.get("operation"))  # type: ignore[arg-type]
        if operation is not None:
            return queries.operation_params(operation, **overrides)
        overrides.setdefault("start", queries.default_start(overrides.get("weeks", queries.DEFAULT_WEEKS)))
        return queries.EffectParams(**overrides)


# --- presentation --------------------------------------------------------------------------------


def _num(value: float | None, decimals: int = 2, *, sign: bool = False) -> str:
    return "–" if value is None else number_de(value, decimals, sign=sign)


def summary(report: queries.EffectReport) -> dict[str, Any]:
    result: EffectResult = report.result
    did = result.did
    assert did is not None
    confidence = number_de(100 * (1 - did.alpha), 0)
    relative_ci = (
        f"{percent_de(result.relative_ci[0])} bis {percent_de(result.relative_ci[1])}"
        if result.relative_ci
        else "–"
    )
    return {
        "headline": result.headline_de,
        "headline_class": HEADLINE_CLASSES.get(result.tone, "") if result.coloured else "",
        "sentence": result.sentence_de,
        "estimate": _num(did.estimate, sign=True),
        "se": _num(did.se),
        "ci": f"{_num(did.ci_low, sign=True)} bis {_num(did.ci_high, sign=True)}",
        "confidence": confidence,
        "p": p_de(did.p_value),
        "df": _num(did.df, 1),
        "significant": did.significant,
        "relative": percent_de(result.relative),
        "relative_ci": relative_ci,
        "counterfactual": _num(result.counterfactual),
        "cases": _num(result.cases_total, 0, sign=True),
        "cases_ci": f"{_num(result.cases_ci[0], 0, sign=True)} bis {_num(result.cases_ci[1], 0, sign=True)}"
        if result.cases_ci
        else "–",
    }


def did_rows(result: EffectResult) -> list[dict[str, str]]:
    did = result.did
    assert did is not None
    return [
        {
            "label": "Bestreifte Zellen",
            "pre": _num(did.pre_treated),
            "post": _num(did.post_treated),
            "change": _num(did.change_treated, sign=True),
        },
        {
            "label": "Vergleichszellen (gewichtet)",
            "pre": _num(did.pre_control),
            "post": _num(did.post_control),
            "change": _num(did.change_control, sign=True),
        },
        {
            "label": "Differenz-in-Differenzen",
            "pre": "",
            "post": "",
            "change": _num(did.estimate, sign=True),
            "total": "1",
        },
    ]


def total_rows(result: EffectResult, weeks: int) -> list[dict[str, str]]:
    rows = []
    for group in result.totals:
        cell_weeks = group.cells * weeks
        rows.append(
            {
                "label": group.label,
                "cells": number_de(group.cells, 0),
                "pre": number_de(group.pre, 0),
                "post": number_de(group.post, 0),
                "pre_mean": _num(group.pre / cell_weeks) if cell_weeks else "–",
                "post_mean": _num(group.post / cell_weeks) if cell_weeks else "–",
            }
        )
    return rows


def balance_rows(result: EffectResult) -> list[dict[str, Any]]:
    return [
        {
            "label": row.label,
            "treated": _num(row.treated, 3),
            "control": _num(row.control, 3),
            "smd": _num(row.smd, 2, sign=True),
            "balanced": row.balanced,
        }
        for row in result.balance
    ]


def placebo_info(result: EffectResult) -> dict[str, Any]:
    placebo = result.placebo
    if placebo is None or placebo.result is None:
        return {"available": False, "note": placebo.note if placebo else ""}
    did = placebo.result
    if placebo.passed is True:
        verdict = "Kein Hinweis auf eine schon vorher unterschiedliche Entwicklung (nicht signifikant)."
    elif placebo.passed is False:
        verdict = (
            "Schon vorher unterschiedliche Entwicklung (signifikant): die Schätzung ist mit Vorsicht "
            "zu lesen."
        )
    else:
        verdict = "Nicht prüfbar (keine Streuung)."
    return {
        "available": True,
        "note": placebo.note,
        "estimate": _num(did.estimate, sign=True),
        "ci": f"{_num(did.ci_low, sign=True)} bis {_num(did.ci_high, sign=True)}",
        "p": p_de(did.p_value),
        "verdict": verdict,
        "passed": placebo.passed,
    }


def definition(report: queries.EffectReport) -> dict[str, str]:
    params = report.params
    return {
        "pre": f"{params.pre.start:%d.%m.%Y}–{params.pre.end:%d.%m.%Y}",
        "post": f"{params.post.start:%d.%m.%Y}–{params.post.end:%d.%m.%Y}",
        "weeks": str(params.weeks),
        "min_hours": number_de(params.min_hours_per_week, 1),
        "threshold": number_de(params.min_hours_per_week * params.weeks, 1),
        "buffer": number_de(params.buffer_m, 0),
        "cell": number_de(report.cell_m, 0),
        "k": str(params.k),
        "hours_pre": number_de(report.hours_treated_pre, 1),
        "hours_post": number_de(report.hours_treated_post, 1),
        "hours_controls": number_de(report.hours_controls_pre, 1),
        "smd_limit": number_de(SMD_LIMIT, 2),
    }


def query_for(start: dt.date, days: int, area_id: int | None = None) -> str:
    """GET parameters of this page for a period (whole weeks, 2 to 26) and an optional area."""
    weeks = min(queries.MAX_WEEKS, max(queries.MIN_WEEKS, math.ceil(days / 7)))
    query = QueryDict(mutable=True)
    query["start"] = start.isoformat()
    query["weeks"] = str(weeks)
    if area_id is not None:
        query["area"] = str(area_id)
    return query.urlencode()


# --- view ------------------------------------------------------------------------------------------


@login_required
@permission_required("analytics.view", raise_exception=True)
def effect(request: HttpRequest) -> HttpResponse:
    operations = list(queries.visible_operations(request.user))
    form = EffectForm(request.GET or {}, operations=operations)
    context: dict[str, Any] = {"form": form, "report": None, "current": "analytics"}
    status = 200
    if form.is_valid():
        try:
            report = queries.evaluate_effect(form.to_params())
        except queries.EffectQueryError as exc:
            form.add_error(None, str(exc))
            status = 400 if request.GET else 200
        else:
            context["report"] = report
            if report.result.ok:
                context.update(
                    summary=summary(report),
                    did_rows=did_rows(report.result),
                    balance_rows=balance_rows(report.result),
                    placebo=placebo_info(report.result),
                )
            context.update(
                total_rows=total_rows(report.result, report.params.weeks),
                definition=definition(report),
                stand=doc.stand_de(),
            )
    else:
        status = 400
    return render(request, "deployment/effect.html", context, status=status)
