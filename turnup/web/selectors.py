"""Reads shaped for the pages: rows for tables, plain data for the pictures and the exports.

Each function costs a fixed number of queries whatever the size of the site (asserted in
tests/web). Business reads (console paths, findings, configs, runs) come from the owning
app's selectors; this module only joins and reshapes them for display.
"""

from __future__ import annotations

import bisect
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, In
from django.urls import reverse

from turnup.configs import selectors as config_selectors
from turnup.configs.models import ConfigVersion
from turnup.dcim.models import (
    Cable,
    ConsolePort,
    ConsoleServerPort,
    Device,
    Interface,
    Site,
)
from turnup.dcim.selectors import ConsolePath, site_console_paths
from turnup.ipam import selectors as ipam_selectors
from turnup.ipam.models import IPAddress, Prefix
from turnup.provisioning.drivers.base import (
    CABLE_NOT_SEEN,
    CABLED_AS_DESIGNED,
    CABLED_OTHERWISE,
)
from turnup.provisioning.models import Run, Step, StepName
from turnup.provisioning.selectors import site_cabling_verdicts
from turnup.web.board import RunData, StepData
from turnup.web.elevation import RackData, RackDevice
from turnup.web.topology import TopoLink, TopoNode, natural_key

# -- sites ---------------------------------------------------------------------------------


def site_rows(*, status: str = "", region: str = "", q: str = "") -> QuerySet[Site]:
    """Sites for the list page, with device and rack counts (one query)."""
    sites = Site.objects.annotate(
        device_count=Count("devices", distinct=True),
        rack_count=Count("racks", distinct=True),
    ).order_by("name")
    if status:
        sites = sites.filter(status=status)
    if region:
        sites = sites.filter(region=region)
    if q:
        sites = sites.filter(
            Q(name__icontains=q)
            | Q(slug__icontains=q)
            | Q(facility__icontains=q)
            | Q(description__icontains=q)
        )
    return sites


def site_regions() -> list[str]:
    return list(Site.objects.exclude(region="").order_by("region").values_list("region", flat=True))


def site_counts(*, site: Site) -> dict[str, int]:
    """Numbers for the site header and its tabs (one query)."""
    counts = Site.objects.filter(pk=site.pk).aggregate(
        n_devices=Count("devices", distinct=True),
        n_racks=Count("racks", distinct=True),
        n_interfaces=Count("devices__interfaces", distinct=True),
        n_cabled=Count(
            "devices__interfaces",
            filter=Q(devices__interfaces__cable__isnull=False),
            distinct=True,
        ),
    )
    return {k.removeprefix("n_"): v or 0 for k, v in counts.items()}


# -- devices -------------------------------------------------------------------------------


def site_devices(*, site: Site) -> list[Device]:
    """The devices of a site with everything their table row shows (one query)."""
    return sorted(
        Device.objects.filter(site=site).select_related(
            "role", "platform", "device_type__manufacturer", "rack"
        ),
        key=lambda d: natural_key(d.name),
    )


def site_device_rows(*, site: Site) -> list[dict[str, Any]]:
    """Device table rows: the device, its console path and its management address."""
    devices = site_devices(site=site)
    paths = site_console_paths(site=site)
    mgmt = device_mgmt_addresses(device_ids=[d.pk for d in devices])
    return [{"device": d, "console": paths.get(d.pk), "mgmt": mgmt.get(d.pk, "")} for d in devices]


def device_mgmt_addresses(*, device_ids: list[int]) -> dict[int, str]:
    """The primary management address of each device, without its mask (one query)."""
    found = ipam_selectors.ip_address_primary_mgmt_by_device(device_ids=device_ids)
    return {device_id: address.address.split("/")[0] for device_id, address in found.items()}


