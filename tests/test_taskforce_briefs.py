"""The mayor's brief (PDF, two pages at most) and the council's interim report (PDF and DOCX):
what a reader finds in them, read back from the files (pypdf, python-docx)."""

from __future__ import annotations

import datetime as dt
import io
import re
import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from docx import Document
from PIL import Image
from pypdf import PdfReader

from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput
from lagebild.taskforce import briefs, services
from lagebild.taskforce.models import Goal, Operation, WorkingGroup

from .taskforce_fixtures import *  # noqa: F403
from .taskforce_fixtures import BERLIN, CENTRE, _record_begging

DEMO_GROUPS = (
    ("stadtbild", "Stadtbild verschönern"),
    ("campieren", "Campieren reduzieren"),
    ("sucht", "Sucht vermeiden"),
    ("suchthilfe", "Suchthilfe weiterentwickeln"),
)
EFFECT = "Keine Verdrängung in die Ringe nachweisbar"


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() or "" for page in reader.pages), len(reader.pages)


def flat(text: str) -> str:
    return " ".join(text.split())


def _days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def _dispersal(user, day: dt.date, count: int) -> None:
    from lagebild.catalog.models import Category

    category = Category.objects.get(code="aggressive-begging")
    with authority_scope(user.authority_id):
        for n in range(count):
            field.incident_create(
                user=user,
                category=category,
                occurred_at=dt.datetime.combine(day, dt.time(15, n), tzinfo=BERLIN),
                lat=CENTRE[0],
                lon=CENTRE[1],
                measures=(MeasureInput(type="dispersal_order"),),
            )


def _indicator_goal(group, user, title: str, *, baseline: float, target: float, weeks: int = 20) -> Goal:
    return services.goal_create(
        group,
        user,
        title=title,
        target_date=_days(7 * weeks),
        indicator_code="begging-observed",
        baseline_start=_days(-70),
        baseline_end=_days(-43),
        baseline_value=baseline,
        target_value=target,
    )


def _operation(task_force, world, city, police, **fields) -> Operation:
    operation = Operation.objects.create(task_force=task_force, area=world["areas"]["centre"], **fields)
    operation.authorities.set([city, police])
    return operation


@pytest.fixture
def sonderstab(world, task_force, group, staff, indicators, kod, polizei, city, police) -> dict:
    """A Sonderstab like the demo's: five groups with many goals, milestones, recommendations,
    operations (one evaluated), two meetings with decisions, figures frozen in the latest."""
    _record_begging(kod, _days(-3), 30)
    _record_begging(polizei, _days(-4), 5)
    _dispersal(kod, _days(-10), 3)
    groups = [group]
    for position, (code, name) in enumerate(DEMO_GROUPS, start=1):
        other = WorkingGroup.objects.create(
            task_force=task_force, code=code, name=name, lead=staff["lead"], position=position
        )
        other.members.add(staff["member"])
        groups.append(other)
    lead, board = staff["lead"], staff["board"]
    awaiting, approved = [], []
    for number, working_group in enumerate(groups, start=1):
        for n in range(4):
            _indicator_goal(
                working_group,
                lead,
                f"{working_group.name}: Betteln senken, Stufe {n + 1}",
                baseline=60 + n,
                target=(40, 30, 20, 10)[n],
            )
        qualitative = services.goal_create(
            working_group,
            lead,
            title=f"Konzept {number} beschlossen",
            target_date=_days(90),
            kind=Goal.Kind.QUALITATIVE,
        )
        done = services.milestone_create(
            working_group, lead, title=f"Entwurf {number} abgestimmt", owner=staff["member"], due=_days(-2),
            goal=qualitative,
        )  # fmt: skip
        services.milestone_update(done, lead, status="done", evidence_note="Protokoll liegt vor")
        services.milestone_create(
            working_group,
            lead,
            title=f"Kosten {number} geschätzt",
            owner=lead,
            due=_days(-5),
            goal=qualitative,
        )
        services.milestone_create(
            working_group,
            lead,
            title=f"Beschlussvorlage {number}",
            owner=lead,
            due=_days(2),
            goal=qualitative,
        )
        submitted = services.recommendation_create(
            working_group, lead, title=f"Mehr Streetwork im Bereich {number}", text="Begründung …"
        )
        services.recommendation_transition(submitted, lead, target="submitted")
        awaiting.append(submitted)
        decided = services.recommendation_create(
            working_group, lead, title=f"Alkoholverbot Zone {number}", text="Begründung …"
        )
        services.recommendation_transition(decided, lead, target="submitted")
        services.recommendation_transition(decided, board, target="approved")
        approved.append(decided)
        services.recommendation_create(working_group, lead, title=f"Entwurf Bänke {number}", text="…")
    wallring = _operation(
        task_force,
        world,
        city,
        police,
        code="wallring",
        name="Schwerpunkt Wallring",
        start=_days(-20),
        end=_days(-7),
        evaluated_at=timezone.now(),
        evaluation={
            "stage": "first",
            "displacement": {"status": "ok", "headline": EFFECT, "verdict": "Wirkung im Zielgebiet"},
            "summary": ["Einsatzbilanz (Ordnungsamt und Polizei): 3 Platzverweise."],
        },
    )
    _operation(
        task_force,
        world,
        city,
        police,
        code="herbst",
        name="Herbstpräsenz City",
        start=_days(-3),
        end=_days(10),
    )
    secretary, mayor = staff["secretary"], staff["mayor"]
    previous = services.meeting_schedule(task_force, secretary, date=_days(-8))
    services.meeting_open(previous, mayor)
    services.decision_record(previous, mayor, text="Alte Festlegung aus der Vorwoche")
    services.meeting_close(previous, mayor, minutes="TOP 1 …", attendees=[mayor])
    latest = services.meeting_schedule(task_force, secretary, date=_days(-1))
    services.meeting_open(latest, staff["president"])
    services.decision_record(
        latest, mayor, text="Streetwork am Hauptbahnhof ausweiten", recommendation=approved[0]
    )
    services.action_create(latest, secretary, title="Kostenplan vorlegen", owner=lead, due=_days(7))
    return {
        "groups": groups,
        "awaiting": awaiting,
        "approved": approved,
        "previous": previous,
        "latest": latest,
        "wallring": wallring,
    }


