"""Pages of long lists without counting every row on every page.

Counting a list of half a million visible incidents costs PostgreSQL about 70 ms per page view
(a sequential scan: the authority-or-joint condition has no index that counts it), more than
everything else on the page. Nobody reads "Seite 3 von 10.612": above a cap the list says
"mehr als 10.000" and pages on; only who goes to (or past) the last page of the capped range
pays for the exact count, so the last page and "no next page" stay right.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A Paginator over a queryset whose ``count`` is exact up to ``count_cap`` rows.

    Above the cap, ``count`` is ``count_cap`` and ``count_is_capped`` is True; asking for the
    last page of that range or a page behind it counts exactly first."""

    def __init__(
        self, object_list: QuerySet, per_page: int, *args: Any, count_cap: int | None = None, **kwargs: Any
    ):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_cap = COUNT_CAP if count_cap is None else count_cap
        self.count_is_capped = False

    @cached_property
    def count(self) -> int:
        # COUNT over a LIMIT subquery: the scan stops after cap + 1 matching rows.
        found = self.object_list.order_by()[: self.count_cap + 1].count()
        if found > self.count_cap:
            self.count_is_capped = True
            return self.count_cap
        return found

    def validate_number(self, number: Any) -> int:
        if self.count and self.count_is_capped:
            try:
                wanted = int(number)
            except (TypeError, ValueError):
                wanted = 1  # the base class reports it
            if wanted >= self.num_pages:
                self._count_exactly()
        return super().validate_number(number)

    def _count_exactly(self) -> None:
        self.__dict__["count"] = self.object_list.count()
        self.__dict__.pop("num_pages", None)
        self.__dict__.pop("page_range", None)
        self.count_is_capped = False
