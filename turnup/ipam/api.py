"""REST API of ipam (``/api/ipam/…``): serializers and thin viewsets whose writes call the
services. Field names and URLs follow NetBox's API where the concept is the same (choice
fields render as ``{"value", "label"}``, foreign keys take an id and render a brief object).

Allocation endpoints, as in NetBox:
- ``/prefixes/{id}/available-prefixes/``: GET the free space as CIDR blocks; POST
  ``{"prefix_length": 31, …}`` (one, answered with the object) or a list of them (answered
  with a list) → 201.
- ``/prefixes/{id}/available-ips/``: GET the next free addresses (``?limit=``); POST ``{}``,
  ``[{}, {}, …]`` or ``{"count": N, …}``.
- ``/asn-ranges/{id}/available-asns/``, ``/vlan-groups/{id}/available-vlans/``: the same.
An exhausted pool answers 409 and creates nothing.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from turnup.core.api import (
    BriefModelSerializer,
    BulkRouter,
    LabeledChoiceField,
    NestedPrimaryKeyRelatedField,
    NetBoxStyleSerializer,
    TurnupModelViewSet,
    optional,
)
from turnup.core.errors import ApplicationError, NotFoundError
from turnup.core.validation import id_value
from turnup.dcim.api import BriefDeviceSerializer, BriefSiteSerializer
from turnup.dcim.models import Interface, Site
from turnup.ipam import choices, filters, selectors, services
from turnup.ipam.constants import ALLOCATION_MAX_COUNT
from turnup.ipam.models import ASN, VLAN, VRF, ASNRange, IPAddress, Prefix, VLANGroup

AVAILABLE_DEFAULT_LIMIT = 50
AVAILABLE_MAX_LIMIT = 1000


def family_field() -> LabeledChoiceField:
    return LabeledChoiceField(choices=choices.IPFamily.choices, read_only=True)


# -- brief (nested) serializers -----------------------------------------------------------------
class BriefVRFSerializer(BriefModelSerializer):
    class Meta:
        model = VRF
        fields = ("id", "url", "display", "name", "rd")
        brief_fields = fields


class BriefPrefixSerializer(BriefModelSerializer):
    family = family_field()
    _depth = serializers.IntegerField(source="depth", read_only=True)

    class Meta:
        model = Prefix
        fields = ("id", "url", "display", "family", "prefix", "_depth")
        brief_fields = fields


class BriefInterfaceSerializer(BriefModelSerializer):
    device = NestedPrimaryKeyRelatedField(serializer=BriefDeviceSerializer, read_only=True)

    class Meta:
        model = Interface
        fields = ("id", "url", "display", "device", "name")
        brief_fields = fields


class BriefASNRangeSerializer(BriefModelSerializer):
    class Meta:
        model = ASNRange
        fields = ("id", "url", "display", "name", "slug")
        brief_fields = fields


class BriefVLANGroupSerializer(BriefModelSerializer):
    class Meta:
        model = VLANGroup
        fields = ("id", "url", "display", "name", "slug")
        brief_fields = fields


# -- full serializers ---------------------------------------------------------------------------
class VRFSerializer(NetBoxStyleSerializer):
    class Meta:
        model = VRF
        fields = ("id", "url", "display", "name", "rd", "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name", "rd")


class PrefixSerializer(NetBoxStyleSerializer):
    family = family_field()
    vrf = optional(BriefVRFSerializer, VRF)
    site = optional(BriefSiteSerializer, Site)
    parent = NestedPrimaryKeyRelatedField(serializer=BriefPrefixSerializer, read_only=True)
    _depth = serializers.IntegerField(source="depth", read_only=True)
    children = serializers.SerializerMethodField()

    class Meta:
        model = Prefix
        fields = (
            "id",
            "url",
            "display",
            "family",
            "prefix",
            "vrf",
            "site",
            "name",
            "status",
            "role",
            "is_pool",
            "description",
            "parent",
            "_depth",
            "children",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "family", "prefix", "_depth")
        # Duplicates are refused by Prefix.clean() with a message naming the VRF.
        validators: list = []

    def get_children(self, obj) -> int:
        """Direct child prefixes (annotated on lists; counted for a row just written)."""
        count = getattr(obj, "children_count", None)
        return obj.children.count() if count is None else count


class IPAddressSerializer(NetBoxStyleSerializer):
    """NetBox's ``assigned_object_type``/``assigned_object_id`` are accepted as another way
    to say ``assigned_interface`` (only ``dcim.interface`` can be assigned)."""

    family = family_field()
    vrf = optional(BriefVRFSerializer, VRF)
    assigned_interface = optional(BriefInterfaceSerializer, Interface)
    device = NestedPrimaryKeyRelatedField(serializer=BriefDeviceSerializer, read_only=True)
    assigned_object_type = serializers.SerializerMethodField()
    assigned_object_id = serializers.IntegerField(source="assigned_interface_id", read_only=True)

    class Meta:
        model = IPAddress
        fields = (
            "id",
            "url",
            "display",
            "family",
            "address",
            "vrf",
            "status",
            "role",
            "assigned_interface",
            "assigned_object_type",
            "assigned_object_id",
            "device",
            "is_primary_mgmt",
            "dns_name",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "family", "address")
        validators: list = []

    def get_assigned_object_type(self, obj) -> str | None:
        return "dcim.interface" if obj.assigned_interface_id else None

    def to_internal_value(self, data):
        if isinstance(data, dict) and "assigned_object_type" in data:
            data = dict(data)
            kind = data.pop("assigned_object_type")
            object_id = data.pop("assigned_object_id", None)
            if kind not in (None, "dcim.interface"):
                raise serializers.ValidationError(
                    {"assigned_object_type": ["only dcim.interface can be assigned"]}
                )
            data.setdefault("assigned_interface", object_id if kind else None)
        return super().to_internal_value(data)


class ASNRangeSerializer(NetBoxStyleSerializer):
    class Meta:
        model = ASNRange
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "start",
            "end",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "slug")


class ASNSerializer(NetBoxStyleSerializer):
    site = optional(BriefSiteSerializer, Site)

    class Meta:
        model = ASN
        fields = (
            "id",
            "url",
            "display",
            "asn",
            "site",
            "status",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "asn")


class VLANGroupSerializer(NetBoxStyleSerializer):
    site = optional(BriefSiteSerializer, Site)

    class Meta:
        model = VLANGroup
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "site",
            "min_vid",
            "max_vid",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "slug")


class VLANSerializer(NetBoxStyleSerializer):
    group = optional(BriefVLANGroupSerializer, VLANGroup)
    site = optional(BriefSiteSerializer, Site)

    class Meta:
        model = VLAN
        fields = (
            "id",
            "url",
            "display",
            "vid",
            "name",
            "group",
            "site",
            "status",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "vid", "name")
        # (group, vid) and (group, name) are checked by full_clean in the service.
        validators: list = []


# -- allocation requests ------------------------------------------------------------------------
class PrefixAllocationSerializer(serializers.Serializer):
    prefix_length = serializers.IntegerField(min_value=1, max_value=128)
    site = optional(BriefSiteSerializer, Site)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=choices.PrefixStatus.choices, required=False)
    role = serializers.ChoiceField(
        choices=choices.PrefixRole.choices, required=False, allow_blank=True
    )
    is_pool = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class IPAllocationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=choices.IPAddressStatus.choices, required=False)
    role = serializers.ChoiceField(
        choices=choices.IPAddressRole.choices, required=False, allow_blank=True
    )
    assigned_interface = optional(BriefInterfaceSerializer, Interface)
    is_primary_mgmt = serializers.BooleanField(required=False)
    dns_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class ASNAllocationSerializer(serializers.Serializer):
    site = optional(BriefSiteSerializer, Site)
    status = serializers.ChoiceField(choices=choices.ASNStatus.choices, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VLANAllocationSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64, required=False)
    site = optional(BriefSiteSerializer, Site)
    status = serializers.ChoiceField(choices=choices.VLANStatus.choices, required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AvailablePrefixSerializer(serializers.Serializer):
    family = serializers.DictField(read_only=True)
    prefix = serializers.CharField(read_only=True)
    vrf = BriefVRFSerializer(read_only=True, allow_null=True)


class AvailableIPSerializer(serializers.Serializer):
    family = serializers.DictField(read_only=True)
    address = serializers.CharField(read_only=True)
    vrf = BriefVRFSerializer(read_only=True, allow_null=True)


class AvailableASNSerializer(serializers.Serializer):
    asn = serializers.IntegerField(read_only=True)


class AvailableVLANSerializer(serializers.Serializer):
    vid = serializers.IntegerField(read_only=True)
    group = BriefVLANGroupSerializer(read_only=True)


@functools.cache
def _all_optional(item_serializer: type[serializers.Serializer]) -> bool:
    """No declared field is required (then ``{}`` is valid as it is)."""
    return not any(field.required for field in item_serializer._declared_fields.values())


def _allocation_request(
    data: Any, item_serializer: type[serializers.Serializer], *, options: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """Parse an allocation body: one object (optionally with ``count``), or a list.

    Returns the validated items, the request-level options (e.g. ``mask_length``) and
    whether the answer is a list.
    """
    many = isinstance(data, list)
    if many:
        raw_items = data
        request_options = {}
        for name in options:
            # compared, not hashed: a value may be a list or an object (refused later)
            found = []
            for item in raw_items:
                if isinstance(item, dict) and item.get(name) not in found:
                    found.append(item.get(name))
            if len(found) > 1:
                raise ApplicationError(
                    "Validation error",
                    extra={"fields": {name: ["must be the same for every item"]}},
                )
            request_options[name] = found[0] if found else None
        raw_items = [
            {k: v for k, v in item.items() if k not in options} if isinstance(item, dict) else item
            for item in raw_items
        ]
    elif isinstance(data, dict):
        body = dict(data)
        count = body.pop("count", None)
        request_options = {name: body.pop(name, None) for name in options}
        if count is not None:
            if not isinstance(count, int) or isinstance(count, bool):
                raise ApplicationError(
                    "Validation error", extra={"fields": {"count": ["a whole number"]}}
                )
            if not 1 <= count <= ALLOCATION_MAX_COUNT:
                raise ApplicationError(
                    "Validation error",
                    extra={"fields": {"count": [f"between 1 and {ALLOCATION_MAX_COUNT}"]}},
                )
            many = True
        raw_items = [body] * (count or 1)
    else:
        raise ApplicationError(
            "Validation error",
            extra={"fields": {"non_field_errors": ["expected an object or a list"]}},
        )
    if not raw_items:
        raise ApplicationError(
            "Validation error", extra={"fields": {"non_field_errors": ["nothing to allocate"]}}
        )
    if len(raw_items) > ALLOCATION_MAX_COUNT:
        raise ApplicationError(
            "Validation error",
            extra={"fields": {"non_field_errors": [f"at most {ALLOCATION_MAX_COUNT} at once"]}},
        )
    if _all_optional(item_serializer) and all(item == {} for item in raw_items):
        # empty items of a serializer without required fields validate to empty items
        return [{} for _ in raw_items], request_options, many
    serializer = item_serializer(data=raw_items, many=True)
    if not serializer.is_valid():
        errors = serializer.errors
        pairs = errors.items() if isinstance(errors, dict) else enumerate(errors)
        by_item = {str(index): error for index, error in pairs if error}
        if len(raw_items) == 1 and not isinstance(data, list):
            raise ApplicationError("Validation error", extra={"fields": by_item["0"]})
        raise ApplicationError("Validation error", extra={"items": by_item})
    return [dict(item) for item in serializer.validated_data], request_options, many


def _limit(request) -> int:
    try:
        limit = int(request.query_params.get("limit", AVAILABLE_DEFAULT_LIMIT))
    except ValueError:
        limit = AVAILABLE_DEFAULT_LIMIT
    return max(1, min(limit, AVAILABLE_MAX_LIMIT))


def _pk(value: str) -> int:
    try:
        return id_value(value)
    except ValueError:
        raise NotFoundError(f"No object with id {value!r}.") from None


# -- viewsets -----------------------------------------------------------------------------------
class AllocatingViewSet(TurnupModelViewSet):
    """A viewset with allocation actions: they read the pool with a light query and answer
    with the created rows as built (their related objects are already attached)."""

    def get_light_object(self, queryset):
        obj = get_object_or_404(queryset, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    def _created(self, rows, serializer_class, many: bool) -> Response:
        data = serializer_class(rows, many=True, context=self.get_serializer_context()).data
        return Response(data if many else data[0], status=status.HTTP_201_CREATED)


class VRFViewSet(TurnupModelViewSet):
    queryset = VRF.objects.order_by("name")
    serializer_class = VRFSerializer
    filterset_class = filters.VRFFilterSet


class PrefixViewSet(AllocatingViewSet):
    queryset = Prefix.objects.select_related("vrf", "site", "parent").annotate(
        children_count=Count("children")
    )
    serializer_class = PrefixSerializer
    filterset_class = filters.PrefixFilterSet
    create_service = staticmethod(services.prefix_create)
    update_service = staticmethod(services.prefix_update)
    delete_service = staticmethod(services.prefix_delete)
    bulk_delete_service = staticmethod(services.prefix_bulk_delete)
    bulk_create_service = staticmethod(services.prefix_bulk_create)

    def _pool(self) -> Prefix:
        return self.get_light_object(Prefix.objects.select_related("vrf", "site"))

    @extend_schema(
        request=PrefixAllocationSerializer(many=True),
        responses={200: AvailablePrefixSerializer(many=True), 201: PrefixSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="available-prefixes",
        filter_backends=[],
        pagination_class=None,
    )
    def available_prefixes(self, request, pk=None):
        """GET: the free space of this prefix as CIDR blocks. POST ``{"prefix_length": N}``
        (or a list): allocate the next free child prefix(es); 409 when it has no room."""
        pool = self._pool()
        if request.method == "GET":
            vrf = BriefVRFSerializer(pool.vrf, context=self.get_serializer_context()).data
            family = {"value": pool.family, "label": pool.get_family_display()}
            return Response(
                [
                    {"family": family, "prefix": block, "vrf": vrf if pool.vrf_id else None}
                    for block in selectors.prefix_available_prefixes(prefix=pool)
                ]
            )
        items, _, many = _allocation_request(request.data, PrefixAllocationSerializer)
        created = services.prefix_allocate_next(pool=pool, items=items)
        return self._created(created, PrefixSerializer, many)

    @extend_schema(
        request=IPAllocationSerializer(many=True),
        responses={200: AvailableIPSerializer(many=True), 201: IPAddressSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="available-ips",
        filter_backends=[],
        pagination_class=None,
    )
    def available_ips(self, request, pk=None):
        """GET: the next free addresses (``?limit=``, default 50). POST ``{}``, a list of
        objects, or ``{"count": N}`` (optionally ``mask_length``): allocate them; 409 when
        too few are free."""
        if request.method == "GET":
            prefix = self.get_light_object(Prefix.objects.select_related("vrf"))
            vrf = BriefVRFSerializer(prefix.vrf, context=self.get_serializer_context()).data
            family = {"value": prefix.family, "label": prefix.get_family_display()}
            return Response(
                [
                    {"family": family, "address": address, "vrf": vrf if prefix.vrf_id else None}
                    for address in selectors.prefix_available_ips(
                        prefix=prefix, limit=_limit(request)
                    )
                ]
            )
        items, options, many = _allocation_request(
            request.data, IPAllocationSerializer, options=("mask_length",)
        )
        mask_length = options.get("mask_length")
        if mask_length is not None and (
            not isinstance(mask_length, int) or isinstance(mask_length, bool)
        ):
            raise ApplicationError(
                "Validation error", extra={"fields": {"mask_length": ["a whole number"]}}
            )
        # the service reads the pool with the statement that locks it (404 when there is none)
        created = services.ip_allocate_next(
            prefix=_pk(self.kwargs["pk"]), mask_length=mask_length, items=items
        )
        if any(address.assigned_interface_id for address in created):
            # the interfaces came without their devices: one query for all of them
            created = list(IPAddressViewSet.queryset.filter(pk__in=[a.pk for a in created]))
        return self._created(created, IPAddressSerializer, many)


class IPAddressViewSet(TurnupModelViewSet):
    queryset = IPAddress.objects.select_related("vrf", "assigned_interface").prefetch_related(
        "device", "assigned_interface__device"
    )
    serializer_class = IPAddressSerializer
    filterset_class = filters.IPAddressFilterSet
    create_service = staticmethod(services.ip_address_create)
    update_service = staticmethod(services.ip_address_update)
    bulk_create_service = staticmethod(services.ip_address_bulk_create)


class ASNRangeViewSet(AllocatingViewSet):
    queryset = ASNRange.objects.order_by("name")
    serializer_class = ASNRangeSerializer
    filterset_class = filters.ASNRangeFilterSet

    @extend_schema(
        request=ASNAllocationSerializer(many=True),
        responses={200: AvailableASNSerializer(many=True), 201: ASNSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="available-asns",
        filter_backends=[],
        pagination_class=None,
    )
    def available_asns(self, request, pk=None):
        """GET: the next free ASNs of this range. POST ``{}``, a list, or ``{"count": N}``:
        allocate them; 409 when too few are free."""
        asn_range = self.get_light_object(ASNRange.objects.all())
        if request.method == "GET":
            return Response(
                [
                    {"asn": asn}
                    for asn in selectors.asn_range_available_asns(
                        asn_range=asn_range, limit=_limit(request)
                    )
                ]
            )
        items, _, many = _allocation_request(request.data, ASNAllocationSerializer)
        created = services.asn_allocate_next(asn_range=asn_range, items=items)
        return self._created(created, ASNSerializer, many)


class ASNViewSet(TurnupModelViewSet):
    queryset = ASN.objects.select_related("site").order_by("asn")
    serializer_class = ASNSerializer
    filterset_class = filters.ASNFilterSet


class VLANGroupViewSet(AllocatingViewSet):
    queryset = VLANGroup.objects.select_related("site").order_by("name")
    serializer_class = VLANGroupSerializer
    filterset_class = filters.VLANGroupFilterSet

    @extend_schema(
        request=VLANAllocationSerializer(many=True),
        responses={200: AvailableVLANSerializer(many=True), 201: VLANSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="available-vlans",
        filter_backends=[],
        pagination_class=None,
    )
    def available_vlans(self, request, pk=None):
        """GET: the next free VLAN IDs of this group. POST ``{"name": …}``, a list, or
        ``{"count": N}`` (names default to ``VLAN0042``): allocate them; 409 when full."""
        group = self.get_light_object(VLANGroup.objects.select_related("site"))
        if request.method == "GET":
            brief = BriefVLANGroupSerializer(group, context=self.get_serializer_context()).data
            return Response(
                [
                    {"vid": vid, "group": brief}
                    for vid in selectors.vlan_group_available_vids(
                        group=group, limit=_limit(request)
                    )
                ]
            )
        items, _, many = _allocation_request(request.data, VLANAllocationSerializer)
        created = services.vlan_allocate_next(group=group, items=items)
        return self._created(created, VLANSerializer, many)


class VLANViewSet(TurnupModelViewSet):
    queryset = VLAN.objects.select_related("group", "site").all()
    serializer_class = VLANSerializer
    filterset_class = filters.VLANFilterSet


router = BulkRouter()
router.register("ipam/vrfs", VRFViewSet)
router.register("ipam/prefixes", PrefixViewSet)
router.register("ipam/ip-addresses", IPAddressViewSet)
router.register("ipam/asn-ranges", ASNRangeViewSet)
router.register("ipam/asns", ASNViewSet)
router.register("ipam/vlan-groups", VLANGroupViewSet)
router.register("ipam/vlans", VLANViewSet)
urlpatterns = router.urls
