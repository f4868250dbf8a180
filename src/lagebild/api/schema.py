"""drf-spectacular adjustments for authority-scoped models.

Schema generation has no request user and so no authority scope, but the django-filter
extension asks the model's default manager for an (empty) queryset. Running it in a
"sees nothing" scope keeps the scoped managers strict everywhere else.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema

from lagebild.core.scoping import authority_scope


class ScopedDjangoFilterExtension(DjangoFilterExtension):
    priority = 1

    def get_schema_operation_parameters(self, auto_schema: Any, *args: Any, **kwargs: Any) -> list[dict]:
        with authority_scope(None):
            return super().get_schema_operation_parameters(auto_schema, *args, **kwargs)

    def resolve_filter_field(
        self, auto_schema: Any, model: Any, filterset_class: Any, field_name: str, filter_field: Any
    ) -> list[dict]:
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        # Filters typed with @extend_schema_field lose their help text; put it back.
        help_text = filter_field.extra.get("help_text")
        for parameter in parameters:
            if help_text and not parameter.get("description"):
                parameter["description"] = str(help_text)
        return parameters


# Every operation of the API checks login and role, so 401 and 403 can answer any of them; a path
# with an id can answer 404; a paginated list answers 400 for a bad page number or size and 404
# for a page past the last. schemathesis (tests/test_api_schemathesis.py) holds the schema to
# every status the API really answers; these are added where a view did not name them itself.
GENERIC_RESPONSES = {
    "401": "Nicht angemeldet (Token fehlt oder ist ungültig).",
    "403": "Die Rolle erlaubt diese Aktion nicht.",
}
NOT_FOUND = "Nicht gefunden oder für Ihre Behörde nicht sichtbar."
BAD_PAGE = "Ungültige Eingabe, z. B. eine Seitenzahl oder Seitengröße, die keine ganze Zahl ab 1 ist."
PAGE_NOT_FOUND = "Diese Seite gibt es nicht (hinter der letzten Seite)."
THROTTLED = "Zu viele Anfragen; nach der im Header Retry-After genannten Zeit erneut versuchen."


class LagebildAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        extra = dict(GENERIC_RESPONSES)
        if "{" in self.path:
            extra["404"] = NOT_FOUND
        if self._is_list_view() and self._get_paginator() is not None and self.method == "GET":
            extra.setdefault("400", BAD_PAGE)
            extra["404"] = PAGE_NOT_FOUND if "404" not in extra else f"{NOT_FOUND} {PAGE_NOT_FOUND}"
        if self.view.get_throttles():
            extra["429"] = THROTTLED
        for code, description in extra.items():
            responses.setdefault(code, {"description": description})
        return responses
