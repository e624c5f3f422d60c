"""Whole sites for config tests, built through the real services (blueprints → dcim, ipam,
routing), plus a default credential profile."""

from __future__ import annotations

from turnup.blueprints.models import Blueprint
from turnup.blueprints.services import blueprint_create, blueprint_instantiate
from turnup.dcim.models import Site
from turnup.dcim.services import credential_profile_create

# A scalable design: N Junos core routers in a ring and N IOS-XE edge routers, each edge
# cabled to "its" core; iBGP between all of them (the blueprint decides the sessions).
SCALE_BLUEPRINT = """
name: configs-scale
version: 1
description: test design whose router count is a parameter
parameters:
  name: {type: string, required: true}
  n: {type: integer, default: 2}
pools:
  scale-loopbacks: {prefix: 10.200.0.0/16}
  scale-p2p: {prefix: 10.201.0.0/16}
  scale-mgmt: {prefix: 10.202.0.0/16, vrf: mgmt}
asn_ranges:
  scale-asn: {start: 4200100000, end: 4200199999}
addressing:
  loopback: {pool: scale-loopbacks}
  p2p: {pool: scale-p2p, prefix_length: 31}
  management: {pool: scale-mgmt, prefix_length: 24, gateway: first}
  asn: {range: scale-asn}
slots:
  - name: core
    count: "{n}"
    name_pattern: "{site_lower}-cr{n}"
    role: core
    device_type: juniper-mx204
    platform: juniper_junos
    loopback_interface: lo0
    mgmt_interface: fxp0
    asn: site
  - name: edge
    count: "{n}"
    name_pattern: "{site_lower}-er{n}"
    role: edge
    device_type: cisco-c8300-1n1s-4t2x
    platform: cisco_iosxe
    loopback_interface: Loopback0
    mgmt_interface: GigabitEthernet0
    asn: site
    links:
      - {peer: "core-{n}", kind: 10gbase-x-sfpp, peer_kind: 10gbase-x-sfpp}
routing:
  ospf: {process: 1, area: 0.0.0.0, network_type: p2p, cost: 10, slots: [core, edge]}
  bgp:
    sessions:
      - {kind: ibgp, slots: [core]}
variables:
  domain_name: "{site_lower}.example.net"
  ntp_servers: [192.0.2.123]
  syslog_server: 192.0.2.50
  banner: "Authorized access only - {name}"
"""


def default_credentials():
    return credential_profile_create(
        name="default",
        is_default=True,
        local_username="turnup",
        local_password="local-secret-1",
        junos_root_password="root-secret-1",
        enable_secret="enable-secret-1",
        snmp_username="nms",
        snmp_auth_protocol="sha-256",
        snmp_auth_key="auth-key-123",
        snmp_priv_protocol="aes-128",
        snmp_priv_key="priv-key-123",
    )


def scale_site(name: str, routers_per_slot: int) -> Site:
    blueprint = Blueprint.objects.filter(name="configs-scale").first() or blueprint_create(
        source=SCALE_BLUEPRINT
    )
    blueprint_instantiate(blueprint=blueprint, params={"name": name, "n": routers_per_slot})
    return Site.objects.get(name=name)


def pop_core_site(name: str = "LON-01") -> Site:
    from turnup.blueprints.services import blueprint_library_sync

    blueprint = next(b for b in blueprint_library_sync() if b.name == "pop-core")
    blueprint_instantiate(blueprint=blueprint, params={"name": name})
    return Site.objects.get(name=name)
