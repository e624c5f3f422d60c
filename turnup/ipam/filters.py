"""Filters of the ipam API, NetBox-style: ``?vrf_id=1`` (``?vrf_id=null``: the global
table), ``?prefix=10.0.0.0/24``, ``?within=10.0.0.0/16``, ``?within_include=…``,
``?contains=10.0.0.1``, ``?family=4``, ``?mask_length=31``, ``?device_id=``,
``?interface_id=``, ``?site_id=``, ``?q=``. Repeated values match any of them; every filter is
a plain condition on the listed table (no extra query)."""

from __future__ import annotations

import ipaddress
from functools import reduce
from operator import or_

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django_filters.widgets import QueryArrayWidget

from turnup.core.filters import IdFilter, SearchFilterSet, ids, numbers, values
from turnup.core.validation import BIGINT_MAX, id_value, parse_int
from turnup.ipam import models


class MultiValueCharFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """``?name=a&name=b``, handed to a method as a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", QueryArrayWidget)
        super().__init__(*args, **kwargs)


def _any(parts: list[Q]) -> Q:
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _network(value: str, name: str):
    """``value`` of the parameter ``name`` as a network; a bad one names the parameter."""
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        raise ValidationError({name: f"{value!r} is not a prefix or an address"}) from None


class VRFScopedFilterSet(SearchFilterSet):
    """``vrf_id`` (``null`` = global table) and ``vrf`` (name or route distinguisher)."""

    id = ids("id")
    vrf_id = MultiValueCharFilter(method="filter_vrf_id")
    vrf = MultiValueCharFilter(method="filter_vrf")
    family = django_filters.NumberFilter(field_name="family")

    def filter_vrf_id(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        parts = []
        for item in value:
            if item.lower() == "null":
                parts.append(Q(vrf__isnull=True))
                continue
            try:
                parts.append(Q(vrf_id=id_value(item)))
            except ValueError as error:
                raise ValidationError({name: f'"null" or a VRF id: {error}'}) from None
        return queryset.filter(_any(parts))

    def filter_vrf(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Q(vrf__name__in=value) | Q(vrf__rd__in=value))


class VRFFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    rd = values("rd")

    class Meta:
        model = models.VRF
        fields = ()
        search_fields = ("name", "rd", "description")


class PrefixFilterSet(VRFScopedFilterSet):
    prefix = MultiValueCharFilter(method="filter_prefix")
    within = django_filters.CharFilter(method="filter_within")
    within_include = django_filters.CharFilter(method="filter_within")
    contains = django_filters.CharFilter(method="filter_contains")
    mask_length = numbers("prefix_length")
    site_id = ids("site_id")
    site = values("site__slug")
    status = values("status")
    role = values("role")
    name = values("name")
    parent_id = ids("parent_id")
    depth = numbers("depth")

    class Meta:
        model = models.Prefix
        fields = ("is_pool",)
        search_fields = ("prefix", "name", "description")

    def filter_prefix(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(prefix__in=[str(_network(item, name)) for item in value])

    def filter_within(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        network = _network(value, name)
        inside = Q(
            family=network.version,
            start__gte=int(network.network_address),
            end__lte=int(network.broadcast_address),
        )
        if name == "within":
            inside &= Q(prefix_length__gt=network.prefixlen)
        return queryset.filter(inside)

    def filter_contains(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        network = _network(value, name)
        return queryset.filter(
            family=network.version,
            start__lte=int(network.network_address),
            end__gte=int(network.broadcast_address),
        )


class IPAddressFilterSet(VRFScopedFilterSet):
    address = MultiValueCharFilter(method="filter_address")
    parent = django_filters.CharFilter(method="filter_parent")
    mask_length = numbers("mask_length")
    status = values("status")
    role = values("role")
    dns_name = values("dns_name")
    device_id = ids("device_id")
    device = values("device__name")
    interface_id = ids("assigned_interface_id")
    interface = values("assigned_interface__name")
    site_id = ids("device__site_id")
    site = values("device__site__slug")
    assigned_to_interface = django_filters.BooleanFilter(
        field_name="assigned_interface", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = models.IPAddress
        fields = ("is_primary_mgmt",)
        search_fields = ("address", "dns_name", "description")

    def filter_address(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        """The host part matches whatever the mask (``10.0.0.1`` finds ``10.0.0.1/24``)."""
        parts = []
        for item in value:
            try:
                host = ipaddress.ip_interface(item.strip()).ip
            except ValueError:
                raise ValidationError({name: f"{item!r} is not an address"}) from None
            parts.append(Q(family=host.version, host=int(host)))
        return queryset.filter(_any(parts))

    def filter_parent(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        network = _network(value, name)
        return queryset.filter(
            family=network.version,
            host__gte=int(network.network_address),
            host__lte=int(network.broadcast_address),
        )


class ASNRangeFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    slug = values("slug")

    class Meta:
        model = models.ASNRange
        fields = ("start", "end")
        search_fields = ("name", "slug", "description")


class ASNFilterSet(SearchFilterSet):
    id = ids("id")
    asn = numbers("asn")
    site_id = ids("site_id")
    site = values("site__slug")
    status = values("status")
    range_id = IdFilter(method="filter_range")

    class Meta:
        model = models.ASN
        fields = ()
        search_fields = ("description",)

    def filter_range(self, queryset: QuerySet, name: str, value) -> QuerySet:
        bounds = models.ASNRange.objects.filter(pk=value).values_list("start", "end").first()
        if bounds is None:
            return queryset.none()
        return queryset.filter(asn__gte=bounds[0], asn__lte=bounds[1])

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        try:
            asn = parse_int(value.upper().removeprefix("AS"), minimum=0, maximum=BIGINT_MAX)
        except ValueError:
            return super().search(queryset, name, value)
        return queryset.filter(Q(asn=asn) | Q(description__icontains=value))


class VLANGroupFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    slug = values("slug")
    site_id = ids("site_id")
    site = values("site__slug")

    class Meta:
        model = models.VLANGroup
        fields = ()
        search_fields = ("name", "slug", "description")


class VLANFilterSet(SearchFilterSet):
    id = ids("id")
    vid = numbers("vid")
    name = values("name")
    group_id = ids("group_id")
    group = values("group__slug")
    site_id = ids("site_id")
    site = values("site__slug")
    status = values("status")

    class Meta:
        model = models.VLAN
        fields = ()
        search_fields = ("name", "description")