# -- cabling -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CableRow:
    """One row of the cabling schedule."""

    cable_id: int
    label: str
    kind: str  # "data" | "console"
    type: str
    status: str
    length: str
    a_device: str
    a_device_id: int
    a_port: str
    a_rack: str
    b_device: str
    b_device_id: int
    b_port: str
    b_rack: str
    detail: str  # console: "line 3 · tcp 2003 · 9600"; data: the MTU when set

    def as_list(self) -> list[Any]:
        return [
            self.label or f"#{self.cable_id}",
            self.kind,
            self.type,
            self.status,
            self.a_device,
            self.a_rack,
            self.a_port,
            self.b_device,
            self.b_rack,
            self.b_port,
            self.length,
            self.detail,
        ]


CABLE_HEADERS = [
    "Cable",
    "Kind",
    "Type",
    "Status",
    "A device",
    "A rack",
    "A port",
    "B device",
    "B rack",
    "B port",
    "Length",
    "Detail",
]


def site_cable_rows(*, site: Site) -> list[CableRow]:
    """Every cable with an end at ``site``: three queries (interfaces, console ports,
    console-server ports), whatever the number of cables."""
    ends: dict[int, dict[str, Any]] = defaultdict(dict)
    cables: dict[int, Cable] = {}
    for model in (Interface, ConsolePort, ConsoleServerPort):
        rows = (
            model.objects.filter(device__site=site, cable__isnull=False)
            .select_related("device__rack", "cable")
            .order_by("cable_id", "cable_end")
        )
        for port in rows:
            end = port.cable_end or ("B" if "A" in ends[port.cable_id] else "A")
            ends[port.cable_id][end] = port
            cables[port.cable_id] = port.cable
    out: list[CableRow] = []
    for cable_id, pair in ends.items():
        a, b = pair.get("A"), pair.get("B")
        if a is None or b is None:
            a = a or b
            b = None
        cable = cables[cable_id]
        console = isinstance(a, ConsolePort | ConsoleServerPort)
        server = a if isinstance(a, ConsoleServerPort) else b
        if console and isinstance(b, ConsolePort) and isinstance(a, ConsoleServerPort):
            a, b = b, a  # the router first, the console server second
        if console and isinstance(server, ConsoleServerPort):
            detail = f"line {server.line}"
            if server.tcp_port:
                detail += f" · tcp {server.tcp_port}"
            detail += f" · {server.baud} baud · {server.access_method}"
        else:
            mtus = {p.mtu for p in (a, b) if p is not None and getattr(p, "mtu", None)}
            detail = f"mtu {'/'.join(str(m) for m in sorted(mtus))}" if mtus else ""
        length = f"{cable.length.normalize()} {cable.length_unit}" if cable.length else ""
        out.append(
            CableRow(
                cable_id=cable_id,
                label=cable.label,
                kind="console" if console else "data",
                type=cable.type,
                status=cable.status,
                length=length,
                a_device=a.device.name if a else "",
                a_device_id=a.device_id if a else 0,
                a_port=a.name if a else "",
                a_rack=a.device.rack.name if a and a.device.rack else "",
                b_device=b.device.name if b else "(other site)",
                b_device_id=b.device_id if b else 0,
                b_port=b.name if b else "",
                b_rack=b.device.rack.name if b and b.device.rack else "",
                detail=detail,
            )
        )
    out.sort(key=lambda r: (r.kind != "data", natural_key(r.a_device), natural_key(r.a_port)))
    return out


def console_rows(*, site: Site) -> list[tuple[Device, ConsolePath | None]]:
    """Every device that is not a console server, with its console path (or None)."""
    paths = site_console_paths(site=site)
    return [
        (device, paths.get(device.pk))
        for device in site_devices(site=site)
        if not (device.platform and device.platform.slug == "console_server")
        and device.role.slug != "console-server"
    ]


# -- pictures ------------------------------------------------------------------------------


def interface_subnets(*, interface_ids: list[int]) -> dict[int, str]:
    """The network (``10.1.0.0/31``) of each interface's first address (one query)."""
    out: dict[int, str] = {}
    rows = (
        IPAddress.objects.filter(assigned_interface_id__in=interface_ids)
        .order_by("assigned_interface_id", "family", "id")
        .values_list("assigned_interface_id", "address")
    )
    for interface_id, address in rows:
        if interface_id not in out:
            out[interface_id] = str(ipaddress.ip_interface(address).network)
    return out


