"""Filter plumbing shared by the API of every app.

Every filter takes repeated values (``?site_id=1&site_id=2``, any of them matches). A value
that cannot be what the filter compares with answers 400 naming the parameter: an id is a
whole number from 1 to 2**63-1 (``ids``), any other number must fit a 64-bit column.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django_filters.widgets import QueryArrayWidget
from drf_spectacular.utils import extend_schema_field

from turnup.core.validation import BIGINT_MAX, BIGINT_MIN, id_value


class IdFormField(forms.Field):
    """One object id (see ``id_value``)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return id_value(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


_ID_SCHEMA = {"type": "integer", "format": "int64", "minimum": 1, "maximum": BIGINT_MAX}


@extend_schema_field(_ID_SCHEMA)
class IdFilter(django_filters.Filter):
    field_class = IdFormField


@extend_schema_field({**_ID_SCHEMA, "description": "Repeat it (or separate with commas)."})
class IdInFilter(django_filters.BaseInFilter, IdFilter):
    pass


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """Whole numbers (``?vid=10&vid=20``); the bounds come from ``SearchFilterSet``."""

    field_class = forms.IntegerField


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


def ids(field_name: str) -> IdInFilter:
    """``?<name>=1&<name>=2`` on an id column."""
    return IdInFilter(field_name=field_name, lookup_expr="in", widget=QueryArrayWidget)


def numbers(field_name: str) -> NumberInFilter:
    """``?<name>=1&<name>=2`` on an integer column that is not an id (a VLAN ID, an ASN)."""
    return NumberInFilter(field_name=field_name, lookup_expr="in", widget=QueryArrayWidget)


def values(field_name: str) -> CharInFilter:
    """``?<name>=a&<name>=b`` on a text column (slug, name, status)."""
    return CharInFilter(field_name=field_name, lookup_expr="in", widget=QueryArrayWidget)


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with ``q``: case-insensitive substring over ``Meta.search_fields``.

    Every number filter (declared or generated from ``Meta.fields``) refuses a value outside
    the 64-bit range the database can compare with.
    """

    q = django_filters.CharFilter(method="search", label="Search")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            if isinstance(filter_, django_filters.NumberFilter):
                filter_.extra.setdefault("min_value", BIGINT_MIN)
                filter_.extra.setdefault("max_value", BIGINT_MAX)

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        fields = getattr(self.Meta, "search_fields", ())
        if not value or not fields:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{f"{f}__icontains": value}) for f in fields)))
