"""REST API of the routing design: ``/api/routing/…`` (site routing, device routing, OSPF
interfaces, BGP sessions), with ``?site_id=`` and ``?device_id=`` filters."""

from __future__ import annotations

from turnup.core.api import BriefModelSerializer, BulkRouter, TurnupModelViewSet
from turnup.core.filters import SearchFilterSet, ids
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, SiteRouting


class SiteRoutingSerializer(BriefModelSerializer):
    class Meta:
        model = SiteRouting
        fields = ("id", "url", "display", "site", "mgmt_prefix", "mgmt_gateway", "mgmt_vrf")
        brief_fields = ("id", "url", "display", "site")


class DeviceRoutingSerializer(BriefModelSerializer):
    class Meta:
        model = DeviceRouting
        fields = (
            "id",
            "url",
            "display",
            "device",
            "router_id",
            "asn",
            "ospf_process",
            "ospf_reference_bandwidth",
            "loopback_interface",
        )
        brief_fields = ("id", "url", "display", "device", "router_id")


class OSPFInterfaceSerializer(BriefModelSerializer):
    class Meta:
        model = OSPFInterface
        fields = ("id", "url", "display", "interface", "area", "network_type", "cost", "passive")
        brief_fields = ("id", "url", "display", "interface", "area")


class BGPSessionSerializer(BriefModelSerializer):
    class Meta:
        model = BGPSession
        fields = (
            "id",
            "url",
            "display",
            "device",
            "kind",
            "local_address",
            "peer_address",
            "remote_asn",
            "peer_device",
            "update_source",
            "route_reflector_client",
            "description",
        )
        brief_fields = ("id", "url", "display", "device", "peer_address", "remote_asn")


class SiteRoutingFilterSet(SearchFilterSet):
    site_id = ids("site_id")

    class Meta:
        model = SiteRouting
        fields = ("site_id",)
        search_fields = ("site__name",)


class DeviceRoutingFilterSet(SearchFilterSet):
    device_id = ids("device_id")
    site_id = ids("device__site_id")

    class Meta:
        model = DeviceRouting
        fields = ("device_id", "site_id")
        search_fields = ("device__name", "router_id")


class OSPFInterfaceFilterSet(SearchFilterSet):
    device_id = ids("interface__device_id")
    site_id = ids("interface__device__site_id")

    class Meta:
        model = OSPFInterface
        fields = ("device_id", "site_id", "area", "network_type")
        search_fields = ("interface__name", "interface__device__name")


class BGPSessionFilterSet(SearchFilterSet):
    device_id = ids("device_id")
    site_id = ids("device__site_id")

    class Meta:
        model = BGPSession
        fields = ("device_id", "site_id", "kind", "remote_asn")
        search_fields = ("device__name", "peer_address", "description")


class SiteRoutingViewSet(TurnupModelViewSet):
    queryset = SiteRouting.objects.select_related("site")
    serializer_class = SiteRoutingSerializer
    filterset_class = SiteRoutingFilterSet


class DeviceRoutingViewSet(TurnupModelViewSet):
    queryset = DeviceRouting.objects.select_related("device")
    serializer_class = DeviceRoutingSerializer
    filterset_class = DeviceRoutingFilterSet


class OSPFInterfaceViewSet(TurnupModelViewSet):
    queryset = OSPFInterface.objects.select_related("interface")
    serializer_class = OSPFInterfaceSerializer
    filterset_class = OSPFInterfaceFilterSet


class BGPSessionViewSet(TurnupModelViewSet):
    queryset = BGPSession.objects.select_related("device")
    serializer_class = BGPSessionSerializer
    filterset_class = BGPSessionFilterSet


router = BulkRouter()
router.register("routing/site-routing", SiteRoutingViewSet)
router.register("routing/device-routing", DeviceRoutingViewSet)
router.register("routing/ospf-interfaces", OSPFInterfaceViewSet)
router.register("routing/bgp-sessions", BGPSessionViewSet)
urlpatterns = router.urls
