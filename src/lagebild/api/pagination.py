"""Page-number pagination that says what it accepts and rejects what it does not.

DRF's stock paginator quietly falls back to the default page size for ``page_size=0`` or
``page_size=x`` and answers ``page=0`` with an undocumented 404. Here a page number or page
size that is no positive whole number is a 400 with a German message at the parameter
(like every filter), a page past the last one is the documented 404, and a page size above
the maximum is capped, as the schema says.

``count`` is exact up to 10,000 rows (lagebild.core.pagination): counting half a million
incidents for every page costs more than the page. Above, ``count`` is 10,000 and
``count_capped`` is true; ``next`` links go on to the end, and the last page is exact.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from lagebild.core.pagination import COUNT_CAP, CappedCountPaginator

POSITIVE_WHOLE_NUMBER = re.compile(r"[0-9]+")
# Longer numbers cannot name a real page; they are read as "very large" without parsing.
MAX_DIGITS = 18


def _positive_number(raw: str) -> int | None:
    """The value of a plain positive decimal number, None for anything else ("0", "-1", "x", "1.5")."""
    text = raw.strip()
    if not POSITIVE_WHOLE_NUMBER.fullmatch(text):
        return None
    if len(text.lstrip("0")) > MAX_DIGITS:
        return 10**MAX_DIGITS
    value = int(text)
    return value if value >= 1 else None


class StandardPagination(PageNumberPagination):
    django_paginator_class = CappedCountPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    # "last" is not in the schema (an integer); no special words.
    last_page_strings = ()
    invalid_page_message = "Diese Seite gibt es nicht."
    page_query_description = "Seitenzahl ab 1; eine Seite hinter der letzten antwortet 404."
    page_size_query_description = (
        f"Einträge je Seite (Standard {page_size}); größere Werte als {max_page_size} werden auf "
        f"{max_page_size} begrenzt."
    )

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = _positive_number(raw)
        if size is None:
            raise exceptions.ValidationError(
                {self.page_size_query_param: ["Bitte eine ganze Zahl ab 1 als Seitengröße angeben."]}
            )
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list | None:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and _positive_number(raw) is None:
            raise exceptions.ValidationError(
                {self.page_query_param: ["Bitte eine ganze Zahl ab 1 als Seitenzahl angeben."]}
            )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_capped"] = self.page.paginator.count_is_capped
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"]["description"] = (
            f"Anzahl der Einträge, genau bis {COUNT_CAP:,}".replace(",", ".")
            + "; darüber dieser Wert und count_capped = true."
        )
        answer["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "true, wenn es mehr Einträge gibt als count angibt (den next-Links folgen).",
        }
        answer["required"] = [*answer["required"], "count_capped"]
        return answer

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters
