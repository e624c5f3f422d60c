"""Filters of the dcim API, NetBox-style: ``?site_id=1&site_id=2``, ``?site=<slug>``,
``?device=<name>``, ``?role=<slug>``, ``?status=…``, ``?q=`` (free text). Every filter takes
repeated values (any of them matches) and costs no extra query."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django_filters.widgets import QueryArrayWidget

from turnup.core.filters import CharInFilter, IdInFilter, SearchFilterSet, ids, numbers, values
from turnup.dcim import models


class SiteFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    slug = values("slug")
    status = values("status")
    region = values("region")
    credential_profile_id = ids("credential_profile_id")

    class Meta:
        model = models.Site
        fields = ("time_zone", "facility")
        search_fields = ("name", "slug", "facility", "description", "physical_address")


class RackFilterSet(SearchFilterSet):
    id = ids("id")
    site_id = ids("site_id")
    site = values("site__slug")
    name = values("name")

    class Meta:
        model = models.Rack
        fields = ("u_height",)
        search_fields = ("name", "facility_id", "description")


class NamedFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    slug = values("slug")


class ManufacturerFilterSet(NamedFilterSet):
    class Meta:
        model = models.Manufacturer
        fields = ()
        search_fields = ("name", "slug", "description")


class DeviceRoleFilterSet(NamedFilterSet):
    class Meta:
        model = models.DeviceRole
        fields = ("color",)
        search_fields = ("name", "slug", "description")


class PlatformFilterSet(NamedFilterSet):
    manufacturer_id = ids("manufacturer_id")
    manufacturer = values("manufacturer__slug")

    class Meta:
        model = models.Platform
        fields = ()
        search_fields = ("name", "slug", "description")


class DeviceTypeFilterSet(SearchFilterSet):
    id = ids("id")
    manufacturer_id = ids("manufacturer_id")
    manufacturer = values("manufacturer__slug")
    model = values("model")
    slug = values("slug")

    class Meta:
        model = models.DeviceType
        fields = ("u_height", "is_full_depth", "part_number")
        search_fields = ("model", "slug", "part_number", "description")


class TemplateFilterSet(SearchFilterSet):
    id = ids("id")
    device_type_id = ids("device_type_id")
    name = values("name")


class InterfaceTemplateFilterSet(TemplateFilterSet):
    type = values("type")

    class Meta:
        model = models.InterfaceTemplate
        fields = ("mgmt_only",)
        search_fields = ("name", "label", "description")


class ConsolePortTemplateFilterSet(TemplateFilterSet):
    class Meta:
        model = models.ConsolePortTemplate
        fields = ()
        search_fields = ("name", "label", "description")


class ConsoleServerPortTemplateFilterSet(TemplateFilterSet):
    line = numbers("line")

    class Meta:
        model = models.ConsoleServerPortTemplate
        fields = ()
        search_fields = ("name", "label", "description")


class DeviceFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    site_id = ids("site_id")
    site = values("site__slug")
    rack_id = ids("rack_id")
    role_id = ids("role_id")
    role = values("role__slug")
    platform_id = ids("platform_id")
    platform = values("platform__slug")
    device_type_id = ids("device_type_id")
    manufacturer = values("device_type__manufacturer__slug")
    status = values("status")
    serial = values("serial")
    asset_tag = values("asset_tag")
    credential_profile_id = ids("credential_profile_id")

    class Meta:
        model = models.Device
        fields = ("position", "face")
        search_fields = ("name", "serial", "asset_tag", "description")


class ComponentFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")
    device_id = ids("device_id")
    device = values("device__name")
    site_id = ids("device__site_id")
    site = values("device__site__slug")
    role = values("device__role__slug")
    cable_id = ids("cable_id")
    cabled = django_filters.BooleanFilter(field_name="cable", lookup_expr="isnull", exclude=True)


class InterfaceFilterSet(ComponentFilterSet):
    type = values("type")
    mode = values("mode")

    class Meta:
        model = models.Interface
        fields = ("enabled", "mgmt_only", "mtu")
        search_fields = ("name", "label", "description")


class ConsolePortFilterSet(ComponentFilterSet):
    class Meta:
        model = models.ConsolePort
        fields = ("type",)
        search_fields = ("name", "label", "description")


class ConsoleServerPortFilterSet(ComponentFilterSet):
    line = numbers("line")
    tcp_port = numbers("tcp_port")

    class Meta:
        model = models.ConsoleServerPort
        fields = ("baud", "access_method", "type")
        search_fields = ("name", "label", "description")


class CableFilterSet(SearchFilterSet):
    id = ids("id")
    status = values("status")
    type = values("type")
    label = values("label")
    device_id = IdInFilter(method="filter_device", widget=QueryArrayWidget)
    device = CharInFilter(method="filter_device", widget=QueryArrayWidget)
    site_id = IdInFilter(method="filter_site", widget=QueryArrayWidget)
    site = CharInFilter(method="filter_site", widget=QueryArrayWidget)

    class Meta:
        model = models.Cable
        fields = ("color",)
        search_fields = ("label", "description")

    @staticmethod
    def _ends(lookup: str, value) -> Q:
        return (
            Q(**{f"interfaces__{lookup}": value})
            | Q(**{f"console_ports__{lookup}": value})
            | Q(**{f"console_server_ports__{lookup}": value})
        )

    def _filter(self, queryset: QuerySet, lookup: str, value) -> QuerySet:
        if not value:
            return queryset
        matching = models.Cable.objects.filter(self._ends(lookup, value)).values("pk")
        return queryset.filter(pk__in=matching)

    def filter_device(self, queryset, name, value):
        lookup = "device_id__in" if name == "device_id" else "device__name__in"
        return self._filter(queryset, lookup, value)

    def filter_site(self, queryset, name, value):
        lookup = "device__site_id__in" if name == "site_id" else "device__site__slug__in"
        return self._filter(queryset, lookup, value)


class CredentialProfileFilterSet(SearchFilterSet):
    id = ids("id")
    name = values("name")

    class Meta:
        model = models.CredentialProfile
        fields = ("is_default",)
        search_fields = ("name", "description")
