"""Effect of patrols through the whole stack: patrols and incidents → panel → estimate → page.

The page is reached through the site's URLs (``deployment/urls.py`` adds ``urls_effect.urlpatterns``).

Design of the data: the focus area "Zentrum" is patrolled by the police (four 8-hour patrols, one per
patrol week) and once by the city; the police recorded 2 incidents a week before the patrols in one
cell of it and none during them; four far-off cells had 2 city incidents a week throughout. So every
control cell changes by 0, the patrolled cell with incidents by −2 and every other patrolled cell by 0:
the estimate is −2 / (number of patrolled cells), by hand.
"""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import rules
from django.urls import reverse

from lagebild.core.models import Role
from lagebild.core.rules import _has_role
from lagebild.core.scoping import authority_scope
from lagebild.deployment import effect_queries as queries
from lagebild.deployment.effect import estimate_effect
from lagebild.deployment.views_effect import summary
from lagebild.field import services as field
from lagebild.taskforce.models import Operation, TaskForce, TaskForceMember

BERLIN = ZoneInfo("Europe/Berlin")
URL = "/einsatzplanung/wirkung/"
NOW = "2026-06-10T12:00:00+02:00"
START = dt.date(2026, 5, 4)  # Monday; patrol weeks 04.05.–31.05., before 06.04.–03.05.
WEEKS = 4
PATROLLED_POINT = (51.514, 7.465)  # inside the focus area "centre"
CONTROL_POINTS = [(51.547, 7.42), (51.492, 7.50), (51.55, 7.51), (51.49, 7.41)]
MARKER = "GEHEIMVERMERK-4711"
ADDRESS_MARKER = "Geheimweg 7"


def _record(user, category, day: dt.date, point: tuple[float, float], **extra) -> None:
    with authority_scope(user.authority_id):
        field.incident_create(
            user=user,
            category=category,
            occurred_at=dt.datetime.combine(day, dt.time(15, 0), tzinfo=BERLIN),
            lat=point[0],
            lon=point[1],
            **extra,
        )


def _patrol(lead, member, day: dt.date, area_id: int) -> None:
    with authority_scope(lead.authority_id):
        shift = field.shift_create(user=lead, date=day, kind="early")
        field.patrol_create(
            user=lead, shift=shift, name=f"Streife {day:%d.%m.}", members=[member], area_id=area_id
        )


@pytest.fixture
def patrolled(world, clock, kod, kod_lead, polizei, police_lead) -> dict:
    clock.move_to(NOW)
    centre = world["areas"]["centre"]
    categories = world["categories"]
    for week in range(WEEKS):
        _patrol(police_lead, polizei, START + dt.timedelta(days=7 * week + 1), centre.pk)
    _patrol(kod_lead, kod, START + dt.timedelta(days=2), centre.pk)
    for week in range(2 * WEEKS):
        monday = START - dt.timedelta(days=7 * WEEKS) + dt.timedelta(days=7 * week)
        for day in (monday, monday + dt.timedelta(days=3)):
            if week < WEEKS:
                _record(
                    polizei,
                    categories["dealing"],
                    day,
                    PATROLLED_POINT,
                    description=f"Vermerk {MARKER}",
                    address_text=ADDRESS_MARKER,
                )
            for point in CONTROL_POINTS:
                _record(kod, categories["begging"], day, point)
    return world


def _query(**extra: object) -> dict:
    return {"start": START.isoformat(), "weeks": str(WEEKS), **extra}


def test_estimate_through_the_stack_matches_the_hand_computation(patrolled):
    report = queries.evaluate_effect(queries.EffectParams(start=START, weeks=WEEKS))
    result = report.result
    assert result.ok
    n = result.n_treated
    assert 10 <= n <= 40  # the focus area (1.4 × 1.1 km) in 250 m cells, partly covered cells included
    assert result.did.estimate == pytest.approx(-2 / n)
    assert result.did.pre_treated == pytest.approx(2 / n) and result.did.post_treated == 0
    assert result.did.change_control == pytest.approx(0)
    # SE² = s² / n of the treated changes (−2 once, 0 otherwise); controls do not vary.
    changes = [-2.0] + [0.0] * (n - 1)
    mean = sum(changes) / n
    variance = sum((c - mean) ** 2 for c in changes) / (n - 1) / n
    assert result.did.se == pytest.approx(math.sqrt(variance))
    assert result.relative == pytest.approx(-1.0)
    # Both authorities' incidents and patrols are in the aggregate.
    assert report.incidents_pre == 8 + 4 * 8 and report.incidents_post == 4 * 8
    assert report.patrols_counted == 5 and report.patrols_without_area == 0
    assert report.hours_treated_post >= queries.DEFAULT_MIN_HOURS_PER_WEEK
    assert report.hours_treated_pre == 0


def test_page_renders_the_estimate_in_german_for_an_analyst(client, patrolled, analyst):
    client.force_login(analyst)
    response = client.get(URL, _query())
    assert response.status_code == 200
    html = response.content.decode()
    result = response.context["report"].result
    assert "Wirkung auf bestreifte Zellen (Differenz-in-Differenzen)" in html
    assert "Keine gesicherte Wirkung" in html and "statistisch nicht signifikant" in html
    estimate = f"{-2 / result.n_treated:.2f}".replace(".", ",").replace("-", "−")
    assert f"Schätzung {estimate} Fälle je Zelle und Woche" in html
    assert "Konfidenzintervall" in html and "Placebo-Test" in html
    assert "Was hier „bestreift“ heißt" in html and "mindestens 2,0 Streifenstunden je Woche" in html
    assert "Gezählt: 5 Streifen beider Behörden" in html
    # No colour for an insignificant result.
    assert "is-prevented" not in html and "is-more" not in html


