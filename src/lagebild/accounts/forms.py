from __future__ import annotations

from django import forms
from django.core.validators import MaxValueValidator

from .tokens import default_days, max_days


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        error_messages={"required": "Bitte geben Sie den Code ein."},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Bezeichnung",
        max_length=100,
        help_text="Wofür der Token dient, z. B. „Schnittstelle Leitstelle“.",
        error_messages={
            "required": "Bitte geben Sie eine Bezeichnung ein.",
            "max_length": "Höchstens 100 Zeichen.",
        },
    )
    days = forms.IntegerField(
        label="Gültig für (Tage)",
        min_value=1,
        error_messages={
            "required": "Bitte geben Sie die Gültigkeit in Tagen an.",
            "invalid": "Bitte geben Sie eine ganze Zahl ein.",
            "min_value": "Mindestens 1 Tag.",
        },
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        limit = max_days()
        days = self.fields["days"]
        days.initial = default_days()
        days.validators.append(MaxValueValidator(limit, message=f"Höchstens {limit} Tage."))
        days.widget.attrs.update({"min": 1, "max": limit})
