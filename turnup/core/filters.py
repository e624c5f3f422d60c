"""Filter plumbing shared by the API of every app."""

from __future__ import annotations

from functools import reduce
from operator import or_

import django_filters
from django.db.models import Q, QuerySet


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with ``q``: case-insensitive substring over ``Meta.search_fields``."""

    q = django_filters.CharFilter(method="search", label="Search")

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        fields = getattr(self.Meta, "search_fields", ())
        if not value or not fields:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": value}) for f in fields)))
