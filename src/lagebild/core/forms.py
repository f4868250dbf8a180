import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .localtime import resolve_wall_time


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Benutzername oder Passwort ist falsch.",
        "inactive": "Dieses Konto ist deaktiviert.",
    }

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class LocalDateTimeField(forms.DateTimeField):
    """A date and time as the city's wall clock shows it (``<input type="datetime-local">``).

    Django refuses a wall-clock time that occurs twice or not at all, which would stop every
    entry for an hour on the nights the clocks change; ``resolve_wall_time`` gives such a
    time the meaning a person has in mind instead.
    """

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime.combine(value, dt.time.min)
        else:
            text = str(value).strip()
            try:
                parsed = parse_datetime(text)
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            moment = parsed or BaseTemporalField.to_python(self, text)
        if timezone.is_aware(moment):
            return moment
        try:
            return resolve_wall_time(moment, timezone.get_current_timezone(), now=timezone.now())
        except OverflowError:
            # 0001-01-01 00:00 Berlin lies before the first instant Python can represent in UTC.
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