def test_page_shows_aggregates_only_never_single_records_of_either_authority(client, patrolled, analyst, kod):
    for user in (analyst, kod):
        client.force_login(user)
        html = client.get(URL, _query()).content.decode()
        assert MARKER not in html and ADDRESS_MARKER not in html
        assert "Streife 05.05." not in html  # patrol names stay out too
        assert "Feststellungen beider Behörden zusammen (40 vorher, 32 in den Streifenwochen)" in html


@pytest.fixture
def analytics_view_narrowed():
    """Every signed-in role may see the analytics today (analytics.rules); to show that the page
    enforces the permission, the rule is narrowed to exclude the Bußgeldstelle for one test."""
    original = rules.permissions.permissions["analytics.view"]
    rules.set_perm("analytics.view", original & ~_has_role(Role.PROCEEDINGS))
    yield
    rules.set_perm("analytics.view", original)


def test_page_is_refused_without_the_analytics_permission(
    client, world, make_user, city, analytics_view_narrowed
):
    client.force_login(make_user("bussgeld", city, Role.PROCEEDINGS))
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/anmelden/")


def test_area_restricts_the_patrolled_cells_and_bad_input_gets_german_errors(client, patrolled, analyst):
    client.force_login(analyst)
    west = patrolled["areas"]["west"]  # the focus area lies east of 7.46° at its larger part
    response = client.get(URL, _query(area=west.pk))
    assert response.status_code == 200
    report = response.context["report"]
    assert report.area_name == "Bezirk West"
    full = queries.evaluate_effect(queries.EffectParams(start=START, weeks=WEEKS)).result.n_treated
    assert report.result.n_treated < full
    future = client.get(URL, _query(start="2026-06-01"))
    assert future.status_code == 400
    assert "Die Streifenwochen reichen in die Zukunft" in future.content.decode()
    too_long = client.get(URL, _query(weeks="60"))
    assert too_long.status_code == 400


def test_operation_of_the_sonderstab_is_evaluated_on_its_area_and_period(
    client, patrolled, leadership, make_user, city
):
    task_force = TaskForce.objects.create(code="sonderstab", name="Sonderstab")
    operation = Operation.objects.create(
        task_force=task_force,
        code="zentrum",
        name="Schwerpunkt Zentrum",
        area=patrolled["areas"]["centre"],
        start=START,
        end=START + dt.timedelta(days=24),
    )
    client.force_login(leadership)  # an observing role sees every task force
    response = client.get(URL, {"operation": operation.pk})
    assert response.status_code == 200
    report = response.context["report"]
    assert report.params.start == START and report.params.weeks == 4
    assert report.area_name == "Zentrum"
    assert "Schwerpunkt Zentrum" in response.content.decode()
    # The operation's page links here, next to its displacement section.
    member = make_user("stab", city, Role.TASKFORCE)
    TaskForceMember.objects.create(task_force=task_force, user=member, function="member")
    client.force_login(member)
    detail = client.get(reverse("taskforce:operation-detail", args=[operation.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Wirkung auf bestreifte Zellen (Differenz-in-Differenzen)" in html
    assert f"{URL}?operation={operation.pk}" in html
    # Someone outside the task force cannot pick its operation.
    outsider = make_user("analyse-2", city, Role.ANALYST)
    client.force_login(outsider)
    assert client.get(URL, {"operation": operation.pk}).status_code == 400


def test_displacement_page_links_to_the_effect_for_its_period_and_target(client, patrolled, analyst):
    client.force_login(analyst)
    centre, west = patrolled["areas"]["centre"], patrolled["areas"]["west"]
    query = {
        "target": centre.pk,
        "buffer_kind": "rings",
        "rings": "200",
        "control": west.pk,
        "pre_start": "2026-04-06",
        "pre_end": "2026-05-03",
        "post_start": START.isoformat(),
        "post_end": "2026-05-31",
        "count_kind": "indicator",
        "indicator": "",
        "alpha": "0.05",
    }
    response = client.get("/auswertung/verdraengung/", query)
    assert response.status_code == 200 and response.context["result"] is not None
    html = response.content.decode()
    assert "Wirkung auf bestreifte Zellen (Differenz-in-Differenzen)" in html
    assert f'href="{URL}?start=2026-05-04&amp;weeks=4&amp;area={centre.pk}"' in html


def test_headline_is_coloured_only_for_a_significant_supported_result():
    rng = np.random.default_rng(11)
    rate = rng.gamma(0.8, 1.0, 1000)
    pre = rng.poisson(rate[:, None] * np.ones(8))
    treated = rng.random(1000) < 0.3 / (1 + np.exp(-1.5 * (pre.mean(axis=1) - 2)))
    for ratio, expected in ((0.5, "is-prevented"), (1.0, "")):
        post = rng.poisson((rate * np.where(treated, ratio, 1.0))[:, None] * np.ones(8))
        result = estimate_effect(pre, post, treated)
        info = summary(SimpleNamespace(result=result))
        assert info["headline_class"] == expected
        assert info["significant"] == (ratio == 0.5)
