"""A lab from a site's design: the seam between the source of truth and the lab.

``site_lab_config(site=...)`` turns a site's console cabling (dcim's ``site_console_paths``)
into the same dict a YAML lab file gives, so ``turnup lab start --site LON-01`` wires every
router to the console-server line the design says, on the port the design says, and cables
its routers to each other as the design does (``links``). Reads go through dcim's selectors
only.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from turnup.dcim import selectors as dcim

LAB_PLATFORMS = {"cisco_iosxe", "juniper_junos"}


def _loopback(host: str) -> str:
    """Console-server hosts outside 127/8 cannot be bound on a laptop: use 127.0.0.1."""
    try:
        if ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8"):
            return host
    except ValueError:
        if host == "localhost":
            return "127.0.0.1"
    return "127.0.0.1"


def _links(*, site, device_ids: set[int]) -> list[dict[str, str]]:
    """The site's cables between two interfaces of the given devices, A end first (four
    queries, whatever the number of cables)."""
    links = []
    for cable in dcim.cable_list().filter(interfaces__device__site=site).distinct():
        ends = sorted(cable.interfaces.all(), key=lambda end: end.cable_end)
        if len(ends) == 2 and all(end.device_id in device_ids for end in ends):
            a, b = (f"{end.device.name} {end.name}" for end in ends)
            links.append({"a": a, "b": b})
    return links


def site_lab_config(*, site, time_scale: float = 1.0) -> dict[str, Any]:
    """The lab-file dict for ``site``: one console server per console server of the design,
    one line per cabled console port, one router per device on a lab platform, one link per
    cable between two of those routers."""
    paths = dcim.site_console_paths(site=site)
    devices = {
        d.pk: d
        for d in dcim.device_list().filter(site=site).select_related("platform", "device_type")
    }
    interfaces: dict[int, list[str]] = {}
    rows = dcim.interface_list().filter(device__site=site).values_list("device_id", "name")
    for device_id, name in rows:
        interfaces.setdefault(device_id, []).append(name)
    credentials = dcim.site_device_credentials(site=site)
    servers: dict[int, dict[str, Any]] = {}
    routers = []
    router_ids: set[int] = set()
    for device_id, path in sorted(paths.items(), key=lambda item: item[1].device_name):
        device = devices.get(device_id)
        platform = device.platform.slug if device and device.platform else ""
        if platform not in LAB_PLATFORMS:
            continue
        server = servers.setdefault(
            path.console_server_id,
            {
                "name": path.console_server,
                "host": _loopback(path.host),
                "telnet_base": 0,
                "ssh_port": None,
                "lines": {},
            },
        )
        creds = credentials.get(device_id)
        if creds is not None and creds.console_username and "username" not in server:
            server["username"] = creds.console_username
            server["password"] = creds.console_password
        line: dict[str, Any] = {"router": device.name, "baud": path.baud or 9600}
        if path.method == "ssh":
            line["ssh_port"] = path.port  # the server's SSH port, or the line's own
        else:
            line["telnet_port"] = path.port
        server["lines"][path.line] = line
        router_ids.add(device_id)
        routers.append(
            {
                "name": device.name,
                "platform": platform,
                "model": device.device_type.model if device.device_type_id else "",
                "serial": device.serial,
                "interfaces": sorted(interfaces.get(device_id, [])),
            }
        )
    return {
        "name": site.name,
        "time_scale": time_scale,
        "console_servers": list(servers.values()),
        "routers": routers,
        "links": _links(site=site, device_ids=router_ids),
    }
