"""The fixed part of the demo city: authorities, areas, places, catalogue and accounts.

Everything here is created only if missing, so running the demo twice adds nothing and
never overwrites what an administrator changed in the meantime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import transaction

from lagebild.catalog.services import load_catalogue, read_catalogue
from lagebild.core.models import Authority, Role, User
from lagebild.geo.models import Area, Place
from lagebild.geo.services import import_areas_geojson, import_places_geojson

from .names import FIRST_NAMES, LAST_NAMES

DATA_DIR = Path(__file__).resolve().parent / "data"
AREAS_FILE = DATA_DIR / "dortmund_areas.geojson"
PLACES_FILE = DATA_DIR / "dortmund_places.geojson"

DEMO_PASSWORD = "demo"
CITY = "stadt"
POLICE = "polizei"

AUTHORITIES = {
    CITY: ("Stadt Dortmund – Ordnungsamt", Authority.Kind.CITY),
    POLICE: ("Polizeipräsidium Dortmund", Authority.Kind.POLICE),
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    authority: str
    role: str
    first_name: str
    last_name: str
    admin: bool = False


DEMO_LOGINS = [
    DemoLogin("kod", CITY, Role.FIELD_OFFICER, "Katrin", "Brinkmann"),
    DemoLogin("kod-lead", CITY, Role.SHIFT_LEAD, "Markus", "Stratmann"),
    DemoLogin("polizei", POLICE, Role.FIELD_OFFICER, "Jan", "Kowalski"),
    DemoLogin("analyse", CITY, Role.ANALYST, "Elif", "Yılmaz"),
    DemoLogin("sonderstab", CITY, Role.TASKFORCE, "Sabine", "Overbeck"),
    DemoLogin("leitung", CITY, Role.LEADERSHIP, "Thomas", "Westermann"),
    DemoLogin(
        "ob", CITY, Role.EXECUTIVE_BOARD, "Jens", "Hartmann"
    ),  # Oberbürgermeister, chairs the Sonderstab
    DemoLogin("pp", POLICE, Role.LEADERSHIP, "Birgit", "Lehmkuhl"),  # Polizeipräsidentin, chairs it too
    DemoLogin(
        "vorstand", CITY, Role.EXECUTIVE_BOARD, "Norbert", "Dahlmann"
    ),  # Dezernent im Verwaltungsvorstand
    DemoLogin(
        "ag-polizei", POLICE, Role.TASKFORCE, "Murat", "Demir"
    ),  # leads the group "Belästigungen bekämpfen"
    DemoLogin("bussgeld", CITY, Role.PROCEEDINGS, "Claudia", "Tenhagen"),  # Bußgeldstelle (issue 15)
    DemoLogin("admin", CITY, Role.ADMIN, "Andreas", "Hülsmann", admin=True),
]

# Patrol members who never log in themselves: 72 KOD field staff, 60 police officers.
STAFF = {CITY: ("kod", 72), POLICE: ("pol", 60)}
NAME_SEED = 4711


def staff_username(authority_code: str, number: int) -> str:
    prefix, _count = STAFF[authority_code]
    return f"{prefix}-{number:03d}"


def ensure_authorities() -> dict[str, Authority]:
    result = {}
    for code, (name, kind) in AUTHORITIES.items():
        authority, _ = Authority.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
        result[code] = authority
    return result


def _missing_features(path: Path, present: set) -> tuple[dict, list[dict]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data, [f for f in data["features"] if _feature_key(f) not in present]


def _feature_key(feature: dict) -> tuple[str, str] | str:
    props = feature.get("properties") or {}
    if (feature.get("geometry") or {}).get("type") == "Point":
        return str(props.get("name"))
    return (str(props.get("kind")), str(props.get("code")))


def ensure_geography() -> tuple[int, int]:
    """Import the (approximate) demo areas and places that are not there yet."""
    present_areas = set(Area.objects.values_list("kind", "code"))
    data, missing = _missing_features(AREAS_FILE, present_areas)
    areas = 0
    if missing:
        result = import_areas_geojson({**data, "features": missing})
        if result.errors:
            raise RuntimeError("Demo-Gebiete fehlerhaft: " + "; ".join(result.errors))
        areas = result.created
    present_places = set(Place.objects.values_list("name", flat=True))
    data, missing = _missing_features(PLACES_FILE, present_places)
    places = 0
    if missing:
        result = import_places_geojson({**data, "features": missing})
        if result.errors:
            raise RuntimeError("Demo-Orte fehlerhaft: " + "; ".join(result.errors))
        places = result.created
    return areas, places


def ensure_catalogue() -> int:
    result = load_catalogue(read_catalogue())
    if result.errors:
        raise RuntimeError("Katalog fehlerhaft: " + "; ".join(result.errors))
    return result.categories_created + result.rules_created


@transaction.atomic
def ensure_users(authorities: dict[str, Authority]) -> int:
    """Create the demo logins (password ``demo``) and the staff accounts that cannot log in."""
    existing = set(User.objects.values_list("username", flat=True))
    rows: list[User] = []
    # One hash for all demo logins: hashing is deliberately slow and the password is public.
    demo_hash: str | None = None
    for login in DEMO_LOGINS:
        if login.username in existing:
            continue
        demo_hash = demo_hash or make_password(DEMO_PASSWORD)
        rows.append(
            User(
                username=login.username,
                first_name=login.first_name,
                last_name=login.last_name,
                email=f"{login.username}@demo.lagebild.invalid",
                authority=authorities[login.authority],
                role=login.role,
                is_staff=login.admin,
                # No superuser: the demo administrator manages the city's accounts and data only
                # (core/admin_scoping.py); cross-authority administration is the platform role's.
                is_superuser=False,
                password=demo_hash,
            )
        )
    rng = np.random.default_rng(NAME_SEED)
    unusable = make_password(None)
    for code, (prefix, count) in STAFF.items():
        for number in range(1, count + 1):
            first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
            last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
            username = staff_username(code, number)
            if username in existing:
                continue
            rows.append(
                User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    authority=authorities[code],
                    role=Role.FIELD_OFFICER,
                    service_number=f"{prefix.upper()}-{number:04d}",
                    password=unusable,
                )
            )
    User.objects.bulk_create(rows)
    return len(rows)


def staff_ids(authority_code: str) -> list[int]:
    _prefix, count = STAFF[authority_code]
    names = [staff_username(authority_code, n) for n in range(1, count + 1)]
    by_name = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    return [by_name[name] for name in names if name in by_name]
