"""The render context: everything a template may read about one router, as plain frozen data.

This schema is the contract between the design (dcim/ipam/routing/blueprints, read by
``selectors.site_render_context``) and the templates. Templates never touch the database; the
golden tests build these objects by hand. Secrets only appear here already hashed in the form
the platform accepts (``LocalUser.secret_hash``, ``root_hash``, SNMP localized keys).

Field reference (``device`` is the root object templates see; e.g. ``{{ device.hostname }}``):

- ``hostname``: the router's name, as in the design (``LON-01-core-1``).
- ``platform``: ``cisco_iosxe`` or ``juniper_junos``; ``role``: ``core``, ``edge``, ``branch``,
  ``aggregation`` (any other role slug falls back to the platform's ``default.j2``).
- ``site``: ``SiteContext`` (name, slug, domain name for the router, location text).
- ``mgmt``: ``MgmtContext``: interface (``GigabitEthernet0`` / ``fxp0``), VRF (``Mgmt-vrf`` /
  ``mgmt_junos``), address, prefix length, gateway.
- ``users``: local accounts (``LocalUser``: name, privilege 1-15, hash). ``root_hash``: Junos
  ``root-authentication encrypted-password``; ``enable_hash``: IOS ``enable secret``.
- ``loopback``: ``AddressContext`` or None.
- ``interfaces``: the cabled point-to-point interfaces (``InterfaceContext``): name,
  description built from the cabling, address or LAG membership, MTU, OSPF settings, peer.
- ``router_id``, ``asn``: from the routing design; ``ospf``: ``OSPFContext`` or None;
  ``bgp_sessions``: ``BGPSessionContext`` tuples (internal or external).
- ``ntp_servers``, ``syslog_servers``, ``dns_servers``: addresses reached through the
  management VRF. ``snmp``: ``SNMPContext`` or None. ``banner``: login banner text.
- ``vars``: the site's free template variables (from the blueprint), a read-only mapping.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

PLATFORM_IOSXE = "cisco_iosxe"
PLATFORM_JUNOS = "juniper_junos"
RENDERED_PLATFORMS = (PLATFORM_IOSXE, PLATFORM_JUNOS)
ROLES = ("core", "edge", "branch", "aggregation")
KIND_BOOTSTRAP = "bootstrap"
KIND_FULL = "full"
KINDS = (KIND_BOOTSTRAP, KIND_FULL)

# Where each platform keeps its out-of-band management port and VRF by default.
MGMT_DEFAULTS = {
    PLATFORM_IOSXE: {"interface": "GigabitEthernet0", "vrf": "Mgmt-vrf"},
    PLATFORM_JUNOS: {"interface": "fxp0", "vrf": "mgmt_junos"},
}
LOOPBACK_NAME = {PLATFORM_IOSXE: "Loopback0", PLATFORM_JUNOS: "lo0"}


def _netmask(prefix_length: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix_length}").netmask)


@dataclass(frozen=True, slots=True)
class SiteContext:
    name: str
    slug: str
    domain_name: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class AddressContext:
    """An IPv4 address with its prefix length; ``netmask`` and ``cidr`` for templates."""

    address: str
    prefix_length: int

    @property
    def netmask(self) -> str:
        return _netmask(self.prefix_length)

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix_length}"


@dataclass(frozen=True, slots=True)
class MgmtContext:
    interface: str
    vrf: str
    address: str
    prefix_length: int
    gateway: str

    @property
    def netmask(self) -> str:
        return _netmask(self.prefix_length)

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefix_length}"


@dataclass(frozen=True, slots=True)
class LocalUser:
    """A local account. ``secret_hash`` is ``$9$…``/``$8$…`` (IOS) or ``$6$…`` (Junos)."""

    name: str
    secret_hash: str
    privilege: int = 15

    @property
    def secret_type(self) -> str:
        """The IOS ``secret <type>`` keyword for this hash (``9`` scrypt, ``8`` PBKDF2)."""
        return self.secret_hash[1:2]

    @property
    def junos_class(self) -> str:
        return "super-user" if self.privilege >= 15 else "read-only"


@dataclass(frozen=True, slots=True)
class OSPFInterfaceContext:
    area: str = "0.0.0.0"
    network_type: str = "point-to-point"  # or "broadcast"
    cost: int | None = None
    passive: bool = False


@dataclass(frozen=True, slots=True)
class InterfaceContext:
    """A cabled interface of the design. Either ``address`` is set or ``lag`` names the
    aggregate it belongs to (``Port-channel1`` / ``ae0``)."""

    name: str
    description: str
    address: AddressContext | None = None
    lag: str | None = None
    mtu: int | None = None
    ospf: OSPFInterfaceContext | None = None
    peer_device: str = ""
    peer_interface: str = ""
    enabled: bool = True

    @property
    def lag_number(self) -> str:
        """The digits of ``lag`` (``ae3`` → ``3``, ``Port-channel12`` → ``12``)."""
        return "".join(ch for ch in (self.lag or "") if ch.isdigit())


@dataclass(frozen=True, slots=True)
class OSPFContext:
    process_id: int = 1
    reference_bandwidth_mbps: int = 100000


@dataclass(frozen=True, slots=True)
class BGPSessionContext:
    peer_address: str
    remote_asn: int
    description: str = ""
    internal: bool = False
    update_source: str | None = None  # interface name (IOS) / local address (Junos)
    route_reflector_client: bool = False


@dataclass(frozen=True, slots=True)
class SNMPUserContext:
    """An SNMPv3 user with RFC 3414 keys localized to the router's engine ID (hex)."""

    name: str
    group: str
    auth_key: str  # localized key, hex (RFC 3414 password-to-key, then localization)
    priv_key: str  # localized privacy key, hex, cut to the cipher's key size
    auth_protocol: str = "sha"  # md5 | sha | sha-256
    priv_protocol: str = "aes-128"  # aes-128 | aes-256 | des

    @property
    def ios_auth(self) -> str:
        return {"md5": "md5", "sha": "sha", "sha-256": "sha-2 256"}[self.auth_protocol]

    @property
    def ios_priv(self) -> str:
        return {"aes-128": "aes 128", "aes-256": "aes 256", "des": "des"}[self.priv_protocol]

    @property
    def junos_auth(self) -> str:
        return {"md5": "authentication-md5", "sha": "authentication-sha"}.get(
            self.auth_protocol, "authentication-sha256"
        )

    @property
    def junos_priv(self) -> str:
        return {"des": "privacy-des", "aes-256": "privacy-aes256"}.get(
            self.priv_protocol, "privacy-aes128"
        )

    @property
    def auth_key_colon(self) -> str:
        return ":".join(self.auth_key[i : i + 2] for i in range(0, len(self.auth_key), 2))

    @property
    def priv_key_colon(self) -> str:
        return ":".join(self.priv_key[i : i + 2] for i in range(0, len(self.priv_key), 2))


