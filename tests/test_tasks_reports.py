"""Balance reports of long periods are made by a worker when there is a broker.

Above ``LAGEBILD_REPORT_BACKGROUND_DAYS`` the PDF/XLSX link starts a task and answers with a
page that waits for the file (htmx polling) and then offers it. The file lies in the private
``LAGEBILD_VAR_DIR/reports``, named by a hash of the parameters and the user's authority: a
rerun overwrites it, and a user of another authority never gets it. Without a broker the file
comes at once, as before.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from lagebild.analytics import report_files
from lagebild.analytics import tasks as analytics_tasks
from lagebild.core.models import Role

YEAR = {"area": "0", "start": "2025-01-01", "end": "2025-12-31"}


@pytest.fixture
def with_broker(settings, tmp_path):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # what LAGEBILD_BROKER_URL sets
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def police_analyst(make_user, police):
    return make_user("analyse-polizei", police, Role.ANALYST)


def test_long_period_report_is_made_by_a_worker_and_then_offered(
    client, world, analyst, with_broker, django_capture_on_commit_callbacks
):
    client.force_login(analyst)
    url = reverse("analytics:balance-pdf")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        waiting = client.get(url, YEAR)
        again = client.get(url, YEAR)  # reloading does not start a second task
    assert waiting.status_code == 202 and again.status_code == 202
    assert "wird im Hintergrund erstellt" in waiting.content.decode()
    assert 'hx-trigger="every 2s"' in waiting.content.decode()
    assert len(callbacks) == 1
    poll = client.get(url, YEAR, headers={"HX-Request": "true"})
    assert poll.status_code == 202 and "<html" not in poll.content.decode()

    # What the worker runs, twice (as after a redelivery): one file, overwritten.
    name = report_files.key("balance", "pdf", {**YEAR, "area": 0, "authority": ""}, analyst.authority_id)
    args = ("pdf", 0, YEAR["start"], YEAR["end"], "", name)
    analytics_tasks.render_balance_report.apply(args, throw=True)
    analytics_tasks.render_balance_report.apply(args, throw=True)
    assert sorted(p.name for p in (with_broker / "reports").iterdir()) == [f"{name}.pdf"]

    ready = client.get(url, YEAR, headers={"HX-Request": "true"})
    assert ready.status_code == 200 and "herunterladen" in ready.content.decode()
    download = client.get(url, YEAR)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert 'filename="einsatzbilanz_stadtgebiet' in download["Content-Disposition"]


def test_another_authority_never_gets_the_file(
    client, world, analyst, police_analyst, with_broker, django_capture_on_commit_callbacks
):
    name = report_files.key("balance", "xlsx", {**YEAR, "area": 0, "authority": ""}, analyst.authority_id)
    analytics_tasks.render_balance_report.apply(("xlsx", 0, YEAR["start"], YEAR["end"], "", name), throw=True)
    client.force_login(police_analyst)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(reverse("analytics:balance-xlsx"), YEAR)
    assert response.status_code == 202 and len(callbacks) == 1  # their own file is made
    client.force_login(analyst)
    assert client.get(reverse("analytics:balance-xlsx"), YEAR).status_code == 200


def test_short_periods_and_no_broker_answer_with_the_file_at_once(client, world, analyst, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    client.force_login(analyst)
    response = client.get(reverse("analytics:balance-pdf"), YEAR)  # no broker
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    short = {"area": "0", "start": "2025-03-01", "end": "2025-03-31"}
    response = client.get(reverse("analytics:balance-xlsx"), short)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")


def test_without_login_nothing_is_made_or_offered(
    client, world, with_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.get(reverse("analytics:balance-pdf"), YEAR)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert callbacks == [] and not (with_broker / "reports").exists()
