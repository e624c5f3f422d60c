"""The preflight rule engine: load one site's design once (a fixed number of queries), run
every rule over it, return findings.

A rule is a function ``rule(data: SiteData) -> Iterable[Finding]`` registered with
``@rule(code, title)``; rules never query the database themselves, so adding a rule never
adds queries per device.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Q

from turnup.dcim.models import (
    ConsolePort,
    ConsoleServerPort,
    CredentialProfile,
    Device,
    Interface,
    Site,
)
from turnup.ipam.models import IPAddress
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, SiteRouting

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
ROUTER_PLATFORMS = frozenset({"cisco_iosxe", "juniper_junos"})
SUPPORTED_PLATFORMS = ROUTER_PLATFORMS | {"console_server"}


@dataclass(frozen=True)
class Finding:
    """One problem in a design: how bad, which rule, which object, and how to fix it."""

    severity: str
    rule: str
    object_type: str
    object_id: int | None
    object_name: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.severity}: {self.object_name}: {self.message} [{self.rule}]"


@dataclass
class SiteData:
    """Everything the rules read about one site, loaded up front."""

    site: Site
    devices: dict[int, Device]
    interfaces: dict[int, Interface]
    console_ports: list[ConsolePort]
    server_ports: list[ConsoleServerPort]
    addresses: list[IPAddress]  # on this site's interfaces
    vrf_peers: list[IPAddress]  # other addresses that share a host with this site's
    routing: dict[int, DeviceRouting]
    ospf: dict[int, OSPFInterface]
    sessions: list[BGPSession]
    site_routing: SiteRouting | None
    profiles: dict[Any, CredentialProfile]
    ips_by_interface: dict[int, list[IPAddress]] = field(default_factory=dict)
    peer_of: dict[int, int] = field(default_factory=dict)  # interface id -> cabled interface id

    def device_name(self, device_id: int) -> str:
        device = self.devices.get(device_id)
        return device.name if device else f"device #{device_id}"

    def is_router(self, device: Device) -> bool:
        return device.platform is not None and device.platform.slug in ROUTER_PLATFORMS

    def routers(self) -> list[Device]:
        return [d for d in self.devices.values() if self.is_router(d)]

    def device_addresses(self, device_id: int) -> list[IPAddress]:
        return [a for a in self.addresses if a.device_id == device_id]

    def links(self) -> list[tuple[Interface, Interface]]:
        seen, out = set(), []
        for a_id, b_id in self.peer_of.items():
            key = frozenset((a_id, b_id))
            if key in seen:
                continue
            seen.add(key)
            out.append((self.interfaces[a_id], self.interfaces[b_id]))
        return sorted(out, key=lambda pair: pair[0].pk)


def site_data_load(*, site: Site) -> SiteData:
    """Load a site's design in a fixed number of queries (11, whatever its size)."""
    devices = {
        d.pk: d
        for d in Device.objects.filter(site=site).select_related(
            "device_type", "platform", "role", "device_type__default_platform"
        )
    }
    ids = list(devices)
    interfaces = {i.pk: i for i in Interface.objects.filter(device_id__in=ids)}
    console_ports = list(ConsolePort.objects.filter(device_id__in=ids))
    server_ports = list(ConsoleServerPort.objects.filter(device_id__in=ids))
    addresses = list(
        IPAddress.objects.filter(assigned_interface__device_id__in=ids).select_related("vrf")
    )
    keys = {(a.vrf_id, a.family, a.host) for a in addresses}
    vrf_peers = (
        [
            other
            for other in IPAddress.objects.filter(host__in={a.host for a in addresses})
            .exclude(pk__in=[a.pk for a in addresses])
            .select_related("device", "vrf")
            if (other.vrf_id, other.family, other.host) in keys
        ]
        if addresses
        else []
    )
    routing = {
        r.device_id: r
        for r in DeviceRouting.objects.filter(device_id__in=ids).select_related("asn")
    }
    ospf = {o.interface_id: o for o in OSPFInterface.objects.filter(interface__device_id__in=ids)}
    sessions = list(BGPSession.objects.filter(device_id__in=ids))
    site_routing = SiteRouting.objects.filter(site=site).select_related("mgmt_prefix").first()
    profile_ids = {d.credential_profile_id for d in devices.values()} | {site.credential_profile_id}
    profiles: dict[Any, CredentialProfile] = {}
    for profile in CredentialProfile.objects.filter(
        Q(pk__in=[p for p in profile_ids if p]) | Q(is_default=True)
    ).only("id", "name", "is_default"):
        profiles[profile.pk] = profile
        if profile.is_default:
            profiles[None] = profile
    data = SiteData(
        site=site,
        devices=devices,
        interfaces=interfaces,
        console_ports=console_ports,
        server_ports=server_ports,
        addresses=addresses,
        vrf_peers=vrf_peers,
        routing=routing,
        ospf=ospf,
        sessions=sessions,
        site_routing=site_routing,
        profiles=profiles,
    )
    by_iface: dict[int, list[IPAddress]] = defaultdict(list)
    for address in addresses:
        by_iface[address.assigned_interface_id].append(address)
    data.ips_by_interface = dict(by_iface)
    by_cable: dict[int, list[int]] = defaultdict(list)
    for iface in interfaces.values():
        if iface.cable_id:
            by_cable[iface.cable_id].append(iface.pk)
    for ends in by_cable.values():
        if len(ends) == 2:
            data.peer_of[ends[0]] = ends[1]
            data.peer_of[ends[1]] = ends[0]
    return data


# -- the registry ----------------------------------------------------------------------------
Rule = Callable[[SiteData], Iterable[Finding]]
RULES: dict[str, tuple[str, Rule]] = {}


def rule(code: str, title: str) -> Callable[[Rule], Rule]:
    """Register a rule under ``code`` (used in findings and to run one rule alone)."""

    def register(function: Rule) -> Rule:
        RULES[code] = (title, function)
        return function

    return register


def site_findings(*, site: Site, rules: Iterable[str] | None = None) -> list[Finding]:
    """Run the rules (all by default) over ``site``; errors first, then by object."""
    from turnup.checks import rules as _rules  # noqa: F401 - registers the rules

    data = site_data_load(site=site)
    selected = list(rules) if rules is not None else list(RULES)
    findings = [f for code in selected for f in RULES[code][1](data)]
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.object_name, f.rule))


def finding(
    severity: str, code: str, obj: Any, message: str, *, name: str | None = None
) -> Finding:
    """A finding about a model instance (its type, id and name are taken from it)."""
    object_type = f"{obj._meta.app_label}.{obj._meta.model_name}" if obj is not None else ""
    return Finding(
        severity=severity,
        rule=code,
        object_type=object_type,
        object_id=obj.pk if obj is not None else None,
        object_name=name or str(obj),
        message=message,
    )


def network_of(address: IPAddress) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_interface(address.address).network
