"""REST API of dcim (``/api/dcim/…``): serializers and thin viewsets whose writes call the
services. Field names and URLs follow NetBox's API where the concept is the same; choice
fields render as ``{"value", "label"}`` and accept the value; foreign keys take an id and
render a nested brief object. Credential secrets are write-only: never returned, only
``has_<secret>`` booleans."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from turnup.core.api import (
    BriefModelSerializer,
    BulkRouter,
    NetBoxStyleSerializer,
    TurnupModelViewSet,
    nested,
    object_url,
    optional,
)
from turnup.core.errors import NotFoundError
from turnup.core.validation import id_value
from turnup.dcim import filters, selectors, services
from turnup.dcim.models import (
    Cable,
    ConsolePort,
    ConsolePortTemplate,
    ConsoleServerPort,
    ConsoleServerPortTemplate,
    CredentialProfile,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    InterfaceTemplate,
    Manufacturer,
    Platform,
    Rack,
    Site,
)

# -- brief (nested) serializers -----------------------------------------------------------


class BriefSiteSerializer(BriefModelSerializer):
    class Meta:
        model = Site
        fields = ("id", "url", "display", "name", "slug")
        brief_fields = ("id", "url", "display", "name", "slug")


class BriefRackSerializer(BriefModelSerializer):
    class Meta:
        model = Rack
        fields = ("id", "url", "display", "name")
        brief_fields = ("id", "url", "display", "name")


class BriefManufacturerSerializer(BriefModelSerializer):
    class Meta:
        model = Manufacturer
        fields = ("id", "url", "display", "name", "slug")
        brief_fields = ("id", "url", "display", "name", "slug")


class BriefDeviceRoleSerializer(BriefModelSerializer):
    class Meta:
        model = DeviceRole
        fields = ("id", "url", "display", "name", "slug")
        brief_fields = ("id", "url", "display", "name", "slug")


class BriefPlatformSerializer(BriefModelSerializer):
    class Meta:
        model = Platform
        fields = ("id", "url", "display", "name", "slug")
        brief_fields = ("id", "url", "display", "name", "slug")


class BriefDeviceTypeSerializer(BriefModelSerializer):
    class Meta:
        model = DeviceType
        fields = ("id", "url", "display", "model", "slug")
        brief_fields = ("id", "url", "display", "model", "slug")


class BriefDeviceSerializer(BriefModelSerializer):
    class Meta:
        model = Device
        fields = ("id", "url", "display", "name")
        brief_fields = ("id", "url", "display", "name")


class BriefCableSerializer(BriefModelSerializer):
    class Meta:
        model = Cable
        fields = ("id", "url", "display", "label")
        brief_fields = ("id", "url", "display", "label")


class BriefCredentialProfileSerializer(BriefModelSerializer):
    class Meta:
        model = CredentialProfile
        fields = ("id", "url", "display", "name")
        brief_fields = ("id", "url", "display", "name")


def _brief_port(port, context: dict) -> dict[str, Any]:
    device = port.device
    return {
        "id": port.pk,
        "url": object_url(port, context),
        "display": str(port),
        "device": {
            "id": device.pk,
            "url": object_url(device, context),
            "display": str(device),
            "name": device.name,
        },
        "name": port.name,
    }


# -- sites, racks, catalog ----------------------------------------------------------------


class SiteSerializer(NetBoxStyleSerializer):
    credential_profile = optional(BriefCredentialProfileSerializer, CredentialProfile)

    class Meta:
        model = Site
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "status",
            "region",
            "facility",
            "time_zone",
            "physical_address",
            "description",
            "comments",
            "credential_profile",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "slug")


class SiteTransitionSerializer(serializers.Serializer):
    status = serializers.CharField()


class ConsolePathSerializer(serializers.Serializer):
    """Documents ``GET /api/dcim/devices/{id}/console-path/`` (a ``selectors.ConsolePath``)."""

    device_id = serializers.IntegerField()
    device_name = serializers.CharField()
    console_port = serializers.CharField()
    console_server_id = serializers.IntegerField()
    console_server = serializers.CharField()
    console_server_port = serializers.CharField()
    host = serializers.CharField()
    line = serializers.IntegerField()
    tcp_port = serializers.IntegerField(allow_null=True)
    port = serializers.IntegerField()
    baud = serializers.IntegerField()
    method = serializers.CharField()
    ssh_username_format = serializers.CharField()
    cable_status = serializers.CharField()


class RackSerializer(NetBoxStyleSerializer):
    site = nested(BriefSiteSerializer, Site)

    class Meta:
        model = Rack
        fields = (
            "id",
            "url",
            "display",
            "name",
            "site",
            "u_height",
            "facility_id",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name")


class ManufacturerSerializer(NetBoxStyleSerializer):
    class Meta:
        model = Manufacturer
        fields = ("id", "url", "display", "name", "slug", "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name", "slug")


class DeviceRoleSerializer(NetBoxStyleSerializer):
    class Meta:
        model = DeviceRole
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "color",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "slug")


class PlatformSerializer(NetBoxStyleSerializer):
    manufacturer = optional(BriefManufacturerSerializer, Manufacturer)

    class Meta:
        model = Platform
        fields = (
            "id",
            "url",
            "display",
            "name",
            "slug",
            "manufacturer",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name", "slug")


class DeviceTypeSerializer(NetBoxStyleSerializer):
    manufacturer = nested(BriefManufacturerSerializer, Manufacturer)
    default_platform = optional(BriefPlatformSerializer, Platform)

    class Meta:
        model = DeviceType
        fields = (
            "id",
            "url",
            "display",
            "manufacturer",
            "default_platform",
            "model",
            "slug",
            "part_number",
            "u_height",
            "is_full_depth",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "model", "slug")


TEMPLATE_FIELDS = ("id", "url", "display", "device_type", "name", "label", "type")


class InterfaceTemplateSerializer(NetBoxStyleSerializer):
    device_type = nested(BriefDeviceTypeSerializer, DeviceType)

    class Meta:
        model = InterfaceTemplate
        fields = (*TEMPLATE_FIELDS, "mgmt_only", "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name")


class ConsolePortTemplateSerializer(NetBoxStyleSerializer):
    device_type = nested(BriefDeviceTypeSerializer, DeviceType)

    class Meta:
        model = ConsolePortTemplate
        fields = (*TEMPLATE_FIELDS, "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name")


class ConsoleServerPortTemplateSerializer(NetBoxStyleSerializer):
    device_type = nested(BriefDeviceTypeSerializer, DeviceType)

    class Meta:
        model = ConsoleServerPortTemplate
        fields = (*TEMPLATE_FIELDS, "line", "description", "created", "last_updated")
        brief_fields = ("id", "url", "display", "name", "line")


# -- devices and ports --------------------------------------------------------------------


class DeviceSerializer(NetBoxStyleSerializer):
    site = nested(BriefSiteSerializer, Site)
    rack = optional(BriefRackSerializer, Rack)
    device_type = nested(BriefDeviceTypeSerializer, DeviceType)
    role = nested(BriefDeviceRoleSerializer, DeviceRole)
    platform = optional(BriefPlatformSerializer, Platform)
    credential_profile = optional(BriefCredentialProfileSerializer, CredentialProfile)

    class Meta:
        model = Device
        fields = (
            "id",
            "url",
            "display",
            "name",
            "device_type",
            "role",
            "platform",
            "serial",
            "asset_tag",
            "site",
            "rack",
            "position",
            "face",
            "status",
            "description",
            "comments",
            "credential_profile",
            "console_host",
            "console_ssh_username_format",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name")


BRIEF_PORT_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "url": {"type": "string"},
        "display": {"type": "string"},
        "device": {"type": "object"},
        "name": {"type": "string"},
    },
}
TERMINATIONS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "object_type": {
                "type": "string",
                "enum": ["dcim.interface", "dcim.consoleport", "dcim.consoleserverport"],
            },
            "object_id": {"type": "integer"},
            "object": {**BRIEF_PORT_SCHEMA, "readOnly": True},
        },
        "required": ["object_type", "object_id"],
    },
}


@extend_schema_field({"type": "array", "items": BRIEF_PORT_SCHEMA, "readOnly": True})
class LinkPeersField(serializers.ReadOnlyField):
    """The port(s) at the other end of the port's cable (prefetched by the list)."""

    def __init__(self, *, peer_relation: str, **kwargs):
        self.peer_relation = peer_relation
        super().__init__(source="*", **kwargs)

    def to_representation(self, port):
        if port.cable_id is None:
            return []
        peers = getattr(port.cable, self.peer_relation).all()
        return [
            _brief_port(peer, self.context)
            for peer in peers
            if peer.pk != port.pk or type(peer) is not type(port)
        ]


