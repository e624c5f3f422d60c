"""Hand-built render contexts (no database): the inputs of the golden-file tests."""

from __future__ import annotations

from turnup.configs import hashing
from turnup.configs.context import (
    MGMT_DEFAULTS,
    PLATFORM_IOSXE,
    PLATFORM_JUNOS,
    AddressContext,
    BGPSessionContext,
    DeviceContext,
    InterfaceContext,
    LocalUser,
    MgmtContext,
    OSPFContext,
    OSPFInterfaceContext,
    SiteContext,
    SNMPContext,
    SNMPUserContext,
    freeze_vars,
)

KEY = "golden-test-key"
PEER_INTERFACE = {PLATFORM_IOSXE: "TenGigabitEthernet0/1/0", PLATFORM_JUNOS: "xe-0/0/0"}
UPLINKS = {
    PLATFORM_IOSXE: ("TenGigabitEthernet0/1/0", "TenGigabitEthernet0/1/1"),
    PLATFORM_JUNOS: ("xe-0/0/0", "xe-0/0/1"),
}
MEMBERS = {
    PLATFORM_IOSXE: ("GigabitEthernet0/0/2", "GigabitEthernet0/0/3", "Port-channel1"),
    PLATFORM_JUNOS: ("ge-0/0/2", "ge-0/0/3", "ae0"),
}


def _user_hash(platform: str, name: str, secret: str) -> str:
    if platform == PLATFORM_JUNOS:
        salt = hashing.derive_salt(key=KEY, label=f"user:{name}", secret=secret, length=16)
        return str(hashing.cached_hash("sha512", secret, salt))
    salt = hashing.derive_salt(key=KEY, label=f"user:{name}", secret=secret, length=14)
    return str(hashing.cached_hash("cisco9", secret, salt))


def _snmp(platform: str, index: int) -> SNMPContext:
    suffix = f"lon01-{index}" if platform == PLATFORM_JUNOS else ""
    engine_id = (
        hashing.junos_engine_id(suffix)
        if platform == PLATFORM_JUNOS
        else f"80000009030000000000{index:04x}"
    )
    ku_auth = hashing.cached_hash("snmp-ku", "auth-pass-123")
    ku_priv = hashing.cached_hash("snmp-ku", "priv-pass-456")
    return SNMPContext(
        engine_id=engine_id,
        engine_id_suffix=suffix,
        users=(
            SNMPUserContext(
                name="nms",
                group="NMS-RO",
                auth_key=hashing.snmp_localize_key(ku_auth, engine_id).hex(),
                priv_key=hashing.snmp_localize_key(ku_priv, engine_id)[:16].hex(),
            ),
        ),
        trap_hosts=("10.10.0.162",),
        location="London LON-01, rack A1",
        contact="noc@example.net",
    )


def sample_context(platform: str, role: str, *, index: int = 1) -> DeviceContext:
    """A router of site LON-01 with two routed uplinks, a two-member LAG, OSPF and BGP."""
    hostname = f"LON-01-{role}-{index}"
    up1, up2 = UPLINKS[platform]
    member1, member2, lag = MEMBERS[platform]
    other = PLATFORM_JUNOS if platform == PLATFORM_IOSXE else PLATFORM_IOSXE
    loopback = AddressContext(f"10.255.0.{index}", 32)
    interfaces = (
        InterfaceContext(
            name=up1,
            description=f"to LON-01-core-2 {PEER_INTERFACE[other]}",
            address=AddressContext("10.1.0.0", 31),
            mtu=9216,
            ospf=OSPFInterfaceContext(area="0.0.0.0", network_type="point-to-point"),
            peer_device="LON-01-core-2",
            peer_interface=PEER_INTERFACE[other],
        ),
        InterfaceContext(
            name=up2,
            description="to LON-01-edge-1 xe-0/0/3",
            address=AddressContext("10.1.0.2", 31),
            mtu=9216,
            ospf=OSPFInterfaceContext(area="0.0.0.0", network_type="point-to-point", cost=100),
            peer_device="LON-01-edge-1",
            peer_interface="xe-0/0/3",
        ),
        InterfaceContext(
            name=member1,
            description="to LON-01-agg-1 ge-0/0/10",
            lag=lag,
            peer_device="LON-01-agg-1",
            peer_interface="ge-0/0/10",
        ),
        InterfaceContext(
            name=member2,
            description="to LON-01-agg-1 ge-0/0/11",
            lag=lag,
            peer_device="LON-01-agg-1",
            peer_interface="ge-0/0/11",
        ),
    )
    sessions = [
        BGPSessionContext(
            peer_address="10.255.0.2",
            remote_asn=65010,
            description="LON-01-core-2",
            internal=True,
            update_source=loopback_name(platform),
            route_reflector_client=role == "core",
        )
    ]
    if role in ("edge", "branch"):
        sessions.append(
            BGPSessionContext(
                peer_address="192.0.2.1", remote_asn=64500, description="upstream transit A"
            )
        )
    users = (
        LocalUser(name="admin", secret_hash=_user_hash(platform, "admin", "admin-pass-1")),
        LocalUser(name="noc", secret_hash=_user_hash(platform, "noc", "noc-pass-2"), privilege=1),
    )
    return DeviceContext(
        hostname=hostname,
        platform=platform,
        role=role,
        site=SiteContext(name="LON-01", slug="lon-01", domain_name="lon-01.example.net"),
        mgmt=MgmtContext(
            **MGMT_DEFAULTS[platform],
            address=f"10.0.0.{10 + index}",
            prefix_length=24,
            gateway="10.0.0.1",
        ),
        users=users,
        root_hash=_user_hash(PLATFORM_JUNOS, "root", "root-pass-3")
        if platform == PLATFORM_JUNOS
        else "",
        enable_hash=_user_hash(PLATFORM_IOSXE, "enable", "enable-pass-4")
        if platform == PLATFORM_IOSXE
        else "",
        loopback=loopback,
        interfaces=interfaces,
        router_id=loopback.address,
        asn=65010,
        ospf=OSPFContext(),
        bgp_sessions=tuple(sessions),
        ntp_servers=("10.10.0.123", "10.10.1.123"),
        syslog_servers=("10.10.0.50",),
        dns_servers=("10.10.0.53",),
        snmp=_snmp(platform, index),
        banner="Authorised access only.\nLON-01 - property of Example Networks.",
        vars=freeze_vars({"region": "emea"}),
    )


def loopback_name(platform: str) -> str:
    return "Loopback0" if platform == PLATFORM_IOSXE else "lo0"
