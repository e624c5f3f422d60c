"""A lab from a site's design: the seam between the source of truth and the lab.

``site_lab_config(site=...)`` turns a site's console cabling (dcim's ``site_console_paths``)
into the same dict a YAML lab file gives, so ``turnup lab start --site LON-01`` wires every
router to the console-server line the design says, on the port the design says. Reads go
through dcim's selectors only.
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


def site_lab_config(*, site, time_scale: float = 1.0) -> dict[str, Any]:
    """The lab-file dict for ``site``: one console server per console server of the design,
    one line per cabled console port, one router per device on a lab platform."""
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
            server["ssh_port"] = path.port
        else:
            line["telnet_port"] = path.port
        server["lines"][path.line] = line
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
    }