COMPONENT_FIELDS = (
    "id",
    "url",
    "display",
    "device",
    "name",
    "label",
    "type",
    "description",
    "cable",
    "cable_end",
    "link_peers",
)


class ComponentSerializer(NetBoxStyleSerializer):
    device = nested(BriefDeviceSerializer, Device)
    cable = BriefCableSerializer(read_only=True)
    cable_end = serializers.CharField(read_only=True)


class InterfaceSerializer(ComponentSerializer):
    link_peers = LinkPeersField(peer_relation="interfaces")

    class Meta:
        model = Interface
        fields = (
            *COMPONENT_FIELDS,
            "enabled",
            "mtu",
            "mac_address",
            "mgmt_only",
            "mode",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "device", "name", "cable")


class ConsolePortSerializer(ComponentSerializer):
    link_peers = LinkPeersField(peer_relation="console_server_ports")

    class Meta:
        model = ConsolePort
        fields = (*COMPONENT_FIELDS, "created", "last_updated")
        brief_fields = ("id", "url", "display", "device", "name", "cable")


class ConsoleServerPortSerializer(ComponentSerializer):
    link_peers = LinkPeersField(peer_relation="console_ports")

    class Meta:
        model = ConsoleServerPort
        fields = (
            *COMPONENT_FIELDS,
            "line",
            "tcp_port",
            "baud",
            "access_method",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "device", "name", "line", "cable")