def _cable_verdict(*verdicts: str | None) -> str:
    """One cable's LLDP verdict from what its two ends saw: cabled otherwise at either end
    wins, then as designed at either end, then not seen."""
    for verdict in (CABLED_OTHERWISE, CABLED_AS_DESIGNED, CABLE_NOT_SEEN):
        if verdict in verdicts:
            return verdict
    return ""


def site_topology(*, site: Site) -> tuple[list[TopoNode], list[TopoLink]]:
    """Nodes and links for ``topology_svg``, each cable with what the latest turn-up saw of
    it over LLDP: five queries."""
    devices = site_devices(site=site)
    mgmt = device_mgmt_addresses(device_ids=[d.pk for d in devices])
    nodes = [
        TopoNode(
            id=d.pk,
            name=d.name,
            role=d.role.slug,
            platform=d.platform.slug if d.platform else "",
            status=d.status,
            color=d.role.color,
            mgmt=mgmt.get(d.pk, ""),
            url=reverse("device-detail", args=[site.slug, d.pk]),
        )
        for d in devices
    ]
    interfaces = list(
        Interface.objects.filter(device__site=site, cable__isnull=False)
        .select_related("cable")
        .order_by("cable_id", "cable_end", "id")
    )
    subnets = interface_subnets(interface_ids=[i.pk for i in interfaces])
    by_cable: dict[int, list[Interface]] = defaultdict(list)
    for iface in interfaces:
        by_cable[iface.cable_id].append(iface)
    seen = site_cabling_verdicts(site_id=site.pk)
    links = []
    for ends in by_cable.values():
        if len(ends) != 2:
            continue
        a, b = ends
        links.append(
            TopoLink(
                a=a.device_id,
                b=b.device_id,
                a_iface=a.name,
                b_iface=b.name,
                subnet=subnets.get(a.pk) or subnets.get(b.pk, ""),
                status=a.cable.status,
                lldp=_cable_verdict(
                    seen.get((a.device_id, a.name)), seen.get((b.device_id, b.name))
                ),
            )
        )
    for path in site_console_paths(site=site).values():
        links.append(
            TopoLink(
                a=path.device_id,
                b=path.console_server_id,
                a_iface=path.console_port,
                b_iface=f"line {path.line}",
                kind="console",
                status=path.cable_status,
            )
        )
    return nodes, links


def site_rack_pictures(*, site: Site) -> tuple[list[tuple[Any, RackData]], list[Device]]:
    """Every rack of the site with its mounted devices, as ``(rack, RackData)``, and the
    devices mounted nowhere: two queries."""
    racks = list(site.racks.order_by("name"))
    mounted: dict[int, list[RackDevice]] = defaultdict(list)
    unracked = []
    for device in site_devices(site=site):
        if device.rack_id is None or device.position is None:
            unracked.append(device)
            continue
        mounted[device.rack_id].append(
            RackDevice(
                name=device.name,
                position=device.position,
                u_height=device.device_type.u_height,
                face=device.face or "front",
                full_depth=device.device_type.is_full_depth,
                role=device.role.slug,
                color=device.role.color,
                model=device.device_type.model,
                url=reverse("device-detail", args=[site.slug, device.pk]),
            )
        )
    pictures = [
        (rack, RackData(name=rack.name, u_height=rack.u_height, devices=tuple(mounted[rack.pk])))
        for rack in sorted(racks, key=lambda r: natural_key(r.name))
    ]
    return pictures, unracked


def device_detail(*, site: Site, device_id: int) -> dict[str, Any] | None:
    """One device with its ports, for the device page (five queries)."""
    device = (
        Device.objects.filter(site=site, pk=device_id)
        .select_related("role", "platform", "device_type__manufacturer", "rack")
        .first()
    )
    if device is None:
        return None
    peers = {
        row.a_port if row.a_device_id == device.pk else row.b_port: row
        for row in site_cable_rows(site=site)
        if device.pk in (row.a_device_id, row.b_device_id)
    }
    interfaces = list(
        device.interfaces.prefetch_related(
            Prefetch("ip_addresses", queryset=IPAddress.objects.select_related("vrf"))
        )
    )
    return {
        "device": device,
        "interfaces": interfaces,
        "console_ports": list(device.console_ports.all()),
        "console_server_ports": list(device.console_server_ports.all()),
        "peers": peers,
        "console": site_console_paths(site=site).get(device.pk),
    }


