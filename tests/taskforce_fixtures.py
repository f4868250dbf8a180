"""Shared fixtures of the task force tests: a Sonderstab with chairs from city and police, a board
member, a working group led by a police officer with a city member, outsiders of both authorities."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lagebild.analytics.services import load_indicators
from lagebild.catalog.models import Category
from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.taskforce.models import TaskForce, TaskForceMember, WorkingGroup

__all__ = ["INDICATORS", "group", "indicators", "staff", "task_force"]

BERLIN = ZoneInfo("Europe/Berlin")
CENTRE = (51.514, 7.465)

INDICATORS = {
    "indicators": [
        {
            "code": "begging-observed",
            "name": "Aggressives Betteln (festgestellt)",
            "kind": "problem",
            "fact": "incident",
            "categories": ["aggressive-begging"],
        }
    ],
    "sets": [{"code": "wochenlage", "name": "Wochenlage", "indicators": "*"}],
}


@pytest.fixture
def indicators(world, tmp_path: Path) -> None:
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(INDICATORS), encoding="utf-8")
    load_indicators(path)


@pytest.fixture
def staff(make_user, city, police) -> dict:
    """The Sonderstab's people: chairs from both sides, a board member, group lead (police) and members."""
    return {
        "mayor": make_user("ob", city, Role.EXECUTIVE_BOARD, first_name="Ola", last_name="Bürgermeister"),
        "president": make_user("pp", police, Role.LEADERSHIP, first_name="Paula", last_name="Präsidentin"),
        "board": make_user("dezernent", city, Role.EXECUTIVE_BOARD),
        "secretary": make_user("geschaeftsstelle", city, Role.TASKFORCE),
        "lead": make_user("ag-leitung", police, Role.TASKFORCE),
        "member": make_user("ag-stadt", city, Role.TASKFORCE),
        "outsider_city": make_user("kod-aussen", city, Role.FIELD_OFFICER),
        "outsider_police": make_user("polizei-aussen", police, Role.TASKFORCE),
    }


@pytest.fixture
def task_force(staff) -> TaskForce:
    task_force = TaskForce.objects.create(code="sonderstab", name="Sonderstab Ordnung und Stadtleben")
    TaskForceMember.objects.create(task_force=task_force, user=staff["mayor"], function="chair")
    TaskForceMember.objects.create(task_force=task_force, user=staff["president"], function="chair")
    TaskForceMember.objects.create(task_force=task_force, user=staff["secretary"], function="secretary")
    return task_force


@pytest.fixture
def group(task_force, staff) -> WorkingGroup:
    group = WorkingGroup.objects.create(
        task_force=task_force, code="belaestigungen", name="Belästigungen bekämpfen", lead=staff["lead"]
    )
    group.members.add(staff["member"])
    return group


def _record_begging(user, day: dt.date, count: int) -> None:
    category = Category.objects.get(code="aggressive-begging")
    with authority_scope(user.authority_id):
        for n in range(count):
            field.incident_create(
                user=user,
                category=category,
                occurred_at=dt.datetime.combine(day, dt.time(10, n % 60), tzinfo=BERLIN),
                lat=CENTRE[0],
                lon=CENTRE[1],
                measures=(),
            )