# -- cables -------------------------------------------------------------------------------

TERMINATION_TYPES: dict[str, type] = {
    "dcim.interface": Interface,
    "dcim.consoleport": ConsolePort,
    "dcim.consoleserverport": ConsoleServerPort,
}
TERMINATION_NAMES = {model: name for name, model in TERMINATION_TYPES.items()}


def _termination_ref(data: Any) -> tuple[type, int]:
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        raise serializers.ValidationError(
            'exactly one termination: [{"object_type": "dcim.interface", "object_id": 1}]'
        )
    object_type, object_id = data[0].get("object_type"), data[0].get("object_id")
    model = TERMINATION_TYPES.get(object_type) if isinstance(object_type, str) else None
    if model is None:
        raise serializers.ValidationError(
            f"object_type must be one of {', '.join(TERMINATION_TYPES)}"
        )
    try:
        return model, id_value(object_id)
    except ValueError as error:
        raise serializers.ValidationError(f"object_id {error}") from None


@extend_schema_field(TERMINATIONS_SCHEMA)
class TerminationsField(serializers.Field):
    """One end of a cable, NetBox-style: ``[{"object_type": "dcim.interface", "object_id": 7}]``.
    In a bulk request every end of every item is loaded with one query per port kind."""

    def __init__(self, *, side: str, **kwargs):
        self.side = side
        super().__init__(source="*", **kwargs)

    def _preload(self) -> dict:
        cache = self.context.setdefault("_termination_cache", {})
        root = getattr(self.parent, "parent", None)
        if "_loaded" in cache or not isinstance(root, serializers.ListSerializer):
            return cache
        wanted: dict[type, set[int]] = {}
        for item in root.initial_data if isinstance(root.initial_data, list) else ():
            for side in ("a_terminations", "b_terminations"):
                try:
                    model, pk = _termination_ref(item.get(side) if isinstance(item, dict) else None)
                except serializers.ValidationError:
                    continue
                wanted.setdefault(model, set()).add(pk)
        for model, pks in wanted.items():
            for port in model.objects.select_related("device").filter(pk__in=pks):
                cache[(model, port.pk)] = port
        cache["_loaded"] = True
        return cache

    def to_internal_value(self, data):
        model, pk = _termination_ref(data)
        port = self._preload().get((model, pk))
        if port is None:
            port = model.objects.select_related("device").filter(pk=pk).first()
        if port is None:
            raise serializers.ValidationError(f"no {TERMINATION_NAMES[model]} with id {pk}")
        return {f"{self.side}_end": port}

    def to_representation(self, cable):
        ends = services.cable_ends(cable)
        port = ends[0] if self.side == "a" else ends[1]
        if port is None:
            return []
        return [
            {
                "object_type": TERMINATION_NAMES[type(port)],
                "object_id": port.pk,
                "object": _brief_port(port, self.context),
            }
        ]


