"""Shared fixtures: two authorities, users per role on both sides, a small test city.

Like Healthchecks' alice/bob/charlie, every test module that touches records has users of
the city and of the police at hand, so the cross-authority case is always one line away.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from lagebild.catalog.models import Category, CategoryRule
from lagebild.core.models import Authority, Role, User
from lagebild.core.scoping import authority_scope, unscoped
from lagebild.geo.models import Area
from lagebild.geo.services import area_save

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The frozen clock (LAGEBILD_TEST_NOW, --now, the ``clock`` fixture): see tests/clock.py.
pytest_plugins = ["tests.clock"]

# Property tests are deterministic (same examples on every run and machine) and have no
# deadline: a slow or busy CI machine must not turn a correct example into a failure.
hypothesis_settings.register_profile(
    "lagebild", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("lagebild")

# The test city: a rectangle around Dortmund's centre, split into two districts at 7.46° E.
CITY_BOUNDS = (7.40, 51.48, 7.52, 51.56)
INSIDE = (51.5147, 7.4636)  # Platz von Leeds
OUTSIDE = (52.52, 13.405)  # Berlin


def _box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [min_lon, min_lat],
                [max_lon, min_lat],
                [max_lon, max_lat],
                [min_lon, max_lat],
                [min_lon, min_lat],
            ]
        ],
    }


@pytest.fixture
def city(db) -> Authority:
    return Authority.objects.create(
        code="stadt", name="Stadt Dortmund – Ordnungsamt", kind=Authority.Kind.CITY
    )


@pytest.fixture
def police(db) -> Authority:
    return Authority.objects.create(
        code="polizei", name="Polizeipräsidium Dortmund", kind=Authority.Kind.POLICE
    )


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(username: str, authority: Authority, role: str = Role.FIELD_OFFICER, **extra: object) -> User:
        user = User.objects.create_user(
            username=username, password="geheim-123", authority=authority, role=role, **extra
        )
        return user

    return make


@pytest.fixture
def kod(make_user, city) -> User:
    return make_user("kod", city, Role.FIELD_OFFICER, first_name="Kim", last_name="Ordnung")


@pytest.fixture
def kod_lead(make_user, city) -> User:
    return make_user("kod-lead", city, Role.SHIFT_LEAD)


@pytest.fixture
def kod_admin(make_user, city) -> User:
    return make_user("stadt-admin", city, Role.ADMIN, is_staff=True)


@pytest.fixture
def analyst(make_user, city) -> User:
    return make_user("analyse", city, Role.ANALYST)


@pytest.fixture
def leadership(make_user, city) -> User:
    return make_user("leitung", city, Role.LEADERSHIP)


@pytest.fixture
def polizei(make_user, police) -> User:
    return make_user("polizei", police, Role.FIELD_OFFICER, first_name="Pat", last_name="Streife")


@pytest.fixture
def police_lead(make_user, police) -> User:
    return make_user("polizei-lead", police, Role.SHIFT_LEAD)


@pytest.fixture
def geography(db) -> dict[str, Area]:
    min_lon, min_lat, max_lon, max_lat = CITY_BOUNDS
    areas = {
        "city": Area(kind=Area.Kind.CITY, code="testcity", name="Teststadt"),
        "west": Area(kind=Area.Kind.DISTRICT, code="west", name="Bezirk West"),
        "east": Area(kind=Area.Kind.DISTRICT, code="east", name="Bezirk Ost"),
        "centre": Area(kind=Area.Kind.FOCUS_AREA, code="centre", name="Zentrum"),
    }
    area_save(area=areas["city"], geometry=_box(*CITY_BOUNDS))
    area_save(area=areas["west"], geometry=_box(min_lon, min_lat, 7.46, max_lat))
    area_save(area=areas["east"], geometry=_box(7.46, min_lat, max_lon, max_lat))
    area_save(area=areas["centre"], geometry=_box(7.455, 51.509, 7.475, 51.519))
    return areas


@pytest.fixture
def catalogue(db) -> dict[str, Category]:
    begging = Category.objects.create(code="aggressive-begging", name="Aggressives Betteln", group="nuisance")
    CategoryRule.objects.create(
        category=begging,
        valid_from=dt.date(2014, 1, 1),
        legal_basis="OBV Dortmund",
        caution_allowed=True,
        caution_amount=Decimal("35"),
        max_fine=Decimal("1000"),
    )
    drugs = Category.objects.create(
        code="drug-consumption-public", name="Drogenkonsum öffentlich", group="drugs"
    )
    CategoryRule.objects.create(
        category=drugs,
        valid_from=dt.date(2014, 1, 1),
        legal_basis="OBV Dortmund; BtMG",
        caution_allowed=False,
        max_fine=Decimal("1000"),
        is_crime=True,
    )
    litter = Category.objects.create(code="littering", name="Wegwerfen kleiner Abfälle", group="environment")
    CategoryRule.objects.create(
        category=litter,
        valid_from=dt.date(2014, 1, 1),
        valid_to=dt.date(2018, 12, 31),
        legal_basis="OBV Dortmund",
        caution_allowed=True,
        caution_amount=Decimal("15"),
        max_fine=Decimal("1000"),
    )
    CategoryRule.objects.create(
        category=litter,
        valid_from=dt.date(2019, 1, 1),
        legal_basis="OBV Dortmund",
        caution_allowed=True,
        caution_amount=Decimal("50"),
        max_fine=Decimal("1000"),
    )
    dealing = Category.objects.create(
        code="drug-dealing", name="Rauschgifthandel", group="crime", competent_authority="police"
    )
    CategoryRule.objects.create(
        category=dealing,
        valid_from=dt.date(2014, 1, 1),
        legal_basis="§ 29 BtMG",
        is_offence=False,
        is_crime=True,
    )
    return {"begging": begging, "drugs": drugs, "litter": litter, "dealing": dealing}


@pytest.fixture
def world(geography, catalogue, kod, kod_lead, polizei, police_lead) -> dict:
    return {"areas": geography, "categories": catalogue}


@pytest.fixture
def as_user() -> Callable[[User], object]:
    """``with as_user(kod): ...`` runs code in that user's authority scope."""
    return lambda user: authority_scope(user.authority_id)