def test_the_brief_of_a_full_sonderstab_fits_on_two_pages_and_names_what_matters(sonderstab, task_force):
    started = time.perf_counter()
    data = briefs.brief_pdf(task_force)
    seconds = time.perf_counter() - started
    text, pages = pdf_text(data)
    flat_text = flat(text)
    assert pages <= 2
    assert data.startswith(b"%PDF")
    # Headline figures: the frozen figures of the latest meeting .
    assert "Eingefrorene Zahlen der 2. Sitzung" in flat_text
    # Columns: week, prior year, 28 days (30 + 5 + 3 cases), prior year.
    assert re.search(r"Aggressives Betteln \(festgestellt\) \d+ 0 38 0 ", flat_text)
    # Operations and their effect from the evaluation.
    assert "Schwerpunkt Wallring" in flat_text and EFFECT in flat_text
    assert "Herbstpräsenz City" in flat_text and "läuft" in flat_text
    # Goals: all 25 counted, with German status labels.
    assert "25 Ziele:" in flat_text
    assert "erreicht" in flat_text and "über Meilensteine" in flat_text
    # Decisions needed: the oldest recommendation awaiting the board comes first.
    assert sonderstab["awaiting"][0].number in flat_text
    assert "Mehr Streetwork im Bereich 1" in flat_text
    # Feedback since the last brief: this week's decisions, not last week's.
    assert "Streetwork am Hauptbahnhof ausweiten" in flat_text
    assert f"Verwaltungsvorstand: {sonderstab['approved'][0].number}" in flat_text
    assert "Alte Festlegung aus der Vorwoche" not in flat_text
    assert seconds < 20  # measured well under 2 s; only a gross regression fails here


def test_a_small_brief_shows_every_goal_with_its_status_and_detail(
    world, task_force, group, staff, indicators, kod, polizei
):
    _record_begging(kod, _days(-3), 30)
    _record_begging(polizei, _days(-4), 5)
    _indicator_goal(group, staff["lead"], "Betteln am Wall halbieren", baseline=60, target=40)
    qualitative = services.goal_create(
        group,
        staff["lead"],
        title="Konzept Konsumräume beschlossen",
        target_date=_days(60),
        kind="qualitative",
    )
    first = services.milestone_create(
        group, staff["lead"], title="Standorte", owner=staff["member"], due=_days(3), goal=qualitative
    )
    services.milestone_create(
        group, staff["lead"], title="Träger", owner=staff["member"], due=_days(9), goal=qualitative
    )
    services.milestone_update(first, staff["member"], status="done", evidence_note="Liste im Anhang")
    brief = briefs.build_brief(task_force)
    assert [(g.title, g.status_label) for g in brief.goals] == [
        ("Betteln am Wall halbieren", "erreicht"),
        ("Konzept Konsumräume beschlossen", "über Meilensteine"),
    ]
    data, pages = briefs.render_brief_pdf(brief)
    text = flat(pdf_text(data)[0])
    assert pages == 1 == pdf_text(data)[1]
    assert "2 Ziele: 1 erreicht, 1 über Meilensteine." in text
    assert "1 von 2 Meilensteinen erledigt" in text
    assert "Ziel 40 bis" in text
    # Without a meeting the figures are the cockpit's, Stichtag yesterday.
    assert f"Cockpit, ganzes Stadtgebiet, Stichtag {_days(-1):%d.%m.%Y}" in text
    assert "Keine Empfehlung wartet auf eine Entscheidung." in text
    assert "Meilenstein erledigt: Standorte" in text