class CableSerializer(NetBoxStyleSerializer):
    a_terminations = TerminationsField(side="a")
    b_terminations = TerminationsField(side="b")

    class Meta:
        model = Cable
        fields = (
            "id",
            "url",
            "display",
            "type",
            "a_terminations",
            "b_terminations",
            "status",
            "label",
            "color",
            "length",
            "length_unit",
            "description",
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "label")

    def validate(self, attrs):
        if self.instance is None and not {"a_end", "b_end"} <= set(attrs):
            raise serializers.ValidationError(
                {"a_terminations": ["both a_terminations and b_terminations are required"]}
            )
        return attrs


def _cable_create(**data) -> Cable:
    return services.cable_create(**data)


def _cable_bulk_create(*, items: list[dict[str, Any]]) -> list[Cable]:
    created = services.cable_bulk_create(items=items)
    return list(selectors.cable_list().filter(pk__in=[c.pk for c in created]))


def _cable_update(*, instance: Cable, **data) -> Cable:
    for side in ("a", "b"):
        end = data.get(f"{side}_end")
        current = services.cable_ends(instance)[0 if side == "a" else 1]
        if end is not None and (type(end), end.pk) == (type(current), getattr(current, "pk", 0)):
            data.pop(f"{side}_end")
    return services.cable_update(instance=instance, **data)


# -- credentials --------------------------------------------------------------------------


class HasSecretField(serializers.ReadOnlyField):
    def to_representation(self, value) -> bool:
        return bool(value)


def _secret() -> serializers.CharField:
    return serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        style={"input_type": "password"},
    )


class CredentialProfileSerializer(NetBoxStyleSerializer):
    """Secrets are accepted (``null`` or absent keeps the stored value, ``""`` clears it)
    and never returned: ``has_<secret>`` says whether one is set."""

    console_password = _secret()
    local_password = _secret()
    junos_root_password = _secret()
    enable_secret = _secret()
    snmp_auth_key = _secret()
    snmp_priv_key = _secret()
    has_console_password = HasSecretField(source="console_password")
    has_local_password = HasSecretField(source="local_password")
    has_junos_root_password = HasSecretField(source="junos_root_password")
    has_enable_secret = HasSecretField(source="enable_secret")
    has_snmp_auth_key = HasSecretField(source="snmp_auth_key")
    has_snmp_priv_key = HasSecretField(source="snmp_priv_key")

    class Meta:
        model = CredentialProfile
        fields = (
            "id",
            "url",
            "display",
            "name",
            "description",
            "is_default",
            "console_username",
            "local_username",
            "snmp_username",
            "snmp_auth_protocol",
            "snmp_priv_protocol",
            *CredentialProfile.SECRET_FIELDS,
            *(f"has_{name}" for name in CredentialProfile.SECRET_FIELDS),
            "created",
            "last_updated",
        )
        brief_fields = ("id", "url", "display", "name")


