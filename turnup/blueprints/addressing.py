"""The addressing part of a plan: pools, the site's management prefix and gateway,
loopbacks, point-to-point /31s, ASNs and VLANs — what exists, what must be allocated, and
the allocation itself through ipam's allocators (one call per pool, ``count=`` many)."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.utils.text import slugify

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.services import model_bulk_create, model_create
from turnup.dcim.models import Device, Site
from turnup.ipam import services as ipam
from turnup.ipam.models import ASN, VLAN, VRF, ASNRange, IPAddress, Prefix, VLANGroup
from turnup.routing.models import DeviceRouting, SiteRouting

if TYPE_CHECKING:
    from turnup.blueprints.design import Design
    from turnup.blueprints.planner import Port, SitePlanner

PENDING = "(to allocate)"


class SiteAddressing:
    """Addresses, ASNs and VLANs of one site under one design."""

    def __init__(
        self,
        design: Design,
        site: Site | None,
        ports: dict[int, Port],
        routing_rows: dict[int, DeviceRouting],
    ) -> None:
        self.design = design
        self.site = site
        self.errors: list[str] = []
        self.known: dict[tuple[str, str], str | None] = {}
        iface_ids = list(ports)
        self.ips_by_iface: dict[int, list[IPAddress]] = defaultdict(list)
        if iface_ids:
            for ip in IPAddress.objects.filter(assigned_interface_id__in=iface_ids).order_by("id"):
                self.ips_by_iface[ip.assigned_interface_id].append(ip)
        pools = design.pools
        vrf_names = {spec.get("vrf") for spec in pools.values() if spec.get("vrf")}
        self.vrfs = {v.name: v for v in VRF.objects.filter(name__in=vrf_names)}
        self.pool_rows: dict[str, Prefix] = {}
        if pools:
            rows = Prefix.objects.filter(
                prefix__in=[str(ipaddress.ip_network(s["prefix"])) for s in pools.values()]
            ).select_related("vrf")
            for name, spec in pools.items():
                wanted = str(ipaddress.ip_network(spec["prefix"]))
                for row in rows:
                    if row.prefix == wanted and (row.vrf.name if row.vrf_id else None) == spec.get(
                        "vrf"
                    ):
                        self.pool_rows[name] = row
        ranges = design.asn_ranges
        self.ranges = {r.name: r for r in ASNRange.objects.filter(name__in=list(ranges))}
        self.site_routing = (
            SiteRouting.objects.filter(site=site).select_related("mgmt_prefix").first()
            if site
            else None
        )
        self.routing_rows = routing_rows
        vlans = design.addressing.get("vlans")
        self.vlan_group = None
        self.vlans: dict[str, VLAN] = {}
        if vlans:
            group_name = vlans.get("group") or design.site.lower()
            self.vlan_group = VLANGroup.objects.filter(name=group_name).first()
            if self.vlan_group:
                self.vlans = {v.name: v for v in VLAN.objects.filter(group=self.vlan_group)}

    # -- planning ------------------------------------------------------------------------
    def plan(self, planner: SitePlanner) -> None:
        d, plan = self.design, planner.plan_
        addressing = d.addressing
        for name, spec in d.pools.items():
            row = self.pool_rows.get(name)
            if row is None:
                plan.add("create", "pool", name, spec["prefix"])
            elif not row.is_pool:
                self.errors.append(
                    f"pools.{name}: {row.prefix} exists and is not a pool; mark it as a pool "
                    "or use another prefix"
                )
        for name, spec in d.asn_ranges.items():
            if name not in self.ranges:
                plan.add("create", "asn-range", name, f"{spec['start']}-{spec['end']}")

        self.mgmt_network = None
        self.mgmt_gateway = None
        mgmt = addressing.get("management")
        if mgmt:
            sr = self.site_routing
            if sr and sr.mgmt_prefix_id:
                self.mgmt_network = ipaddress.ip_network(sr.mgmt_prefix.prefix)
                self.mgmt_gateway = sr.mgmt_gateway
                plan.add("leave", "prefix", f"{d.site} management {self.mgmt_network}")
            else:
                plan.add(
                    "create",
                    "prefix",
                    f"{d.site} management",
                    f"/{mgmt.get('prefix_length', 24)} from {mgmt['pool']}, gateway "
                    f"{mgmt.get('gateway', 'first')}",
                )

        self.mgmt_needed: list[tuple[str, str]] = []
        self.loopback_needed: list[tuple[str, str]] = []
        for spec in d.devices:
            if mgmt and spec.mgmt_interface:
                port = planner.port(spec.name, spec.mgmt_interface)
                if port is None:
                    self.errors.append(
                        f"slot {spec.slot}: {spec.name} has no interface {spec.mgmt_interface}"
                    )
                    continue
                current = self._ips(port)
                primary = [ip for ip in current if ip.is_primary_mgmt]
                if primary:
                    self.known[(spec.name, port.name)] = primary[0].ip
                    plan.add("leave", "ip", f"{spec.name} {port.name} {primary[0].address}")
                else:
                    self.mgmt_needed.append((spec.name, port.name))
                    plan.add("create", "ip", f"{spec.name} {port.name}", "management address")
            if "loopback" in addressing and spec.loopback_interface:
                port = planner.port(spec.name, spec.loopback_interface)
                current = self._ips(port) if port else []
                if current:
                    self.known[(spec.name, port.name)] = current[0].ip
                    plan.add("leave", "ip", f"{spec.name} {port.name} {current[0].address}")
                else:
                    self.loopback_needed.append((spec.name, spec.loopback_interface))
                    self.known[(spec.name, spec.loopback_interface)] = None
                    plan.add(
                        "create", "ip", f"{spec.name} {spec.loopback_interface}", "loopback /32"
                    )

        self.p2p_needed: list[tuple[Port, Port]] = []
        self.p2p_complete: list[tuple[Port, str]] = []
        if "p2p" in addressing:
            for k, pair in enumerate(planner.link_ports):
                if pair is None or not d.links[k].address:
                    continue
                a, b = pair
                a_ips, b_ips = self._ips(a), self._ips(b)
                label = f"{a.device} {a.name} <-> {b.device} {b.name}"
                if a_ips and b_ips:
                    self.known[(a.device, a.name)] = a_ips[0].ip
                    self.known[(b.device, b.name)] = b_ips[0].ip
                    plan.add("leave", "p2p", f"{label} {a_ips[0].address}")
                elif a_ips or b_ips:
                    have, missing = (a, b) if a_ips else (b, a)
                    network = ipaddress.ip_interface((a_ips or b_ips)[0].address)
                    other = [h for h in network.network if h != network.ip]
                    address = f"{other[0]}/{network.network.prefixlen}" if other else None
                    self.known[(have.device, have.name)] = str(network.ip)
                    self.known[(missing.device, missing.name)] = str(other[0]) if other else None
                    if address:
                        self.p2p_complete.append((missing, address))
                    plan.add("create", "ip", f"{missing.device} {missing.name}", f"{address}")
                else:
                    self.known[(a.device, a.name)] = self.known[(b.device, b.name)] = None
                    self.p2p_needed.append((a, b))
                    plan.add(
                        "create", "p2p", label, f"/{addressing['p2p'].get('prefix_length', 31)}"
                    )

        self.site_asn_needed = False
        self.device_asn_needed: list[str] = []
        self.site_asn: ASN | None = None
        self.device_asn: dict[str, ASN | None] = {}
        if "asn" in addressing:
            for spec in d.devices:
                device = planner.devices.get(spec.name)
                row = self.routing_rows.get(device.pk) if device else None
                current = row.asn if row and row.asn_id else None
                if spec.asn == "site" and current is not None and self.site_asn is None:
                    self.site_asn = current
                if spec.asn == "device":
                    self.device_asn[spec.name] = current
                    if current is None:
                        self.device_asn_needed.append(spec.name)
            needs_site = any(spec.asn == "site" for spec in d.devices)
            if needs_site and self.site_asn is None:
                self.site_asn_needed = True
                plan.add("create", "asn", d.site, f"site ASN from {addressing['asn']['range']}")
            elif needs_site:
                plan.add("leave", "asn", f"{d.site} AS{self.site_asn.asn}")
            for name in self.device_asn_needed:
                plan.add("create", "asn", name, f"from {addressing['asn']['range']}")

        self.vlans_needed: list[dict[str, Any]] = []
        vlans = addressing.get("vlans")
        if vlans:
            group = vlans.get("group") or d.site.lower()
            if self.vlan_group is None:
                plan.add("create", "vlan-group", group)
            for item in vlans["items"]:
                current = self.vlans.get(item["name"])
                if current is None:
                    self.vlans_needed.append(item)
                    plan.add(
                        "create",
                        "vlan",
                        f"{group} {item['name']}",
                        f"vid {item.get('vid', PENDING)}",
                    )
                elif item.get("vid") and current.vid != item["vid"]:
                    self.errors.append(
                        f"addressing.vlans: VLAN {item['name']} of {group} is {current.vid}, the "
                        f"blueprint says {item['vid']}; renumbering a VLAN is not automatic"
                    )
                else:
                    plan.add("leave", "vlan", f"{group} {item['name']} ({current.vid})")

    def _ips(self, port: Port | None) -> list[IPAddress]:
        if port is None or port.row is None:
            return []
        return self.ips_by_iface.get(port.row.pk, [])

    def asn_by_device(self) -> dict[str, int | None]:
        out: dict[str, int | None] = {}
        for spec in self.design.devices:
            if spec.asn == "site":
                out[spec.name] = self.site_asn.asn if self.site_asn else None
            elif spec.asn == "device":
                row = self.device_asn.get(spec.name)
                out[spec.name] = row.asn if row else None
        return out

    def asn_rows(self) -> dict[str, ASN | None]:
        out: dict[str, ASN | None] = {}
        for spec in self.design.devices:
            if spec.asn == "site":
                out[spec.name] = self.site_asn
            elif spec.asn == "device":
                out[spec.name] = self.device_asn.get(spec.name)
        return out

    # -- applying ------------------------------------------------------------------------
    def apply(self, planner: SitePlanner) -> None:
        """Allocate what the plan needs: one allocator call per pool (``count=``/``items=``)."""
        d = self.design
        site = planner.site
        self._ensure_pools()
        addressing = d.addressing
        mgmt = addressing.get("management")
        sr = self.site_routing
        new_ips: list[dict[str, Any]] = []
        self.mgmt_prefix = sr.mgmt_prefix if sr else None
        if mgmt and self.mgmt_prefix is None:
            pool = self.pool_rows[mgmt["pool"]]
            prefix = ipam.prefix_allocate_next(
                pool=pool,
                prefix_length=mgmt.get("prefix_length", 24),
                site=site,
                role="management",
                description=f"{d.site} management",
            )[0]
            network = ipaddress.ip_network(prefix.prefix)
            hosts = list(network.hosts()) if network.prefixlen < 31 else list(network)
            gateway = mgmt.get("gateway", "first")
            if gateway == "first":
                gateway_ip = hosts[0]
            elif gateway == "last":
                gateway_ip = hosts[-1]
            else:
                gateway_ip = network.network_address + int(gateway)
            new_ips.append(
                {
                    "address": f"{gateway_ip}/{network.prefixlen}",
                    "vrf": prefix.vrf,
                    "description": f"{d.site} management gateway",
                }
            )
            self._site_routing_set(site, prefix, str(gateway_ip), prefix.vrf)
            self.mgmt_prefix = prefix
        if new_ips:
            ipam.ip_address_bulk_create(items=new_ips)  # the gateway first: never handed out
            new_ips = []
        if self.mgmt_needed:
            allocated = ipam.ip_allocate_next(
                prefix=self.mgmt_prefix,
                items=[
                    {
                        "assigned_interface": planner.port(dev, iface).row,
                        "is_primary_mgmt": True,
                        "description": "management",
                    }
                    for dev, iface in self.mgmt_needed
                ],
            )
            for ip, key in zip(allocated, self.mgmt_needed, strict=True):
                self.known[key] = ip.ip
        if self.loopback_needed:
            pool = self.pool_rows[addressing["loopback"]["pool"]]
            allocated = ipam.ip_allocate_next(
                prefix=pool,
                mask_length=32 if pool.family == 4 else 128,
                items=[
                    {"assigned_interface": planner.port(dev, iface).row, "role": "loopback"}
                    for dev, iface in self.loopback_needed
                ],
            )
            for ip, key in zip(allocated, self.loopback_needed, strict=True):
                self.known[key] = ip.ip
        if self.p2p_needed:
            pool = self.pool_rows[addressing["p2p"]["pool"]]
            prefixes = ipam.prefix_allocate_next(
                pool=pool,
                prefix_length=addressing["p2p"].get("prefix_length", 31),
                count=len(self.p2p_needed),
                site=site,
                role="point-to-point",
                description=f"{d.site} link",
            )
            for prefix, (a, b) in zip(prefixes, self.p2p_needed, strict=True):
                network = ipaddress.ip_network(prefix.prefix)
                hosts = list(network) if network.prefixlen == 31 else list(network.hosts())
                for port, host, peer in ((a, hosts[0], b), (b, hosts[1], a)):
                    new_ips.append(
                        {
                            "address": f"{host}/{network.prefixlen}",
                            "vrf": prefix.vrf,
                            "assigned_interface": port.row,
                            "description": f"link to {peer.device} {peer.name}",
                        }
                    )
                    self.known[(port.device, port.name)] = str(host)
        for port, address in self.p2p_complete:
            new_ips.append({"address": address, "assigned_interface": port.row})
            self.known[(port.device, port.name)] = address.split("/")[0]
        if new_ips:
            ipam.ip_address_bulk_create(items=new_ips)
        if "asn" in addressing:
            count = int(self.site_asn_needed) + len(self.device_asn_needed)
            if count:
                asns = ipam.asn_allocate_next(
                    asn_range=self.ranges[addressing["asn"]["range"]],
                    count=count,
                    site=site,
                    description=f"{d.site}",
                )
                if self.site_asn_needed:
                    self.site_asn = asns.pop(0)
                for name, asn in zip(self.device_asn_needed, asns, strict=True):
                    self.device_asn[name] = asn
        self._apply_vlans(site)
        self._console_hosts(planner)

    def _site_routing_set(self, site, prefix, gateway: str, vrf) -> None:
        sr = self.site_routing
        if sr is None:
            sr = SiteRouting(
                site=site,
                mgmt_prefix=prefix,
                mgmt_gateway=gateway,
                mgmt_vrf=vrf.name if vrf else "",
            )
            sr.full_clean()
            sr.save()
            changelog_record(action="create", instances=[sr])
        else:
            before = changelog_snapshot([sr])
            sr.mgmt_prefix, sr.mgmt_gateway = prefix, gateway
            sr.mgmt_vrf = vrf.name if vrf else ""
            sr.save()
            changelog_record(action="update", instances=[sr], before=before)
        self.site_routing = sr

    def _ensure_pools(self) -> None:
        d = self.design
        for name in sorted(
            {s["vrf"] for s in d.pools.values() if s.get("vrf") and s["vrf"] not in self.vrfs}
        ):
            self.vrfs[name] = model_create(VRF, name=name, description="created by a blueprint")
        for name, spec in d.pools.items():
            if name not in self.pool_rows:
                self.pool_rows[name] = ipam.prefix_create(
                    prefix=spec["prefix"],
                    vrf=self.vrfs.get(spec.get("vrf")),
                    name=name,
                    is_pool=True,
                    status="container",
                    description=spec.get("description", ""),
                )
        for name, spec in d.asn_ranges.items():
            if name not in self.ranges:
                self.ranges[name] = model_create(
                    ASNRange,
                    name=name,
                    slug=slugify(name),
                    start=spec["start"],
                    end=spec["end"],
                    description=spec.get("description", ""),
                )

    def _apply_vlans(self, site) -> None:
        vlans = self.design.addressing.get("vlans")
        if not vlans or not self.vlans_needed:
            return
        if self.vlan_group is None:
            name = vlans.get("group") or self.design.site.lower()
            self.vlan_group = model_create(
                VLANGroup,
                name=name,
                slug=slugify(name),
                site=site,
                min_vid=vlans.get("min_vid", 1),
                max_vid=vlans.get("max_vid", 4094),
            )
        fixed = [
            {"group": self.vlan_group, "site": site, "vid": i["vid"], "name": i["name"]}
            for i in self.vlans_needed
            if i.get("vid")
        ]
        if fixed:
            model_bulk_create(VLAN, items=fixed)
        free = [{"name": i["name"]} for i in self.vlans_needed if not i.get("vid")]
        if free:
            ipam.vlan_allocate_next(group=self.vlan_group, items=free, site=site)

    def _console_hosts(self, planner) -> None:
        """A console server is reached at its management address."""
        if self.design.console is None:
            return
        updates = []
        for name in self.design.console.servers:
            device: Device = planner.devices[name]
            spec = next(s for s in self.design.devices if s.name == name)
            address = self.known.get((name, spec.mgmt_interface or ""))
            if address and device.console_host != address:
                updates.append((device, address))
        if updates:
            before = changelog_snapshot([dv for dv, _ in updates])
            for device, address in updates:
                device.console_host = address
            Device.objects.bulk_update([dv for dv, _ in updates], ["console_host"])
            changelog_record(action="update", instances=[dv for dv, _ in updates], before=before)
