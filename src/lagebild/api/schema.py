"""drf-spectacular adjustments for authority-scoped models.

Schema generation has no request user and so no authority scope, but the django-filter
extension asks the model's default manager for an (empty) queryset. Running it in a
"sees nothing" scope keeps the scoped managers strict everywhere else.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.contrib.django_filters import DjangoFilterExtension

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