@pytest.fixture
def system_scope() -> Iterator[None]:
    with unscoped():
        yield


@pytest.fixture
def now() -> dt.datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def access_hardening_off(request, settings) -> None:
    """Ordinary tests log in with a password only, keep their session however far the clock
    moves, and are not throttled (lagebild.accounts).

    The ~140 ``client.login``/``force_login`` calls and the browser tests' form login stay
    as they are. Tests of these rules take the ``two_factor_on`` / ``session_limits_on`` /
    ``throttling_on`` fixtures (tests/test_accounts_*.py), which keep production's values;
    login lockout (django-axes) stays on everywhere: only ``Client.login()``, which passes no
    request, skips it.
    """
    if "two_factor_on" not in request.fixturenames:
        settings.LAGEBILD_TWO_FACTOR_REQUIRED = False
    if "throttling_on" not in request.fixturenames:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"user": None, "anon": None},
        }
    if "session_limits_on" not in request.fixturenames:
        # Tests that move the clock by hours keep their login; tests/test_accounts_sessions.py
        # checks the 30-minute idle and 12-hour limits.
        settings.LAGEBILD_SESSION_IDLE_MINUTES = settings.LAGEBILD_SESSION_MAX_MINUTES = 10 * 366 * 24 * 60
    settings.LAGEBILD_LOGIN_WITHOUT_REQUEST = True


@pytest.fixture
def session_limits_on() -> None:
    """Production's session limits (see ``access_hardening_off``)."""


@pytest.fixture
def two_factor_on(settings) -> None:
    """Production's rule: every session needs the second factor (see ``access_hardening_off``)."""
    settings.LAGEBILD_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def throttling_on() -> None:
    """Production's API rates, counted from zero (see ``access_hardening_off``)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    # Real hashers take ~0.3 s per user; the tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