@dataclass(frozen=True, slots=True)
class SNMPContext:
    engine_id: str  # hex, 5-32 bytes: the engine ID the keys are localized to
    engine_id_suffix: str = ""  # Junos ``engine-id local <suffix>`` (ID = 80000a4c04 + ASCII)
    users: tuple[SNMPUserContext, ...] = ()
    trap_hosts: tuple[str, ...] = ()
    location: str = ""
    contact: str = ""


@dataclass(frozen=True, slots=True)
class DeviceContext:
    hostname: str
    platform: str
    role: str
    site: SiteContext
    mgmt: MgmtContext
    users: tuple[LocalUser, ...]
    root_hash: str = ""
    enable_hash: str = ""
    loopback: AddressContext | None = None
    interfaces: tuple[InterfaceContext, ...] = ()
    router_id: str | None = None
    asn: int | None = None
    ospf: OSPFContext | None = None
    bgp_sessions: tuple[BGPSessionContext, ...] = ()
    ntp_servers: tuple[str, ...] = ()
    syslog_servers: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    snmp: SNMPContext | None = None
    banner: str = ""
    vars: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    device_id: int | None = None  # the Device row, when built from the database

    @property
    def loopback_name(self) -> str:
        return LOOPBACK_NAME.get(self.platform, "Loopback0")

    @property
    def ibgp_sessions(self) -> tuple[BGPSessionContext, ...]:
        return tuple(s for s in self.bgp_sessions if s.internal)

    @property
    def ebgp_sessions(self) -> tuple[BGPSessionContext, ...]:
        return tuple(s for s in self.bgp_sessions if not s.internal)

    @property
    def ospf_interfaces(self) -> tuple[InterfaceContext, ...]:
        return tuple(i for i in self.interfaces if i.ospf is not None and i.address)

    @property
    def loopback_ospf_area(self) -> str:
        """The OSPF area of the loopback: that of the first OSPF interface, else backbone."""
        for intf in self.interfaces:
            if intf.ospf is not None:
                return intf.ospf.area
        return "0.0.0.0"

    @property
    def lags(self) -> tuple[str, ...]:
        return tuple(sorted({i.lag for i in self.interfaces if i.lag}))


def freeze_vars(values: dict[str, Any] | None) -> MappingProxyType:
    """Template variables as a read-only mapping (templates cannot mutate the context)."""
    return MappingProxyType(dict(values or {}))
