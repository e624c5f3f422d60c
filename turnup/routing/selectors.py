"""Reads of the routing design, each a constant number of queries for a whole site.

What the config templates and the checks read:
- ``site_routing_get(site_id=)`` -> SiteRouting | None (mgmt prefix, gateway, VRF)
- ``device_routing_by_device(device_ids=)`` -> {device_id: DeviceRouting} (router id, ASN)
- ``ospf_interfaces_by_interface(device_ids=)`` -> {interface_id: OSPFInterface}
- ``bgp_sessions_by_device(device_ids=)`` -> {device_id: [BGPSession, …]}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, SiteRouting


def site_routing_get(*, site_id: int) -> SiteRouting | None:
    return SiteRouting.objects.select_related("mgmt_prefix").filter(site_id=site_id).first()


def device_routing_by_device(*, device_ids: Iterable[int]) -> dict[int, DeviceRouting]:
    rows = DeviceRouting.objects.select_related("asn").filter(device_id__in=list(device_ids))
    return {row.device_id: row for row in rows}


def ospf_interfaces_by_interface(*, device_ids: Iterable[int]) -> dict[int, OSPFInterface]:
    rows = OSPFInterface.objects.filter(interface__device_id__in=list(device_ids))
    return {row.interface_id: row for row in rows}


def bgp_sessions_by_device(*, device_ids: Iterable[int]) -> dict[int, list[BGPSession]]:
    out: dict[int, list[BGPSession]] = defaultdict(list)
    rows = BGPSession.objects.select_related("peer_device").filter(device_id__in=list(device_ids))
    for row in rows:
        out[row.device_id].append(row)
    return dict(out)