def site_addressing(*, site: Site) -> list[dict[str, Any]]:
    """Per device, its interfaces that carry an address or a cable, with their addresses and
    the peer at the other end: two queries plus the cabling rows' three."""
    interfaces = list(
        Interface.objects.filter(device__site=site)
        .select_related("device")
        .prefetch_related(
            Prefetch("ip_addresses", queryset=IPAddress.objects.select_related("vrf"))
        )
    )
    peers: dict[tuple[int, str], str] = {}
    for row in site_cable_rows(site=site):
        if row.kind == "data":
            peers[(row.a_device_id, row.a_port)] = f"{row.b_device} {row.b_port}"
            peers[(row.b_device_id, row.b_port)] = f"{row.a_device} {row.a_port}"
    by_device: dict[int, dict[str, Any]] = {}
    for iface in interfaces:
        addresses = list(iface.ip_addresses.all())
        if not addresses and not iface.cable_id:
            continue
        group = by_device.setdefault(iface.device_id, {"device": iface.device, "rows": []})
        group["rows"].append(
            {
                "interface": iface,
                "addresses": addresses,
                "peer": peers.get((iface.device_id, iface.name), ""),
            }
        )
    groups = sorted(by_device.values(), key=lambda g: natural_key(g["device"].name))
    for group in groups:
        group["rows"].sort(key=lambda r: natural_key(r["interface"].name))
    return groups


# -- configs -------------------------------------------------------------------------------

CONFIG_KINDS = ("bootstrap", "full")
RENDERED_PLATFORMS = ("cisco_iosxe", "juniper_junos")


def site_config_rows(*, site: Site) -> list[dict[str, Any]]:
    """Every router with its newest bootstrap and full version (three queries)."""
    routers = [
        d
        for d in site_devices(site=site)
        if d.platform is not None and d.platform.slug in RENDERED_PLATFORMS
    ]
    latest = config_selectors.config_versions_latest(device_ids=[d.pk for d in routers])
    counts: dict[tuple[int, str], int] = {
        (row["device_id"], row["kind"]): row["n"]
        for row in ConfigVersion.objects.filter(device_id__in=[d.pk for d in routers])
        .order_by()
        .values("device_id", "kind")
        .annotate(n=Count("id"))
    }
    return [
        {
            "device": device,
            "versions": {kind: latest.get((device.pk, kind)) for kind in CONFIG_KINDS},
            "counts": {kind: counts.get((device.pk, kind), 0) for kind in CONFIG_KINDS},
        }
        for device in routers
    ]


def device_config_versions(*, device: Device, kind: str) -> list[ConfigVersion]:
    """Versions of one config of one device, newest first."""
    return list(ConfigVersion.objects.filter(device=device, kind=kind).order_by("-id"))


# -- ipam ----------------------------------------------------------------------------------


def _address_index() -> dict[tuple[int | None, int], list[int]]:
    """Every address host, sorted, per (VRF, family): one query."""
    index: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for vrf_id, family, host in IPAddress.objects.order_by("vrf_id", "family", "host").values_list(
        "vrf_id", "family", "host"
    ):
        if host is not None:
            index[(vrf_id, family)].append(int(host))
    return index


def _count_between(hosts: list[int], low: int, high: int) -> int:
    return bisect.bisect_right(hosts, high) - bisect.bisect_left(hosts, low)