def test_a_brief_without_anything_and_with_a_strange_evaluation_does_not_fail(
    task_force, world, city, police
):
    _operation(
        task_force,
        world,
        city,
        police,
        code="alt",
        name="Alter Einsatz",
        start=_days(-12),
        end=_days(-2),
        evaluated_at=timezone.now(),
        evaluation={"displacement": 5, "summary": [None], "headline": ["nicht", "text"]},
    )
    _operation(
        task_force, world, city, police, code="neu", name="Neuer Einsatz", start=_days(-9), end=_days(-1)
    )
    data = briefs.brief_pdf(task_force, as_of=_days(0))
    text, pages = pdf_text(data)
    text = flat(text)
    assert pages == 1
    assert "Der Sonderstab hat noch keine Ziele festgelegt." in text
    assert "Alter Einsatz" in text and "Neuer Einsatz" in text
    assert "Auswertung folgt" in text  # the operation that ended without an evaluation yet
    assert "Für den Stichtag gibt es keine Kennzahlen" in text  # no indicator set loaded


def test_a_brief_for_a_day_that_is_no_date_is_refused_in_german(task_force):
    for bad in ({"as_of": "gestern"}, {"as_of": dt.date(1900, 1, 1)}, {"since": 5}):
        with pytest.raises(ValidationError) as caught:
            briefs.brief_pdf(task_force, **bad)
        assert "Datum" in " ".join(caught.value.message_dict[next(iter(bad))])


def test_an_explicit_since_takes_older_feedback_in(sonderstab, task_force):
    brief = briefs.build_brief(task_force, since=_days(-30))
    texts = [f.what for f in brief.feedback]
    assert any("Alte Festlegung aus der Vorwoche" in t for t in texts)
    assert texts.index(next(t for t in texts if "Festlegung" in t)) < texts.index(
        next(t for t in texts if t.startswith("Meilenstein erledigt"))
    )  # decisions before reports of work done


# --- council report ---------------------------------------------------------------------------


def _docx_tables(data: bytes) -> list[list[list[str]]]:
    document = Document(io.BytesIO(data))
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def test_council_report_pdf_and_docx_show_the_same_headline_numbers(sonderstab, task_force):
    report = briefs.build_council_report(task_force, _days(-30), _days(0))
    headline = dict(report.headline)
    assert headline["Sitzungen des Sonderstabs"] == "2"
    assert headline["Schwerpunkteinsätze"] == "2"
    assert headline["Platzverweise in den Einsätzen"] == "3"  # recorded inside the Wallring operation
    assert headline["Ziele insgesamt"] == "25"
    assert headline["Empfehlungen vom Verwaltungsvorstand entschieden"] == "5"
    assert headline["Festlegungen in Sitzungen"] == "2"

    pdf, _pages = pdf_text(briefs.council_report_pdf(report))
    overview = pdf[pdf.index("Zahlen im Überblick") :]
    from_pdf = {}
    for label in headline:  # a table row: the label, then its value (same or next line)
        match = re.search(rf"^{re.escape(label)}[ \n](.+)$", overview, flags=re.MULTILINE)
        assert match, label
        from_pdf[label] = match.group(1).strip()
    docx = briefs.council_report_docx(report)
    table = next(t for t in _docx_tables(docx) if t[0] == ["Kennzahl", "Wert"])
    from_docx = dict((row[0], row[1]) for row in table[1:])
    assert from_pdf == from_docx == headline

    text = flat(pdf)
    assert "Zwischenbilanz Sonderstab Ordnung und Stadtleben" in text
    assert "Schwerpunkt Wallring" in text and EFFECT in text
    assert "Alte Festlegung aus der Vorwoche" in text
    assert "Verwaltungsvorstand: Beschlossen am" in text
    document = Document(io.BytesIO(docx))
    assert len(document.inline_shapes) == 3  # operations, goals, milestones as charts
    images = [part.blob for part in document.part.related_parts.values() if part.content_type == "image/png"]
    assert len(images) == 3
    assert Image.open(io.BytesIO(images[0])).size == (1600, 720)
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Das Wichtigste in Kürze" in body and "tagte der Sonderstab 2-mal" in body


def test_council_report_for_a_quiet_period(task_force, world):
    report = briefs.build_council_report(task_force, _days(-400), _days(-380))
    assert dict(report.headline)["Sitzungen des Sonderstabs"] == "0"
    text = flat(pdf_text(briefs.council_report_pdf(report))[0])
    assert "tagte der Sonderstab nicht" in text
    assert "keinen Schwerpunkteinsatz" in text
    assert len(Document(io.BytesIO(briefs.council_report_docx(report))).inline_shapes) == 0


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (5, 0, "end", "liegt vor seinem Beginn"),
        (-3 * 366 - 10, 0, "end", "höchstens 3 Jahre"),
        (0, 3, "end", "in der Zukunft"),
        ("2026-01-01", 0, "start", "als Datum"),
        (0, None, "end", "als Datum"),
    ],
)
def test_council_report_refuses_bad_periods_in_german(task_force, start, end, field, message):
    def day(value):
        return _days(value) if isinstance(value, int) else value

    with pytest.raises(ValidationError) as caught:
        briefs.council_pdf(task_force, day(start), day(end))
    assert message in " ".join(caught.value.message_dict[field])
