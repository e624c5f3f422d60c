"""Admin of the routing design."""

from django.contrib import admin

from turnup.core.admin import ChangeLoggedAdmin
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, SiteRouting


@admin.register(SiteRouting)
class SiteRoutingAdmin(ChangeLoggedAdmin):
    list_display = ("site", "mgmt_prefix", "mgmt_gateway", "mgmt_vrf")
    search_fields = ("site__name",)
    raw_id_fields = ("site", "mgmt_prefix")


@admin.register(DeviceRouting)
class DeviceRoutingAdmin(ChangeLoggedAdmin):
    list_display = ("device", "router_id", "asn", "ospf_process", "loopback_interface")
    list_select_related = ("device", "asn")
    search_fields = ("device__name", "router_id")
    raw_id_fields = ("device", "asn")


@admin.register(OSPFInterface)
class OSPFInterfaceAdmin(ChangeLoggedAdmin):
    list_display = ("interface", "device", "area", "network_type", "cost", "passive")
    list_filter = ("area", "network_type", "passive")
    list_select_related = ("interface__device",)
    search_fields = ("interface__name", "interface__device__name")
    raw_id_fields = ("interface",)

    @admin.display(ordering="interface__device__name")
    def device(self, obj):
        return obj.interface.device


@admin.register(BGPSession)
class BGPSessionAdmin(ChangeLoggedAdmin):
    list_display = ("device", "kind", "local_address", "peer_address", "remote_asn", "peer_device")
    list_filter = ("kind",)
    list_select_related = ("device", "peer_device")
    search_fields = ("device__name", "peer_address", "description")
    raw_id_fields = ("device", "peer_device")