def prefix_tree_rows(*, vrf: str = "", site: str = "", q: str = "") -> list[dict[str, Any]]:
    """Prefixes in tree order (VRF, family, start, length) with their depth and
    utilization: a prefix with children counts the space its children cover, a leaf counts
    its addresses. Two queries whatever the number of prefixes."""
    prefixes = list(Prefix.objects.select_related("vrf", "site"))
    covered: dict[int, int] = defaultdict(int)
    has_children: set[int] = set()
    for prefix in prefixes:
        if prefix.parent_id:
            has_children.add(prefix.parent_id)
            covered[prefix.parent_id] += int(prefix.end) - int(prefix.start) + 1
    hosts = _address_index()
    children_of: dict[int, list[Prefix]] = defaultdict(list)
    for prefix in prefixes:
        if prefix.parent_id:
            children_of[prefix.parent_id].append(prefix)
    rows = []
    for prefix in prefixes:
        size = int(prefix.end) - int(prefix.start) + 1
        table = hosts.get((prefix.vrf_id, prefix.family), [])
        if prefix.pk in has_children or prefix.is_pool:
            # the space its children cover, plus addresses taken straight from it (loopbacks)
            loose = _count_between(table, int(prefix.start), int(prefix.end)) - sum(
                _count_between(table, int(c.start), int(c.end)) for c in children_of[prefix.pk]
            )
            used, total, unit = covered.get(prefix.pk, 0) + loose, size, "addresses"
        else:
            low, high = prefix.usable_range()
            total = max(int(high) - int(low) + 1, 1)
            used = _count_between(table, int(low), int(high))
            unit = "addresses"
        rows.append(
            {
                "prefix": prefix,
                "depth": prefix.depth,
                "used": used,
                "total": total,
                "unit": unit,
                "percent": min(100.0, 100.0 * used / total) if total else 0.0,
                "children": prefix.pk in has_children,
                "capacity": prefix.is_pool or prefix.pk in has_children,
            }
        )
    if vrf:
        rows = [r for r in rows if (r["prefix"].vrf.name if r["prefix"].vrf else "global") == vrf]
    if site:
        rows = [r for r in rows if r["prefix"].site and r["prefix"].site.slug == site]
    if q:
        needle = q.lower()
        rows = [
            r
            for r in rows
            if needle in r["prefix"].prefix
            or needle in r["prefix"].name.lower()
            or needle in r["prefix"].description.lower()
        ]
    return rows


def prefix_detail(*, prefix: Prefix) -> dict[str, Any]:
    """A prefix's children, addresses, free space and next free addresses."""
    children = list(Prefix.objects.filter(parent=prefix).select_related("site").order_by("start"))
    addresses = list(
        IPAddress.objects.filter(
            vrf_id=prefix.vrf_id,
            family=prefix.family,
            host__gte=prefix.start,
            host__lte=prefix.end,
        )
        .select_related("assigned_interface", "device")
        .order_by("host")[:500]
    )
    size = int(prefix.end) - int(prefix.start) + 1
    child_space = sum(int(c.end) - int(c.start) + 1 for c in children)
    return {
        "children": children,
        "addresses": addresses,
        "available_prefixes": ipam_selectors.prefix_available_prefixes(prefix=prefix)[:50],
        "next_ips": ipam_selectors.prefix_available_ips(prefix=prefix, limit=8),
        "size": size,
        "child_space": child_space,
        "child_percent": 100.0 * child_space / size if size else 0.0,
    }


# -- turn-ups ------------------------------------------------------------------------------

STEP_STATUS_FOR_BOARD = {"done": "succeeded"}


def site_runs(*, site: Site) -> list[Run]:
    """The site's runs, newest first, with their step counts (one query)."""
    return list(
        Run.objects.filter(site=site)
        .select_related("requested_by")
        .annotate(
            n_steps=Count("steps"),
            n_done=Count("steps", filter=Q(steps__status="done")),
            n_failed=Count("steps", filter=Q(steps__status="failed")),
            n_devices=Count("steps__device", distinct=True),
        )
        .order_by("-created", "-id")
    )


def run_rows(*, status: str = "") -> list[Run]:
    """Every run with its site and step counts (one query)."""
    runs = (
        Run.objects.select_related("site", "requested_by")
        .annotate(
            n_steps=Count("steps"),
            n_done=Count("steps", filter=Q(steps__status="done")),
            n_failed=Count("steps", filter=Q(steps__status="failed")),
            n_devices=Count("steps__device", distinct=True),
        )
        .order_by("-created", "-id")
    )
    if status:
        runs = runs.filter(status=status)
    return list(runs[:200])


