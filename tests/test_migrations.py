"""Every model change comes with its migration: a fresh clone must migrate to the models in the code."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    output = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=output, stderr=output)
    except SystemExit as exc:  # --check exits with 1 when a migration is missing
        pytest.fail(f"Eine Migration fehlt (makemigrations):\n{output.getvalue()}", pytrace=False)
        raise AssertionError from exc
    assert "No changes detected" in output.getvalue()