# -- viewsets -----------------------------------------------------------------------------


class SiteViewSet(TurnupModelViewSet):
    queryset = selectors.site_list().order_by("name")
    serializer_class = SiteSerializer
    filterset_class = filters.SiteFilterSet
    create_service = staticmethod(services.site_create)
    update_service = staticmethod(services.site_update)

    @extend_schema(request=SiteTransitionSerializer, responses=SiteSerializer)
    @action(detail=True, methods=["post"], serializer_class=SiteTransitionSerializer)
    def transition(self, request, pk=None):
        """Move the site to ``status`` (``planned → designed → approved → turning-up →
        live / failed``); refused with the allowed targets, or 409 when a check vetoes."""
        site = self.get_object()
        payload = SiteTransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        site = services.site_transition(
            site=site, to_status=payload.validated_data["status"], manual=True
        )
        return Response(SiteSerializer(site, context=self.get_serializer_context()).data)


class RackViewSet(TurnupModelViewSet):
    queryset = Rack.objects.select_related("site").order_by("site_id", "name")
    serializer_class = RackSerializer
    filterset_class = filters.RackFilterSet
    update_service = staticmethod(services.rack_update)


class ManufacturerViewSet(TurnupModelViewSet):
    queryset = Manufacturer.objects.order_by("name")
    serializer_class = ManufacturerSerializer
    filterset_class = filters.ManufacturerFilterSet


class DeviceRoleViewSet(TurnupModelViewSet):
    queryset = DeviceRole.objects.order_by("name")
    serializer_class = DeviceRoleSerializer
    filterset_class = filters.DeviceRoleFilterSet


class PlatformViewSet(TurnupModelViewSet):
    queryset = Platform.objects.select_related("manufacturer").order_by("name")
    serializer_class = PlatformSerializer
    filterset_class = filters.PlatformFilterSet


class DeviceTypeViewSet(TurnupModelViewSet):
    queryset = selectors.device_type_list().order_by("manufacturer_id", "model")
    serializer_class = DeviceTypeSerializer
    filterset_class = filters.DeviceTypeFilterSet
    update_service = staticmethod(services.device_type_update)


class InterfaceTemplateViewSet(TurnupModelViewSet):
    queryset = InterfaceTemplate.objects.select_related("device_type").order_by(
        "device_type_id", "id"
    )
    serializer_class = InterfaceTemplateSerializer
    filterset_class = filters.InterfaceTemplateFilterSet


class ConsolePortTemplateViewSet(TurnupModelViewSet):
    queryset = ConsolePortTemplate.objects.select_related("device_type").order_by(
        "device_type_id", "id"
    )
    serializer_class = ConsolePortTemplateSerializer
    filterset_class = filters.ConsolePortTemplateFilterSet


class ConsoleServerPortTemplateViewSet(TurnupModelViewSet):
    queryset = ConsoleServerPortTemplate.objects.select_related("device_type").order_by(
        "device_type_id", "line"
    )
    serializer_class = ConsoleServerPortTemplateSerializer
    filterset_class = filters.ConsoleServerPortTemplateFilterSet