def _console_text(path: ConsolePath | None) -> str:
    if path is None:
        return ""
    text = f"{path.console_server} line {path.line}"
    if path.tcp_port:
        text += f" · tcp {path.tcp_port}"
    return text


def run_board(*, run: Run) -> RunData:
    """A run and its steps as the board's plain data (three queries: steps, console paths,
    and the run's user)."""
    steps = list(
        Step.objects.filter(run=run)
        .select_related("device")
        .order_by("stage", "device__name", "order")
    )
    paths = site_console_paths(site=run.site)
    label = dict(StepName.choices)
    return RunData(
        id=run.pk,
        status=run.status,
        started=run.started or run.created,
        finished=run.finished,
        by=run.requested_by.username if run.requested_by else "",
        error="",
        steps=tuple(
            StepData(
                device_id=step.device_id,
                device=step.device.name,
                name=step.name,
                status=STEP_STATUS_FOR_BOARD.get(step.status, step.status),
                order=step.order,
                attempts=step.attempts,
                started=step.started,
                finished=step.finished,
                bytes_sent=step.bytes_pushed,
                bytes_total=step.bytes_total,
                baud=paths[step.device_id].baud
                if step.device_id in paths and step.name == "bootstrap"
                else 0,
                log=step.log,
                error=step.message or step.reason,
                label=label.get(step.name, ""),
                console=_console_text(paths.get(step.device_id)),
                finding=step.message.removeprefix("archived; ")
                if step.name == StepName.ARCHIVE and step.result.get("compliant") is False
                else "",
                phases=tuple(
                    (str(name), float(seconds))
                    for name, seconds in (step.phases or {}).items()
                    if isinstance(seconds, int | float)
                ),
            )
            for step in steps
        ),
    )


# -- change log ----------------------------------------------------------------------------

CHANGES_SHOWN = 200
_UNSHOWN_FIELDS = {"id", "created", "updated"}


@dataclass(frozen=True)
class ChangeRow:
    change: Any  # core.ObjectChange
    kind: str  # the object's kind ("device", "interface", …)
    device: str  # the device a port, address or routing row is on ("" for none)
    fields: list[tuple[str, str, str]]  # (field, before, after) of an update, as shown


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if value == "":
        return '""'
    return str(value)


def _logged_key(key: str, value: Any) -> Q:
    """Rows whose logged state, before or after, holds ``key`` = ``value`` (an id, or a list
    of ids). Compared as text: a value that is not a number matches nothing, it fails no
    query."""
    lookup, value = (
        (In, [str(v) for v in value]) if isinstance(value, list) else (Exact, str(value))
    )
    return Q(
        *(
            lookup(KeyTextTransform(key, side), value)
            for side in ("prechange_data", "postchange_data")
        ),
        _connector=Q.OR,
    )


