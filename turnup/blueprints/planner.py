"""The planner: what a blueprint design would create, change or leave at a site, and the
writes that make it so.

``SitePlanner(design).plan()`` reads the site's current state with a fixed number of queries
and computes the plan without writing. ``apply()`` performs it in bulk: devices with their
ports, cables, console wiring, then every allocation through ipam's allocators (one call per
pool, ``count=`` many), then the routing rows. The caller holds the transaction; any error
(an exhausted pool) rolls everything back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.text import slugify

from turnup.blueprints import addressing
from turnup.blueprints.design import BlueprintInvalid, Design, LinkEnd
from turnup.blueprints.devicetypes import device_types_ensure, shipped_device_types, template_rows
from turnup.blueprints.models import Blueprint, BlueprintInstance
from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.errors import ConflictError
from turnup.core.services import bulk_validate
from turnup.dcim import services as dcim_services
from turnup.dcim.choices import InterfaceType
from turnup.dcim.models import (
    ConsolePort,
    ConsoleServerPort,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    Platform,
    Site,
)
from turnup.routing.choices import OSPFNetworkType
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface

ROUTER_PLATFORMS = ("cisco_iosxe", "juniper_junos")
PENDING = "(to allocate)"
NETWORK_TYPES = {"p2p": OSPFNetworkType.POINT_TO_POINT, "broadcast": OSPFNetworkType.BROADCAST}


@dataclass
class PlanItem:
    """One line of a plan: ``action`` create / change / leave on one object."""

    action: str
    kind: str
    name: str
    detail: str = ""
    changes: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class Plan:
    blueprint: str
    version: int
    site: str
    params: dict[str, Any]
    items: list[PlanItem] = field(default_factory=list)
    applied: bool = False

    def add(self, action: str, kind: str, name: str, detail: str = "", **changes: Any) -> None:
        self.items.append(PlanItem(action, kind, name, detail, changes))

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "change": 0, "leave": 0}
        for item in self.items:
            counts[item.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(item.action != "leave" for item in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {
            "blueprint": self.blueprint,
            "version": self.version,
            "site": self.site,
            "params": self.params,
            "applied": self.applied,
            "counts": self.counts,
            "items": [asdict(item) for item in self.items],
        }


@dataclass
class Port:
    """An interface as the planner sees it: existing (``row``) or still a template."""

    device: str
    name: str
    type: str
    mgmt_only: bool = False
    mtu: int | None = None
    cable_id: int | None = None
    row: Interface | None = None


class SitePlanner:
    """Plans (and applies) one design at one site."""

    def __init__(self, design: Design, blueprint: Blueprint | None = None) -> None:
        self.design = design
        self.blueprint = blueprint
        self.plan_ = Plan(design.blueprint, design.version, design.site, design.params)
        self.errors: list[str] = []

    # -- reading the current state ---------------------------------------------------------
    def _load(self) -> None:
        d = self.design
        self.site = Site.objects.filter(name=d.site).first()
        devices = []
        if self.site is not None:
            devices = list(
                Device.objects.filter(site=self.site).select_related(
                    "device_type", "role", "platform"
                )
            )
        self.devices: dict[str, Device] = {dev.name: dev for dev in devices}
        ids = [dev.pk for dev in devices]
        self.ports: dict[str, list[Port]] = defaultdict(list)
        self.cable_ends: dict[int, list[Port]] = defaultdict(list)
        self.ifaces_by_pk: dict[int, Port] = {}
        for row in Interface.objects.filter(device_id__in=ids).order_by("device_id", "id"):
            port = Port(
                device="",
                name=row.name,
                type=row.type,
                mgmt_only=row.mgmt_only,
                mtu=row.mtu,
                cable_id=row.cable_id,
                row=row,
            )
            self.ifaces_by_pk[row.pk] = port
        name_of = {dev.pk: dev.name for dev in devices}
        for port in self.ifaces_by_pk.values():
            port.device = name_of[port.row.device_id]
            self.ports[port.device].append(port)
            if port.cable_id:
                self.cable_ends[port.cable_id].append(port)
        self.console_ports: dict[str, list[ConsolePort]] = defaultdict(list)
        for row in ConsolePort.objects.filter(device_id__in=ids).order_by("device_id", "id"):
            self.console_ports[name_of[row.device_id]].append(row)
        self.server_ports: dict[str, list[ConsoleServerPort]] = defaultdict(list)
        for row in ConsoleServerPort.objects.filter(device_id__in=ids).order_by(
            "device_id", "line"
        ):
            self.server_ports[name_of[row.device_id]].append(row)
        self.server_port_by_cable = {
            p.cable_id: (name, p)
            for name, ps in self.server_ports.items()
            for p in ps
            if p.cable_id
        }
        self.name_of = name_of

        wanted_types = {spec.device_type for spec in d.devices}
        self.types = {t.slug: t for t in DeviceType.objects.filter(slug__in=wanted_types)}
        self.type_templates: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for slug in wanted_types:
            if slug in self.types:
                continue
            if slug in shipped_device_types():
                self.type_templates[slug] = template_rows(shipped_device_types()[slug])
            else:
                self.errors.append(f'slots: device type "{slug}" does not exist')
        self._load_existing_templates()
        self.roles = {
            r.slug: r for r in DeviceRole.objects.filter(slug__in={s.role for s in d.devices})
        }
        self.platforms = {
            p.slug: p for p in Platform.objects.filter(slug__in={s.platform for s in d.devices})
        }
        for spec in d.devices:
            if spec.platform not in self.platforms:
                self.errors.append(f'slots: platform "{spec.platform}" does not exist')
        self.device_routing = {
            r.device_id: r
            for r in DeviceRouting.objects.filter(device_id__in=ids).select_related("asn")
        }
        self.addresses = addressing.SiteAddressing(
            self.design, self.site, self.ifaces_by_pk, self.device_routing
        )
        self.ospf = {
            o.interface_id: o for o in OSPFInterface.objects.filter(interface__device_id__in=ids)
        }
        self.bgp = {
            (s.device_id, s.peer_address): s for s in BGPSession.objects.filter(device_id__in=ids)
        }
        self.instance = (
            BlueprintInstance.objects.filter(site=self.site).first() if self.site else None
        )

    def _load_existing_templates(self) -> None:
        from turnup.dcim.models import InterfaceTemplate

        type_ids = {t.pk: slug for slug, t in self.types.items()}
        rows: dict[str, dict[str, list]] = {
            slug: {"interfaces": [], "console_ports": [], "server_ports": []} for slug in self.types
        }
        if type_ids:
            for t in InterfaceTemplate.objects.filter(device_type_id__in=type_ids).order_by("id"):
                rows[type_ids[t.device_type_id]]["interfaces"].append(
                    {"name": t.name, "type": t.type, "mgmt_only": t.mgmt_only}
                )
        self.type_templates.update(rows)

    # -- planning --------------------------------------------------------------------------
    def plan(self) -> Plan:
        self._load()
        self._check_owner()
        if self.errors:  # a device type or platform that does not exist: nothing to plan
            raise BlueprintInvalid(self.errors, "The blueprint cannot be applied to this site")
        self._plan_site()
        self._plan_devices()
        self._plan_links()
        self._plan_console()
        if self.errors:
            raise BlueprintInvalid(self.errors, "The blueprint cannot be applied to this site")
        self.addresses.plan(self)
        if self.addresses.errors:
            raise BlueprintInvalid(self.addresses.errors, "Addressing cannot be planned")
        self._plan_routing(self.addresses.known)
        self._plan_instance()
        return self.plan_

    def _check_owner(self) -> None:
        """A site built from one blueprint takes no other: each would own half of its
        design, and re-running either would undo the other's changes."""
        instance = self.instance
        if instance is None or self.blueprint is None or instance.blueprint_id == self.blueprint.pk:
            return
        other = Blueprint.objects.filter(pk=instance.blueprint_id).values_list("name", flat=True)
        other_name = other.first() or "another blueprint"
        raise ConflictError(
            f"Site {self.site} was built from blueprint {other_name}: it cannot take "
            f"{self.blueprint.name} as well (each would own half of its design). Instantiate "
            f"{other_name} again to change it, or build a new site from {self.blueprint.name}",
            extra={"site": self.site.name, "blueprint": other_name},
        )

    def _plan_site(self) -> None:
        region = self.design.params.get("region")
        self.site_changes: dict[str, Any] = {}
        if self.site is None:
            self.plan_.add("create", "site", self.design.site, f"region {region or '-'}")
            return
        if region is not None and self.site.region != region:
            self.site_changes["region"] = region
            self.plan_.add("change", "site", self.site.name, region=[self.site.region, region])
        else:
            self.plan_.add("leave", "site", self.site.name)

    def _plan_devices(self) -> None:
        self.devices_new: list = []
        self.devices_changed: list[tuple[Device, dict[str, Any]]] = []
        wanted = set()
        for spec in self.design.devices:
            wanted.add(spec.name)
            device = self.devices.get(spec.name)
            if device is None:
                self.devices_new.append(spec)
                detail = f"{spec.device_type}, {spec.role}, {spec.platform}"
                self.plan_.add("create", "device", spec.name, detail)
                for row in self.type_templates.get(spec.device_type, {}).get("interfaces", []):
                    self.ports[spec.name].append(
                        Port(spec.name, row["name"], row["type"], row["mgmt_only"])
                    )
                continue
            if device.device_type.slug != spec.device_type:
                self.errors.append(
                    f"device {spec.name}: is a {device.device_type.slug}, the blueprint wants "
                    f"{spec.device_type}; delete or rename the device to change its type"
                )
                continue
            changes = {}
            if device.role.slug != spec.role:
                changes["role"] = [device.role.slug, spec.role]
            platform = device.platform.slug if device.platform else None
            if platform != spec.platform:
                changes["platform"] = [platform, spec.platform]
            if changes:
                self.devices_changed.append((device, changes))
                self.plan_.add("change", "device", spec.name, **changes)
            else:
                self.plan_.add("leave", "device", spec.name)
        for name in sorted(set(self.devices) - wanted):
            self.plan_.add("leave", "device", name, "not in the blueprint")

        self.loopbacks_new: list[tuple[str, str]] = []
        for spec in self.design.devices:
            if spec.loopback_interface and not any(
                p.name == spec.loopback_interface for p in self.ports[spec.name]
            ):
                self.loopbacks_new.append((spec.name, spec.loopback_interface))
                self.ports[spec.name].append(Port(spec.name, spec.loopback_interface, "virtual"))
                self.plan_.add(
                    "create", "interface", f"{spec.name} {spec.loopback_interface}", "loopback"
                )

    def port(self, device: str, name: str) -> Port | None:
        return next((p for p in self.ports[device] if p.name == name), None)

    def _plan_links(self) -> None:
        """Match each link with an existing cable between the two devices, or pick its ports."""
        self.link_ports: list[tuple[Port, Port]] = []
        self.cables_new: list[tuple[Port, Port, str]] = []
        self.mtu_changes: list[tuple[Port, int]] = []
        claimed: set[tuple[str, str]] = set()
        existing_pairs: dict[frozenset, list[tuple[Port, Port]]] = defaultdict(list)
        for ends in self.cable_ends.values():
            if len(ends) == 2:
                a, b = ends
                existing_pairs[frozenset((a.device, b.device))].append((a, b))
        resolved: list[tuple[Port, Port] | None] = [None] * len(self.design.links)
        # explicit ends first, so "next free" never takes a port named elsewhere
        order = sorted(
            range(len(self.design.links)),
            key=lambda k: (
                (self.design.links[k].a.kind is not None)
                + (self.design.links[k].b.kind is not None)
            ),
        )
        for k in order:
            link = self.design.links[k]
            match = self._existing_cable(link.a, link.b, existing_pairs, claimed)
            if match:
                resolved[k] = match
                claimed |= {(match[0].device, match[0].name), (match[1].device, match[1].name)}
                self.plan_.add("leave", "cable", self._cable_name(*match))
                continue
            ends = []
            for end, other in ((link.a, link.b), (link.b, link.a)):
                port = self._pick(end, other.device, claimed)
                if port is None:
                    break
                claimed.add((port.device, port.name))
                ends.append(port)
            if len(ends) < 2:
                continue
            resolved[k] = (ends[0], ends[1])
            self.cables_new.append((ends[0], ends[1], link.description))
            self.plan_.add("create", "cable", self._cable_name(ends[0], ends[1]), link.description)
        for k, pair in enumerate(resolved):
            link = self.design.links[k]
            if pair is None:
                continue
            if link.mtu:
                for port in pair:
                    if port.mtu != link.mtu:
                        self.mtu_changes.append((port, link.mtu))
                        action = "create" if port.row is None else "change"
                        if port.row is not None:
                            self.plan_.add(
                                action,
                                "interface",
                                f"{port.device} {port.name}",
                                mtu=[port.mtu, link.mtu],
                            )
        self.link_ports = resolved  # type: ignore[assignment]

    @staticmethod
    def _cable_name(a: Port, b: Port) -> str:
        return f"{a.device} {a.name} <-> {b.device} {b.name}"

    @staticmethod
    def _fits(port: Port, end: LinkEnd) -> bool:
        return port.name == end.interface if end.interface else port.type == end.kind

    def _existing_cable(self, a: LinkEnd, b: LinkEnd, pairs, claimed) -> tuple[Port, Port] | None:
        for x, y in pairs.get(frozenset((a.device, b.device)), []):
            if x.device != a.device:
                x, y = y, x
            if (x.device, x.name) in claimed or (y.device, y.name) in claimed:
                continue
            if self._fits(x, a) and self._fits(y, b):
                return x, y
        return None

    def _pick(self, end: LinkEnd, peer: str, claimed) -> Port | None:
        ports = self.ports.get(end.device, [])
        if end.interface:
            port = next((p for p in ports if p.name == end.interface), None)
            if port is None:
                self.errors.append(
                    f"link {end.device} -> {peer}: {end.device} has no interface {end.interface}"
                )
                return None
            if port.cable_id or (port.device, port.name) in claimed:
                self.errors.append(
                    f"link {end.device} -> {peer}: {end.device} {end.interface} is already cabled"
                )
                return None
            return port
        for port in ports:
            if (
                port.type == end.kind
                and not port.mgmt_only
                and not port.cable_id
                and (port.device, port.name) not in claimed
            ):
                return port
        self.errors.append(
            f"link {end.device} -> {peer}: no free {end.kind} interface left on {end.device}"
        )
        return None

    def _plan_console(self) -> None:
        self.console_new: list[tuple[str, str, str, str]] = []  # device, port, server, line
        self.server_updates: list[tuple[ConsoleServerPort | tuple[str, dict], dict]] = []
        console = self.design.console
        if console is None:
            return
        free: list[tuple[str, str, int]] = []  # server, port name, line
        for server in console.servers:
            if server in self.devices:
                rows = [(p.name, p.line, p.cable_id) for p in self.server_ports[server]]
            else:
                spec = next(s for s in self.design.devices if s.name == server)
                rows = [
                    (r["name"], r["line"], None) for r in self._server_templates(spec.device_type)
                ]
            free += [
                (server, name, line)
                for name, line, cable in rows
                if not cable and line >= console.first_line
            ]
        settings = {"baud": console.baud, "access_method": console.method}
        for name in console.devices:
            ports = self.console_ports.get(name) if name in self.devices else None
            if ports is not None and not ports:
                continue  # an existing device without console port: the checks report it
            cabled = [p for p in ports or [] if p.cable_id]
            if cabled:
                server_name, server_port = self.server_port_by_cable.get(
                    cabled[0].cable_id, (None, None)
                )
                if server_port is None:
                    continue
                wanted = {**settings, "tcp_port": console.tcp_port_base + server_port.line}
                changes = {
                    k: [getattr(server_port, k), v]
                    for k, v in wanted.items()
                    if getattr(server_port, k) != v
                }
                if changes:
                    self.server_updates.append((server_port, wanted))
                    self.plan_.add(
                        "change",
                        "console",
                        f"{name} via {server_name} {server_port.name}",
                        **changes,
                    )
                else:
                    self.plan_.add(
                        "leave", "console", f"{name} via {server_name} line {server_port.line}"
                    )
                continue
            if name not in self.devices:
                spec = next(s for s in self.design.devices if s.name == name)
                if spec.device_type in self.types:
                    has_console = self._has_console_template(spec.device_type)
                else:
                    has_console = bool(
                        self.type_templates.get(spec.device_type, {}).get("console_ports")
                    ) or bool(shipped_device_types().get(spec.device_type, {}).get("console_ports"))
                if not has_console:
                    continue
            if not free:
                self.errors.append(
                    f"console: no free console-server line left for {name} "
                    f"({len(console.devices)} devices to wire; add console servers)"
                )
                return
            server, port_name, line = free.pop(0)
            self.console_new.append((name, port_name, server, line))
            self.plan_.add(
                "create",
                "console",
                f"{name} via {server} line {line}",
                f"tcp {console.tcp_port_base + line}, {console.baud} baud, {console.method}",
            )

    def _server_templates(self, slug: str) -> list[dict[str, Any]]:
        if slug in self.types:
            from turnup.dcim.models import ConsoleServerPortTemplate

            if not hasattr(self, "_cs_templates"):
                self._cs_templates: dict[int, list] = defaultdict(list)
                type_ids = [t.pk for t in self.types.values()]
                for t in ConsoleServerPortTemplate.objects.filter(device_type_id__in=type_ids):
                    self._cs_templates[t.device_type_id].append({"name": t.name, "line": t.line})
            return self._cs_templates[self.types[slug].pk]
        return template_rows(shipped_device_types()[slug])["server_ports"]

    def _has_console_template(self, slug: str) -> bool:
        from turnup.dcim.models import ConsolePortTemplate

        if not hasattr(self, "_console_types"):
            type_ids = [t.pk for t in self.types.values()]
            self._console_types = set(
                ConsolePortTemplate.objects.filter(device_type_id__in=type_ids).values_list(
                    "device_type_id", flat=True
                )
            )
        return self.types[slug].pk in self._console_types

    # -- routing ---------------------------------------------------------------------------
    def _routing_rows(self, known: dict[tuple[str, str], str | None], asns: dict[str, int | None]):
        """The routing rows the design wants: (device routing, OSPF interfaces, sessions)."""
        d = self.design
        specs = {s.name: s for s in d.devices}
        routers = [s for s in d.devices if s.platform in ROUTER_PLATFORMS]
        ospf_slots = set(d.ospf["slots"]) if d.ospf else set()

        def loopback(name: str) -> str | None:
            spec = specs[name]
            if not spec.loopback_interface:
                return None
            return known.get((name, spec.loopback_interface))

        device_rows = {}
        for spec in routers:
            if not (spec.loopback_interface or spec.asn != "none" or spec.slot in ospf_slots):
                continue  # a switch or other device without a routing design
            device_rows[spec.name] = {
                "router_id": loopback(spec.name),
                "asn": asns.get(spec.name),
                "ospf_process": d.ospf["process"] if spec.slot in ospf_slots else None,
                "loopback_interface": spec.loopback_interface or "",
            }
        ospf_rows: dict[tuple[str, str], dict[str, Any]] = {}
        if d.ospf:
            base = {
                "area": d.ospf["area"],
                "network_type": NETWORK_TYPES.get(d.ospf["network_type"], d.ospf["network_type"]),
            }
            for spec in routers:
                if spec.slot in ospf_slots and spec.loopback_interface:
                    ospf_rows[(spec.name, spec.loopback_interface)] = {
                        **base,
                        "cost": None,
                        "passive": True,
                    }
            for k in d.ospf_links:
                pair = self.link_ports[k]
                if pair is None:
                    continue
                for port in pair:
                    ospf_rows[(port.device, port.name)] = {
                        **base,
                        "cost": d.ospf["cost"],
                        "passive": False,
                    }
        sessions: dict[tuple[str, str | None], dict[str, Any]] = {}
        for session in d.sessions:
            if session.via == "loopback":
                ends = [(session.a, loopback(session.a)), (session.b, loopback(session.b))]
            else:
                pair = self.link_ports[session.link]
                if pair is None:
                    continue
                ends = [
                    (pair[0].device, known.get((pair[0].device, pair[0].name))),
                    (pair[1].device, known.get((pair[1].device, pair[1].name))),
                ]
            for (me, mine), (peer, theirs) in (ends, ends[::-1]):
                sessions[(me, theirs or f"{PENDING} {peer}")] = {
                    "kind": session.kind,
                    "local_address": mine,
                    "peer_address": theirs,
                    "remote_asn": asns.get(peer),
                    "peer_device": peer,
                    "update_source": specs[me].loopback_interface or ""
                    if session.via == "loopback"
                    else "",
                }
        return device_rows, ospf_rows, sessions

    def _plan_routing(self, known) -> None:
        asns = self.addresses.asn_by_device()
        device_rows, ospf_rows, sessions = self._routing_rows(known, asns)
        for name, row in device_rows.items():
            device = self.devices.get(name)
            current = self.device_routing.get(device.pk) if device else None
            if current is None:
                self.plan_.add(
                    "create",
                    "routing",
                    name,
                    f"router id {row['router_id'] or PENDING}, AS{row['asn'] or PENDING}",
                )
                continue
            changes = self._routing_changes(current, row)
            self.plan_.add("change" if changes else "leave", "routing", name, **changes)
        for (dev, iface), row in ospf_rows.items():
            port = self.port(dev, iface)
            current = self.ospf.get(port.row.pk) if port and port.row else None
            label = f"{dev} {iface}"
            if current is None:
                self.plan_.add("create", "ospf", label, f"area {row['area']}")
                continue
            changes = {
                k: [getattr(current, k), v] for k, v in row.items() if getattr(current, k) != v
            }
            self.plan_.add("change" if changes else "leave", "ospf", label, **changes)
        for (dev, peer_address), row in sessions.items():
            device = self.devices.get(dev)
            current = self.bgp.get((device.pk, peer_address)) if device else None
            label = f"{dev} -> {row['peer_device']} ({row['peer_address'] or PENDING})"
            if current is None:
                self.plan_.add(
                    "create", "bgp", label, f"{row['kind']} AS{row['remote_asn'] or PENDING}"
                )
                continue
            changes = {
                k: [getattr(current, k), row[k]]
                for k in ("kind", "local_address", "remote_asn", "update_source")
                if row[k] is not None and getattr(current, k) != row[k]
            }
            self.plan_.add("change" if changes else "leave", "bgp", label, **changes)

    @staticmethod
    def _routing_changes(current: DeviceRouting, row: dict[str, Any]) -> dict[str, list[Any]]:
        changes = {}
        asn_value = current.asn.asn if current.asn else None
        if row["asn"] is not None and asn_value != row["asn"]:
            changes["asn"] = [asn_value, row["asn"]]
        for key in ("router_id", "ospf_process", "loopback_interface"):
            if row[key] is not None and getattr(current, key) != row[key]:
                changes[key] = [getattr(current, key), row[key]]
        return changes

    def _plan_instance(self) -> None:
        d = self.design
        if self.instance is None:
            self.plan_.add("create", "blueprint-instance", d.site, f"{d.blueprint} v{d.version}")
            return
        changes = {}
        for key, old, new in (
            ("params", self.instance.params, d.params),
            ("variables", self.instance.variables, d.variables),
        ):
            if old != new:  # only the entries that differ
                keys = sorted(k for k in {*old, *new} if old.get(k) != new.get(k))
                changes[key] = [{k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}]
        if self.instance.blueprint_version != d.version or (
            self.blueprint and self.instance.blueprint_id != self.blueprint.pk
        ):
            changes["blueprint"] = [self.instance.blueprint_version, d.version]
        self.plan_.add("change" if changes else "leave", "blueprint-instance", d.site, **changes)

    # -- applying --------------------------------------------------------------------------
    def apply(self) -> Plan:
        plan = self.plan()
        if not plan.has_changes:
            return plan
        d = self.design
        if self.site is None:
            self.site = dcim_services.site_create(
                name=d.site, slug=slugify(d.site), region=str(d.params.get("region") or "")
            )
        elif self.site_changes:
            self.site = dcim_services.site_update(instance=self.site, **self.site_changes)
        types = device_types_ensure(slugs={s.device_type for s in self.devices_new})
        self._ensure_roles()
        created = dcim_services.device_bulk_create(
            items=[
                {
                    "name": spec.name,
                    "site": self.site,
                    "device_type": types[spec.device_type],
                    "role": self.roles[spec.role],
                    "platform": self.platforms[spec.platform],
                }
                for spec in self.devices_new
            ]
        )
        for device in created:
            self.devices[device.name] = device
            self.name_of[device.pk] = device.name
        if self.devices_changed:
            before = changelog_snapshot([dv for dv, _ in self.devices_changed])
            for device, changes in self.devices_changed:
                if "role" in changes:
                    device.role = self.roles[changes["role"][1]]
                if "platform" in changes:
                    device.platform = self.platforms[changes["platform"][1]]
            Device.objects.bulk_update(
                [dv for dv, _ in self.devices_changed], ["role", "platform", "updated"]
            )
            changelog_record(
                action="update", instances=[dv for dv, _ in self.devices_changed], before=before
            )
        self._bind_new_ports([dv.pk for dv in created])
        self._apply_cables()
        self.addresses.apply(self)
        self._apply_routing()
        self._apply_instance()
        plan.applied = True
        return plan

    def _ensure_roles(self) -> None:
        missing = {s.role for s in self.design.devices} - set(self.roles)
        if missing:
            roles = [
                DeviceRole(slug=slug, name=slug.replace("-", " ").title())
                for slug in sorted(missing)
            ]
            bulk_validate(roles)
            roles = DeviceRole.objects.bulk_create(roles)
            changelog_record(action="create", instances=roles)
            self.roles.update({r.slug: r for r in roles})

    def _bind_new_ports(self, created_ids: list[int]) -> None:
        """Attach the rows of the ports just created (and create the loopbacks)."""
        loopbacks = [
            Interface(device=self.devices[dev], name=name, type=InterfaceType.VIRTUAL)
            for dev, name in self.loopbacks_new
        ]
        if loopbacks:
            bulk_validate(loopbacks)
            loopbacks = Interface.objects.bulk_create(loopbacks)
            changelog_record(action="create", instances=loopbacks)
        rows = list(Interface.objects.filter(device_id__in=created_ids))
        rows += loopbacks
        for row in rows:
            port = self.port(self.name_of[row.device_id], row.name)
            if port is not None:
                port.row = row
        for row in ConsolePort.objects.filter(device_id__in=created_ids).order_by("id"):
            self.console_ports[self.name_of[row.device_id]].append(row)
        for row in ConsoleServerPort.objects.filter(device_id__in=created_ids).order_by("line"):
            self.server_ports[self.name_of[row.device_id]].append(row)

    def _apply_cables(self) -> None:
        """MTUs (one UPDATE per MTU value), then every new cable - links and console - in one
        ``cable_bulk_create``."""
        if self.mtu_changes:
            rows = [port.row for port, _ in self.mtu_changes]
            before = changelog_snapshot(rows)
            by_mtu: dict[int, list[int]] = defaultdict(list)
            now = timezone.now()
            for port, mtu in self.mtu_changes:
                port.row.mtu = port.mtu = mtu
                port.row.updated = now
                by_mtu[mtu].append(port.row.pk)
            for mtu, pks in by_mtu.items():
                Interface.objects.filter(pk__in=pks).update(mtu=mtu, updated=now)
            changelog_record(action="update", instances=rows, before=before)
        items = [
            {"a_end": a.row, "b_end": b.row, "status": "planned", "description": text}
            for a, b, text in self.cables_new
        ]
        items += self._console_items()
        if items:
            dcim_services.cable_bulk_create(items=items)

    def _console_items(self) -> list[dict[str, Any]]:
        """Console cables to create; line settings written where they differ."""
        console = self.design.console
        if console is None:
            return []
        items, ports = [], []
        for name, port_name, server, _line in self.console_new:
            server_port = next(p for p in self.server_ports[server] if p.name == port_name)
            items.append(
                {
                    "a_end": self.console_ports[name][0],
                    "b_end": server_port,
                    "status": "planned",
                    "type": "console",
                }
            )
            ports.append(server_port)
        ports += [port for port, _ in self.server_updates]

        def wanted(port: ConsoleServerPort) -> tuple[int, int, str]:
            return (console.tcp_port_base + port.line, console.baud, console.method)

        updates = [p for p in ports if (p.tcp_port, p.baud, p.access_method) != wanted(p)]
        if updates:
            before = changelog_snapshot(updates)
            for port in updates:
                port.tcp_port, port.baud, port.access_method = wanted(port)
            ConsoleServerPort.objects.bulk_update(updates, ["tcp_port", "baud", "access_method"])
            changelog_record(action="update", instances=updates, before=before)
        return items

    def _apply_routing(self) -> None:
        known = self.addresses.known
        asn_rows = self.addresses.asn_rows()
        asns = {name: (row.asn if row else None) for name, row in asn_rows.items()}
        device_rows, ospf_rows, sessions = self._routing_rows(known, asns)
        new, changed, before_rows = [], [], []
        for name, row in device_rows.items():
            device = self.devices[name]
            current = self.device_routing.get(device.pk)
            fields = {**row, "asn": asn_rows.get(name)}
            if current is None:
                new.append(DeviceRouting(device=device, **fields))
            elif self._routing_changes(current, row):
                before_rows.append(current)
                for key, value in fields.items():
                    if value is not None:
                        setattr(current, key, value)
                changed.append(current)
        self._write(
            DeviceRouting,
            new,
            changed,
            before_rows,
            ["router_id", "asn", "ospf_process", "loopback_interface", "updated"],
        )
        new, changed, before_rows = [], [], []
        for (dev, iface), row in ospf_rows.items():
            port = self.port(dev, iface)
            current = self.ospf.get(port.row.pk)
            if current is None:
                new.append(OSPFInterface(interface=port.row, **row))
            elif any(getattr(current, k) != v for k, v in row.items()):
                before_rows.append(current)
                for key, value in row.items():
                    setattr(current, key, value)
                changed.append(current)
        self._write(
            OSPFInterface,
            new,
            changed,
            before_rows,
            ["area", "network_type", "cost", "passive", "updated"],
        )
        new, changed, before_rows = [], [], []
        for (dev, peer_address), row in sessions.items():
            device = self.devices[dev]
            current = self.bgp.get((device.pk, peer_address))
            fields = {
                **row,
                "peer_device": self.devices[row["peer_device"]],
                "route_reflector_client": False,
            }
            if current is None:
                new.append(BGPSession(device=device, **fields))
            elif any(
                getattr(current, k) != row[k]
                for k in ("kind", "local_address", "remote_asn", "update_source")
            ):
                before_rows.append(current)
                for key in ("kind", "local_address", "remote_asn", "update_source"):
                    setattr(current, key, row[key])
                changed.append(current)
        self._write(
            BGPSession,
            new,
            changed,
            before_rows,
            ["kind", "local_address", "remote_asn", "update_source", "updated"],
        )

    @staticmethod
    def _write(model, new, changed, before_rows, fields) -> None:
        if new:
            bulk_validate(new)
            new = model.objects.bulk_create(new)
            changelog_record(action="create", instances=new)
        if changed:
            before = changelog_snapshot(before_rows)
            now = timezone.now()
            for row in changed:
                row.updated = now
            model.objects.bulk_update(changed, fields)
            changelog_record(action="update", instances=changed, before=before)

    def _apply_instance(self) -> None:
        d = self.design
        blueprint = self.blueprint or Blueprint.objects.get(name=d.blueprint)
        fields = {
            "blueprint": blueprint,
            "blueprint_version": d.version,
            "params": d.params,
            "variables": d.variables,
            "applied": timezone.now(),
        }
        if self.instance is None:
            instance = BlueprintInstance(site=self.site, **fields)
            instance.full_clean()
            instance.save()
            changelog_record(action="create", instances=[instance])
        else:
            before = changelog_snapshot([self.instance])
            for key, value in fields.items():
                setattr(self.instance, key, value)
            self.instance.full_clean()
            self.instance.save()
            changelog_record(action="update", instances=[self.instance], before=before)