class DeviceViewSet(TurnupModelViewSet):
    queryset = selectors.device_list().order_by("name", "id")
    serializer_class = DeviceSerializer
    filterset_class = filters.DeviceFilterSet
    create_service = staticmethod(services.device_create)
    bulk_create_service = staticmethod(services.device_bulk_create)
    update_service = staticmethod(services.device_update)
    delete_service = staticmethod(services.device_delete)
    bulk_delete_service = staticmethod(services.device_bulk_delete)

    @extend_schema(responses=ConsolePathSerializer)
    @action(detail=True, methods=["get"], url_path="console-path")
    def console_path(self, request, pk=None):
        """How to reach this device's serial console (console server, host, line, TCP port,
        baud, method); 404 when no console port of it is cabled to a console server."""
        device = self.get_object()
        path = selectors.device_console_path(device=device)
        if path is None:
            raise NotFoundError(f"{device} has no cabled console port")
        return Response({**asdict(path), "port": path.port})


class PortViewSet(TurnupModelViewSet):
    update_service = staticmethod(services.port_update)
    bulk_update_service = staticmethod(services.port_bulk_update)
    delete_service = staticmethod(services.port_delete)
    bulk_delete_service = staticmethod(services.port_bulk_delete)


class InterfaceViewSet(PortViewSet):
    queryset = (
        selectors.interface_list()
        .prefetch_related("cable__interfaces__device")
        .order_by("device_id", "id")
    )
    serializer_class = InterfaceSerializer
    filterset_class = filters.InterfaceFilterSet
    bulk_create_service = staticmethod(services.interface_bulk_create)


class ConsolePortViewSet(PortViewSet):
    queryset = (
        selectors.console_port_list()
        .prefetch_related("cable__console_server_ports__device")
        .order_by("device_id", "id")
    )
    serializer_class = ConsolePortSerializer
    filterset_class = filters.ConsolePortFilterSet
    bulk_create_service = staticmethod(services.console_port_bulk_create)


class ConsoleServerPortViewSet(PortViewSet):
    queryset = (
        selectors.console_server_port_list()
        .prefetch_related("cable__console_ports__device")
        .order_by("device_id", "line")
    )
    serializer_class = ConsoleServerPortSerializer
    filterset_class = filters.ConsoleServerPortFilterSet
    bulk_create_service = staticmethod(services.console_server_port_bulk_create)


class CableViewSet(TurnupModelViewSet):
    queryset = selectors.cable_list().order_by("id")
    serializer_class = CableSerializer
    filterset_class = filters.CableFilterSet
    create_service = staticmethod(_cable_create)
    bulk_create_service = staticmethod(_cable_bulk_create)
    update_service = staticmethod(_cable_update)
    delete_service = staticmethod(services.cable_delete)
    bulk_delete_service = staticmethod(services.cable_bulk_delete)


class CredentialProfileViewSet(TurnupModelViewSet):
    queryset = CredentialProfile.objects.order_by("name")
    serializer_class = CredentialProfileSerializer
    filterset_class = filters.CredentialProfileFilterSet
    create_service = staticmethod(services.credential_profile_create)
    update_service = staticmethod(services.credential_profile_update)

    bulk_create_service = staticmethod(
        lambda *, items: [services.credential_profile_create(**item) for item in items]
    )


router = BulkRouter()
router.register("dcim/sites", SiteViewSet)
router.register("dcim/racks", RackViewSet)
router.register("dcim/manufacturers", ManufacturerViewSet)
router.register("dcim/device-roles", DeviceRoleViewSet)
router.register("dcim/platforms", PlatformViewSet)
router.register("dcim/device-types", DeviceTypeViewSet)
router.register("dcim/interface-templates", InterfaceTemplateViewSet)
router.register("dcim/console-port-templates", ConsolePortTemplateViewSet)
router.register("dcim/console-server-port-templates", ConsoleServerPortTemplateViewSet)
router.register("dcim/devices", DeviceViewSet)
router.register("dcim/interfaces", InterfaceViewSet)
router.register("dcim/console-ports", ConsolePortViewSet)
router.register("dcim/console-server-ports", ConsoleServerPortViewSet)
router.register("dcim/cables", CableViewSet)
router.register("dcim/credential-profiles", CredentialProfileViewSet)
urlpatterns = router.urls