def _logged_ids(values: Iterable[Any]) -> set[int]:
    """The ids among logged values (a JSON snapshot may hold anything)."""
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def _site_changes(site: Site, device: str = "") -> Q:
    """The change-log rows of ``site``'s design: the site itself, every row that names the
    site (devices, racks, prefixes, VLANs, ASNs, routing…), every row of a device ever at
    the site (ports, addresses, routing, BGP sessions; a deleted device's too, and a moved
    one's at its other site), the OSPF rows of their interfaces and the cables of their
    ports. The devices, interfaces and cables are read from the log itself (three queries).

    With ``device`` (a name), only that device's rows: the device now at the site by that
    name (under any name it had), and any device of the site logged under that name (a
    deleted one, one renamed since)."""
    from django.contrib.contenttypes.models import ContentType

    from turnup.core.models import ObjectChange

    types = ContentType.objects.get_for_models(
        Site, Device, Interface, ConsolePort, ConsoleServerPort, Cable
    )

    def logged_ids(model: type, scope: Q) -> list[int]:
        rows = ObjectChange.objects.filter(scope, changed_object_type=types[model]).order_by()
        return list(rows.values_list("changed_object_id", flat=True).distinct())

    if device:
        now = Device.objects.filter(site=site, name=device).values("pk")
        named = Q(changed_object_id__in=now) | Q(object_repr=device)
        devices = logged_ids(Device, _logged_key("site_id", site.pk) & named)
        found = Q(changed_object_type=types[Device], changed_object_id__in=devices)
    else:
        devices = logged_ids(Device, _logged_key("site_id", site.pk))
        found = Q(changed_object_type=types[Site], changed_object_id=site.pk) | _logged_key(
            "site_id", site.pk
        )
    if not devices:
        return found
    found |= _logged_key("device_id", devices)
    interfaces = logged_ids(Interface, _logged_key("device_id", devices))
    if interfaces:
        found |= _logged_key("interface_id", interfaces)
    ports = ObjectChange.objects.filter(
        _logged_key("device_id", devices),
        changed_object_type__in=[types[m] for m in (Interface, ConsolePort, ConsoleServerPort)],
    ).order_by()
    cables = _logged_ids(
        value
        for pair in ports.values_list("prechange_data__cable_id", "postchange_data__cable_id")
        for value in pair
    )
    if cables:
        found |= Q(changed_object_type=types[Cable], changed_object_id__in=sorted(cables))
    return found


def change_rows(
    *,
    site: Site | None = None,
    device: str = "",
    action: str = "",
    kind: str = "",
    q: str = "",
) -> list[ChangeRow]:
    """The newest change-log rows (``CHANGES_SHOWN``), of one site's design (or of one of
    its devices) or of all, with what each update changed and the device a row is on (a
    deleted one by the name it was logged under): three queries whatever the number of rows
    (six for a site)."""
    from turnup.core.models import ObjectChange

    changes = ObjectChange.objects.select_related("changed_object_type").order_by("-time", "-pk")
    if site is not None:
        changes = changes.filter(_site_changes(site, device))
    if action:
        changes = changes.filter(action=action)
    if kind:
        changes = changes.filter(changed_object_type__model=kind)
    if q:
        changes = changes.filter(
            Q(object_repr__icontains=q) | Q(user_name__icontains=q) | Q(request_id=q)
        )
    shown = list(changes[:CHANGES_SHOWN])

    def device_of(change) -> int | None:
        if change.changed_object_type.model == "device":
            return None
        ids = _logged_ids(
            (data or {}).get("device_id")
            for data in (change.postchange_data, change.prechange_data)
            if isinstance(data, dict)
        )
        return min(ids) if ids else None

    device_ids = {pk for pk in map(device_of, shown) if pk is not None}
    names = dict(Device.objects.filter(pk__in=device_ids).values_list("pk", "name"))
    gone = sorted(device_ids - set(names))
    if gone:  # deleted devices: the name of their newest log row
        logged = ObjectChange.objects.filter(
            changed_object_type__model="device",
            changed_object_type__app_label="dcim",
            changed_object_id__in=gone,
        ).order_by("changed_object_id", "-time", "-pk")
        for pk, name in logged.values_list("changed_object_id", "object_repr"):
            names.setdefault(pk, name)
    rows = []
    for change in shown:
        before, after = change.prechange_data, change.postchange_data
        fields = []
        if isinstance(before, dict) and isinstance(after, dict):
            fields = [
                (name, _shown(before.get(name)), _shown(after.get(name)))
                for name in after
                if name not in _UNSHOWN_FIELDS and before.get(name) != after.get(name)
            ]
        device_id = device_of(change)
        device = names.get(device_id, f"device #{device_id}") if device_id else ""
        rows.append(ChangeRow(change, change.changed_object_type.model, device, fields))
    return rows


def change_kinds() -> list[tuple[str, str]]:
    """The kinds of object the change log holds (filter choices): (model, verbose name)."""
    from django.contrib.contenttypes.models import ContentType

    from turnup.core.models import ObjectChange

    logged = ObjectChange.objects.values("changed_object_type").distinct()
    kinds = ContentType.objects.filter(pk__in=logged).order_by("model")
    return [(kind.model, kind.name) for kind in kinds]
