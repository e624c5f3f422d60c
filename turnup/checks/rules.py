"""The preflight rules. Each reads ``SiteData`` only (no queries) and says how to fix what
it finds."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from turnup.checks.engine import (
    ERROR,
    INFO,
    SUPPORTED_PLATFORMS,
    WARNING,
    Finding,
    SiteData,
    finding,
    network_of,
    rule,
)

# Roles on a configurable platform that route nothing (need no loopback).
SWITCH_ROLES = frozenset({"management-switch", "switch", "access-switch"})


def _label(data: SiteData, iface) -> str:
    return f"{data.device_name(iface.device_id)} {iface.name}"


def _table(address) -> str:
    return f"VRF {address.vrf.name}" if address.vrf_id else "the global table"


@rule("ip-duplicate", "Duplicate addresses in a VRF")
def duplicate_addresses(data: SiteData) -> Iterator[Finding]:
    seen: dict[tuple, list] = defaultdict(list)
    for address in [*data.addresses, *data.vrf_peers]:
        seen[(address.vrf_id, address.family, address.host)].append(address)
    for group in seen.values():
        if len(group) < 2:
            continue
        ours = [a for a in group if a.device_id in data.devices]
        for address in ours:
            others = ", ".join(
                f"{a.address} on {a.device.name if a.device_id else 'no device'}"
                for a in group
                if a is not address
            )
            yield finding(
                ERROR,
                "ip-duplicate",
                address,
                f"{address.ip} is used more than once in {_table(address)} ({others}); "
                "give one of them another address",
            )


@rule("ip-overlap", "Overlapping subnets in a VRF")
def overlapping_subnets(data: SiteData) -> Iterator[Finding]:
    by_vrf: dict[int | None, list] = defaultdict(list)
    for address in data.addresses:
        if address.mask_length in (32, 128):
            continue
        by_vrf[address.vrf_id].append((network_of(address), address))
    for entries in by_vrf.values():
        entries.sort(key=lambda e: (e[0].version, int(e[0].network_address), e[0].prefixlen))
        for i, (net, address) in enumerate(entries):
            for other_net, other in entries[i + 1 :]:
                if other_net.version != net.version:
                    continue
                if int(other_net.network_address) > int(net.broadcast_address):
                    break
                if other_net != net and net.overlaps(other_net):
                    mine = _label(data, data.interfaces[other.assigned_interface_id])
                    theirs = _label(data, data.interfaces[address.assigned_interface_id])
                    yield finding(
                        ERROR,
                        "ip-overlap",
                        other,
                        f"subnet {other_net} of {other.address} ({mine}) overlaps {net} of "
                        f"{address.address} ({theirs}); use the same subnet or separate ones",
                    )


@rule("link-subnet", "Link ends in one /31 or /30")
def link_subnets(data: SiteData) -> Iterator[Finding]:
    for a, b in data.links():
        a_ips = [x for x in data.ips_by_interface.get(a.pk, []) if x.family == 4]
        b_ips = [x for x in data.ips_by_interface.get(b.pk, []) if x.family == 4]
        if not a_ips and not b_ips:
            continue
        where = f"link {_label(data, a)} <-> {_label(data, b)}"
        if not a_ips or not b_ips:
            if network_of((a_ips or b_ips)[0]).prefixlen < 30:
                continue  # a host port on a LAN (e.g. a management switch port)
            missing = a if not a_ips else b
            yield finding(
                ERROR,
                "link-subnet",
                missing,
                f"{where}: {_label(data, missing)} has no address; give it the other "
                "address of the link's /31",
                name=_label(data, missing),
            )
            continue
        x, y = a_ips[0], b_ips[0]
        nx, ny = network_of(x), network_of(y)
        if nx != ny:
            yield finding(
                ERROR,
                "link-subnet",
                a,
                f"{where}: {x.address} and {y.address} are in different subnets; "
                "put both ends in one /31",
                name=_label(data, a),
            )
        elif nx.prefixlen not in (30, 31):
            yield finding(
                WARNING,
                "link-subnet",
                a,
                f"{where}: {nx} is a /{nx.prefixlen}; a point-to-point link uses a /31 (or /30)",
                name=_label(data, a),
            )


@rule("link-mtu", "MTU equal on both ends of a link")
def link_mtu(data: SiteData) -> Iterator[Finding]:
    for a, b in data.links():
        if a.mtu and b.mtu and a.mtu != b.mtu:
            yield finding(
                ERROR,
                "link-mtu",
                a,
                f"MTU {a.mtu} on {_label(data, a)} but {b.mtu} on {_label(data, b)}; "
                "set the same MTU on both ends",
                name=_label(data, a),
            )


@rule("console-path", "Every router has a console path")
def console_path(data: SiteData) -> Iterator[Finding]:
    server_by_cable = {p.cable_id: p for p in data.server_ports if p.cable_id}
    ports_by_device = defaultdict(list)
    for port in data.console_ports:
        ports_by_device[port.device_id].append(port)
    servers_with_address = {a.device_id for a in data.addresses if a.is_primary_mgmt}
    for device in data.routers():
        cabled = [p for p in ports_by_device[device.pk] if p.cable_id]
        if not ports_by_device[device.pk]:
            yield finding(
                ERROR,
                "console-path",
                device,
                "has no console port; add one (or fix its device type)",
            )
            continue
        if not cabled:
            yield finding(
                ERROR,
                "console-path",
                device,
                "console port is not cabled; cable it to a console-server port",
            )
            continue
        server_port = server_by_cable.get(cabled[0].cable_id)
        if server_port is None:
            yield finding(
                ERROR,
                "console-path",
                device,
                "console port is cabled to a console server outside this site; "
                "wire it to this site's console server",
            )
            continue
        server = data.devices[server_port.device_id]
        telnet = server_port.access_method == "telnet"
        if not server_port.line or (telnet and not server_port.tcp_port):
            yield finding(
                ERROR,
                "console-path",
                device,
                f"console-server port {server.name} {server_port.name} has no "
                f"{'line' if not server_port.line else 'TCP port for reverse telnet'}; set it",
            )
        if not server.console_host and server.pk not in servers_with_address:
            yield finding(
                ERROR,
                "console-path",
                device,
                f"console server {server.name} has no address to reach it; set its console "
                "host or give it a primary management address",
            )


@rule("console-line-shared", "One device per console line")
def console_line_shared(data: SiteData) -> Iterator[Finding]:
    by_cable = {p.cable_id: p for p in data.console_ports if p.cable_id}
    lines: dict[tuple, list] = defaultdict(list)
    for port in data.server_ports:
        router_port = by_cable.get(port.cable_id) if port.cable_id else None
        if router_port is None:
            continue
        server = data.devices[port.device_id]
        host = server.console_host or f"device:{server.pk}"
        lines[(host, "line", port.line)].append((port, router_port))
        if port.tcp_port:
            lines[(host, "tcp", port.tcp_port)].append((port, router_port))
    for (host, kind, number), users in lines.items():
        devices = sorted({data.device_name(rp.device_id) for _, rp in users})
        if len(devices) < 2:
            continue
        what = f"line {number}" if kind == "line" else f"TCP port {number}"
        for _port, router_port in users:
            device = data.devices[router_port.device_id]
            yield finding(
                ERROR,
                "console-line-shared",
                device,
                f"shares console {what} on {host.removeprefix('device:')} with "
                f"{', '.join(d for d in devices if d != device.name)}; move one to a free line",
            )


@rule("mgmt-address", "Every router has a management address and a loopback")
def mgmt_and_loopback(data: SiteData) -> Iterator[Finding]:
    for device in data.routers():
        addresses = data.device_addresses(device.pk)
        if not any(a.is_primary_mgmt for a in addresses):
            yield finding(
                ERROR,
                "mgmt-address",
                device,
                "has no primary management address; allocate one from the site's "
                "management prefix on its management interface",
            )
        if device.role.slug in SWITCH_ROLES:
            continue  # a switch is managed, not routed: no loopback needed
        routing = data.routing.get(device.pk)
        loopbacks = [
            a
            for a in addresses
            if a.mask_length in (32, 128)
            and (
                data.interfaces[a.assigned_interface_id].type == "virtual"
                or (
                    routing
                    and data.interfaces[a.assigned_interface_id].name == routing.loopback_interface
                )
            )
        ]
        if not loopbacks:
            yield finding(
                ERROR,
                "mgmt-address",
                device,
                "has no loopback address; add a /32 on its loopback interface",
            )


@rule("bgp-mismatch", "BGP sessions agree on both sides")
def bgp_mismatch(data: SiteData) -> Iterator[Finding]:
    asn_of = {d: r.asn.asn for d, r in data.routing.items() if r.asn_id}
    owner: dict[str, int] = {}
    for address in data.addresses:
        owner[address.ip] = address.device_id
    by_device_peer = {(s.device_id, s.peer_address): s for s in data.sessions}
    for session in data.sessions:
        me = data.devices[session.device_id]
        peer_id = session.peer_device_id or owner.get(session.peer_address)
        if peer_id is None or peer_id not in data.devices:
            continue  # an external peer: nothing to compare with
        peer = data.devices[peer_id]
        where = f"BGP session to {peer.name} ({session.peer_address})"
        if owner.get(session.peer_address) != peer_id:
            yield finding(
                ERROR,
                "bgp-mismatch",
                session,
                f"{where}: {session.peer_address} is not an address of {peer.name}; "
                "use one of its addresses",
                name=me.name,
            )
        if owner.get(session.local_address) != me.pk:
            yield finding(
                ERROR,
                "bgp-mismatch",
                session,
                f"{where}: local address {session.local_address} is not on {me.name}",
                name=me.name,
            )
        if peer_id in asn_of and session.remote_asn != asn_of[peer_id]:
            yield finding(
                ERROR,
                "bgp-mismatch",
                session,
                f"{where}: remote AS{session.remote_asn} but {peer.name} is AS{asn_of[peer_id]}",
                name=me.name,
            )
        mirror = by_device_peer.get((peer_id, session.local_address))
        if mirror is None:
            yield finding(
                ERROR,
                "bgp-mismatch",
                session,
                f"{where}: {peer.name} has no session back to {session.local_address}; "
                "add the mirror session",
                name=me.name,
            )
        elif mirror.local_address != session.peer_address:
            yield finding(
                ERROR,
                "bgp-mismatch",
                session,
                f"{where}: {peer.name} sources its session from {mirror.local_address}, "
                f"not {session.peer_address}",
                name=me.name,
            )
        kind_should = "ibgp" if asn_of.get(peer_id) == asn_of.get(me.pk) else "ebgp"
        if me.pk in asn_of and peer_id in asn_of and session.kind != kind_should:
            yield finding(
                WARNING,
                "bgp-mismatch",
                session,
                f"{where}: marked {session.kind} but the ASNs make it {kind_should}",
                name=me.name,
            )


@rule("ospf-mismatch", "OSPF area and network type agree across a link")
def ospf_mismatch(data: SiteData) -> Iterator[Finding]:
    for a, b in data.links():
        x, y = data.ospf.get(a.pk), data.ospf.get(b.pk)
        if x is None and y is None:
            continue
        where = f"link {_label(data, a)} <-> {_label(data, b)}"
        if x is None or y is None:
            without = a if x is None else b
            yield finding(
                WARNING,
                "ospf-mismatch",
                without,
                f"{where}: OSPF runs on one end only; enable it on {_label(data, without)} "
                "or disable it on the other",
                name=_label(data, without),
            )
            continue
        if ipaddress.ip_address(_dotted(x.area)) != ipaddress.ip_address(_dotted(y.area)):
            yield finding(
                ERROR,
                "ospf-mismatch",
                x,
                f"{where}: area {x.area} vs {y.area}; put both ends in one area",
                name=_label(data, a),
            )
        if x.network_type != y.network_type:
            yield finding(
                ERROR,
                "ospf-mismatch",
                x,
                f"{where}: network type {x.network_type} vs {y.network_type}; use the same",
                name=_label(data, a),
            )


def _dotted(area: str) -> str:
    return str(ipaddress.IPv4Address(int(area))) if area.isdigit() else area


@rule("platform", "turnup can configure every device")
def platform_supported(data: SiteData) -> Iterator[Finding]:
    for device in data.devices.values():
        platform = device.platform or device.device_type.default_platform
        if platform is None:
            yield finding(
                ERROR,
                "platform",
                device,
                f"has no platform (and device type {device.device_type} names none); set "
                "cisco_iosxe, juniper_junos or console_server",
            )
        elif platform.slug not in SUPPORTED_PLATFORMS:
            yield finding(
                ERROR,
                "platform",
                device,
                f"platform {platform.slug} is not one turnup can configure "
                "(cisco_iosxe, juniper_junos, console_server)",
            )


@rule("mgmt-gateway", "The management gateway is inside the management prefix")
def mgmt_gateway(data: SiteData) -> Iterator[Finding]:
    routing = data.site_routing
    if not data.routers():
        return
    if routing is None or routing.mgmt_prefix_id is None or not routing.mgmt_gateway:
        yield finding(
            WARNING if routing is None else ERROR,
            "mgmt-gateway",
            data.site,
            "has no management prefix and gateway; set them in the site's routing "
            "(routers need a default route in the management network)",
        )
        return
    network = ipaddress.ip_network(routing.mgmt_prefix.prefix)
    gateway = ipaddress.ip_address(routing.mgmt_gateway)
    if gateway not in network or gateway in (network.network_address, network.broadcast_address):
        yield finding(
            ERROR,
            "mgmt-gateway",
            routing,
            f"gateway {gateway} is not a host of the management prefix {network}; routers "
            "could not reach it - pick an address inside it",
            name=data.site.name,
        )
        return
    outside = [
        a for a in data.addresses if a.is_primary_mgmt and ipaddress.ip_address(a.ip) not in network
    ]
    for address in outside:
        yield finding(
            ERROR,
            "mgmt-gateway",
            address,
            f"management address {address.address} of {data.device_name(address.device_id)} "
            f"is outside the management prefix {network}; its gateway {gateway} is unreachable",
        )


@rule("credentials", "A credential profile for turn-up")
def credentials(data: SiteData) -> Iterator[Finding]:
    if None in data.profiles or data.site.credential_profile_id in data.profiles:
        return
    for device in data.devices.values():
        if device.credential_profile_id in data.profiles:
            continue
        yield finding(
            ERROR,
            "credentials",
            device,
            "has no credential profile (none on the device, its site, nor a default); "
            "assign one before turn-up",
        )


@rule("summary", "Design summary")
def summary(data: SiteData) -> Iterator[Finding]:
    if not data.devices:
        yield finding(INFO, "summary", data.site, "has no devices yet; instantiate a blueprint")
