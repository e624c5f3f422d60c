"""Export a whole site design as one document, in a fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from turnup.dcim.models import Cable, ConsolePort, ConsoleServerPort, Device, Interface, Site
from turnup.ipam.models import IPAddress, Prefix

DOCUMENT_KIND = "turnup/site-design/v1"

PORT_KINDS = (
    ("interface", Interface, "interfaces"),
    ("console_port", ConsolePort, "console_ports"),
    ("console_server_port", ConsoleServerPort, "console_server_ports"),
)


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in ("", None, [], {})}


def site_document_export(*, site: Site) -> dict[str, Any]:
    """The design of ``site`` (site, racks, devices with their ports, cables with their ends,
    console wiring, prefixes and addresses) as plain data for ``yaml.safe_dump``."""
    devices = list(
        Device.objects.filter(site=site)
        .select_related("rack", "role", "device_type", "platform")
        .prefetch_related(
            Prefetch("interfaces", queryset=Interface.objects.order_by("id")),
            Prefetch("console_ports", queryset=ConsolePort.objects.order_by("id")),
            Prefetch("console_server_ports", queryset=ConsoleServerPort.objects.order_by("id")),
        )
        .order_by("name")
    )
    ends: dict[int, dict[str, dict[str, str]]] = {}
    for device in devices:
        for kind, _model, attr in PORT_KINDS:
            for port in getattr(device, attr).all():
                if port.cable_id:
                    side = "a" if port.cable_end == "A" else "b"
                    ends.setdefault(port.cable_id, {})[side] = {
                        "device": device.name,
                        kind: port.name,
                    }
    cables = Cable.objects.filter(pk__in=ends).order_by("id")
    addresses = (
        IPAddress.objects.filter(device__site=site)
        .select_related("vrf", "assigned_interface__device")
        .order_by("id")
    )
    prefixes = Prefix.objects.filter(site=site).select_related("vrf").order_by("id")
    return {
        "kind": DOCUMENT_KIND,
        "site": _drop_empty(
            {
                "name": site.name,
                "slug": site.slug,
                "status": site.status,
                "region": site.region,
                "facility": site.facility,
                "time_zone": site.time_zone,
                "physical_address": site.physical_address,
                "description": site.description,
            }
        ),
        "racks": [
            _drop_empty({"name": r.name, "u_height": r.u_height, "description": r.description})
            for r in site.racks.order_by("name")
        ],
        "devices": [_device_data(device) for device in devices],
        "cables": [
            _drop_empty(
                {
                    "a": ends[cable.pk].get("a"),
                    "b": ends[cable.pk].get("b"),
                    "status": cable.status,
                    "type": cable.type,
                    "label": cable.label,
                }
            )
            for cable in cables
        ],
        "prefixes": [
            _drop_empty(
                {
                    "prefix": p.prefix,
                    "vrf": p.vrf.name if p.vrf else None,
                    "name": p.name,
                    "status": p.status,
                    "role": p.role,
                    "is_pool": p.is_pool or None,
                    "description": p.description,
                }
            )
            for p in prefixes
        ],
        "ip_addresses": [
            _drop_empty(
                {
                    "address": a.address,
                    "vrf": a.vrf.name if a.vrf else None,
                    "device": a.assigned_interface.device.name if a.assigned_interface else None,
                    "interface": a.assigned_interface.name if a.assigned_interface else None,
                    "role": a.role,
                    "status": a.status,
                    "is_primary_mgmt": a.is_primary_mgmt or None,
                    "dns_name": a.dns_name,
                }
            )
            for a in addresses
        ],
    }


def _device_data(device: Device) -> dict[str, Any]:
    return _drop_empty(
        {
            "name": device.name,
            "role": device.role.slug,
            "device_type": device.device_type.slug,
            "platform": device.platform.slug if device.platform else None,
            "rack": device.rack.name if device.rack else None,
            "position": device.position,
            "face": device.face,
            "serial": device.serial,
            "status": device.status,
            "console_host": device.console_host,
            "interfaces": [
                _drop_empty(
                    {
                        "name": i.name,
                        "type": i.type,
                        "enabled": None if i.enabled else False,
                        "mtu": i.mtu,
                        "mgmt_only": i.mgmt_only or None,
                        "description": i.description,
                    }
                )
                for i in device.interfaces.all()
            ],
            "console_ports": [{"name": p.name} for p in device.console_ports.all()],
            "console_server_ports": [
                _drop_empty(
                    {
                        "name": p.name,
                        "line": p.line,
                        "tcp_port": p.tcp_port,
                        "baud": p.baud,
                        "access_method": p.access_method,
                    }
                )
                for p in device.console_server_ports.all()
            ],
        }
    )
