"""Reads of dcim, each in a bounded number of queries: the querysets the API and pages list
with, the console path to a router, and the credentials turn-up logs in with.

What other apps call:
- ``device_console_path(*, device) -> ConsolePath | None``
- ``site_console_paths(*, site) -> dict[device_id, ConsolePath]``
- ``device_credentials(*, device) -> Credentials | None``
- ``site_device_credentials(*, site) -> dict[device_id, Credentials]``
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import F, Prefetch, QuerySet

from turnup.dcim.choices import ConsoleAccessMethod
from turnup.dcim.models import (
    Cable,
    ConsolePort,
    ConsoleServerPort,
    CredentialProfile,
    Device,
    DeviceType,
    Interface,
    Site,
)

# -- lists --------------------------------------------------------------------------------


def site_list() -> QuerySet[Site]:
    return Site.objects.select_related("credential_profile")


def device_type_list() -> QuerySet[DeviceType]:
    return DeviceType.objects.select_related("manufacturer", "default_platform")


def device_list() -> QuerySet[Device]:
    return Device.objects.select_related(
        "site", "rack", "device_type", "device_type__manufacturer", "role", "platform"
    ).select_related("credential_profile")


def interface_list() -> QuerySet[Interface]:
    return Interface.objects.select_related("cable").prefetch_related("device")


def console_port_list() -> QuerySet[ConsolePort]:
    return ConsolePort.objects.select_related("cable").prefetch_related("device")


def console_server_port_list() -> QuerySet[ConsoleServerPort]:
    return ConsoleServerPort.objects.select_related("cable").prefetch_related("device")


@dataclass(frozen=True)
class DeviceLink:
    """One cabled network port of a device and what is at the far end of its cable."""

    name: str
    enabled: bool
    peer_device: str = ""  # the far end, "" for a cable whose far end is not an interface
    peer_port: str = ""

    @property
    def peer(self) -> str:
        """``"<device> <interface>"`` of the far end, or ``""``."""
        return f"{self.peer_device} {self.peer_port}".strip()


def device_links(*, device: Device) -> list[DeviceLink]:
    """The cabled network ports of ``device`` that are not management-only, in port order,
    with their far ends (two queries)."""
    ports = (
        Interface.objects.filter(device=device, cable__isnull=False, mgmt_only=False)
        .select_related("cable")
        .prefetch_related(
            Prefetch("cable__interfaces", queryset=Interface.objects.select_related("device"))
        )
        .order_by("id")
    )
    links = []
    for port in ports:
        far = [end for end in port.cable.interfaces.all() if end.pk != port.pk]
        links.append(
            DeviceLink(
                name=port.name,
                enabled=port.enabled,
                peer_device=far[0].device.name if far else "",
                peer_port=far[0].name if far else "",
            )
        )
    return links


def cable_list() -> QuerySet[Cable]:
    """Cables with their ends (three prefetches, whatever the number of cables)."""
    return Cable.objects.prefetch_related(
        Prefetch("interfaces", queryset=Interface.objects.select_related("device")),
        Prefetch("console_ports", queryset=ConsolePort.objects.select_related("device")),
        Prefetch(
            "console_server_ports", queryset=ConsoleServerPort.objects.select_related("device")
        ),
    )


# -- console paths ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsolePath:
    """How to reach a device's serial console: which console server, at which address,
    which line, and how (reverse telnet to ``tcp_port``, or SSH with the line in the user)."""

    device_id: int
    device_name: str
    console_port: str
    console_server_id: int
    console_server: str
    console_server_port: str
    host: str
    line: int
    tcp_port: int | None
    baud: int
    method: str
    ssh_username_format: str
    cable_status: str

    def ssh_username(self, username: str) -> str:
        """The SSH user that lands on this line (Opengear style ``admin:port5``)."""
        return self.ssh_username_format.format(username=username, line=self.line)

    @property
    def port(self) -> int:
        """The TCP port to connect to on ``host``."""
        if self.tcp_port:
            return self.tcp_port
        return 22 if self.method == ConsoleAccessMethod.SSH else 23


# A resolver gives the address of console servers whose ``console_host`` is empty, e.g. ipam
# answering with their primary management address: ``resolver(*, device_ids) -> {id: host}``.
ConsoleHostResolver = Callable[..., dict[int, str]]
_console_host_resolvers: list[ConsoleHostResolver] = []


def console_host_resolver_register(resolver: ConsoleHostResolver) -> ConsoleHostResolver:
    if resolver not in _console_host_resolvers:
        _console_host_resolvers.append(resolver)
    return resolver


def console_host_resolver_unregister(resolver: ConsoleHostResolver) -> None:
    if resolver in _console_host_resolvers:
        _console_host_resolvers.remove(resolver)


def _server_ports(**filters) -> QuerySet[ConsoleServerPort]:
    """Console-server ports cabled to a console port, with that port and its device."""
    return (
        ConsoleServerPort.objects.filter(cable__console_ports__isnull=False, **filters)
        .select_related("device", "cable")
        .annotate(
            router_id=F("cable__console_ports__device_id"),
            router_name=F("cable__console_ports__device__name"),
            router_port=F("cable__console_ports__name"),
            router_port_id=F("cable__console_ports__id"),
        )
        .order_by("router_id", "router_port_id")
    )


def _paths(server_ports: Iterable[ConsoleServerPort]) -> dict[int, ConsolePath]:
    ports = list(server_ports)
    missing = {p.device_id for p in ports if not p.device.console_host}
    hosts: dict[int, str] = {}
    for resolver in list(_console_host_resolvers):
        if not missing:
            break
        found = resolver(device_ids=sorted(missing))
        hosts.update(found)
        missing -= set(found)
    paths: dict[int, ConsolePath] = {}
    for port in ports:
        if port.router_id in paths:  # the first cabled console port wins
            continue
        server = port.device
        paths[port.router_id] = ConsolePath(
            device_id=port.router_id,
            device_name=port.router_name,
            console_port=port.router_port,
            console_server_id=server.pk,
            console_server=server.name,
            console_server_port=port.name,
            host=server.console_host or hosts.get(server.pk, ""),
            line=port.line,
            tcp_port=port.tcp_port,
            baud=port.baud,
            method=port.access_method,
            ssh_username_format=server.console_ssh_username_format,
            cable_status=port.cable.status,
        )
    return paths


def device_console_path(*, device: Device) -> ConsolePath | None:
    """The console path of ``device`` (its first cabled console port), or None. One query
    (plus one per registered host resolver when the console server has no console_host)."""
    return _paths(_server_ports(cable__console_ports__device=device)).get(device.pk)


def site_console_paths(*, site: Site) -> dict[int, ConsolePath]:
    """The console path of every device of ``site`` that has one, by device id: one query."""
    return _paths(_server_ports(cable__console_ports__device__site=site))


# -- credentials --------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """The plaintext logins for one device, for the turn-up drivers only: never log it
    (its repr shows no secret)."""

    profile: str
    console_username: str
    console_password: str = field(repr=False)
    local_username: str
    local_password: str = field(repr=False)
    junos_root_password: str = field(repr=False)
    enable_secret: str = field(repr=False)
    snmp_username: str
    snmp_auth_protocol: str
    snmp_auth_key: str = field(repr=False)
    snmp_priv_protocol: str
    snmp_priv_key: str = field(repr=False)

    @classmethod
    def from_profile(cls, profile: CredentialProfile) -> Credentials:
        return cls(
            profile=profile.name,
            console_username=profile.console_username,
            console_password=profile.console_password,
            local_username=profile.local_username,
            local_password=profile.local_password,
            junos_root_password=profile.junos_root_password,
            enable_secret=profile.enable_secret,
            snmp_username=profile.snmp_username,
            snmp_auth_protocol=profile.snmp_auth_protocol,
            snmp_auth_key=profile.snmp_auth_key,
            snmp_priv_protocol=profile.snmp_priv_protocol,
            snmp_priv_key=profile.snmp_priv_key,
        )


def _profiles(ids: set[int]) -> dict[int | None, CredentialProfile]:
    """Profiles by id, plus the default under the key None: one query."""
    profiles = CredentialProfile.objects.filter(pk__in=ids) | CredentialProfile.objects.filter(
        is_default=True
    )
    found: dict[int | None, CredentialProfile] = {}
    for profile in profiles:
        found[profile.pk] = profile
        if profile.is_default:
            found[None] = profile
    return found


def _resolve(
    device_profile_id: int | None,
    site_profile_id: int | None,
    profiles: dict[int | None, CredentialProfile],
) -> Credentials | None:
    for key in (device_profile_id, site_profile_id):
        if key is not None and key in profiles:
            return Credentials.from_profile(profiles[key])
    default = profiles.get(None)
    return Credentials.from_profile(default) if default is not None else None


def device_credentials(*, device: Device) -> Credentials | None:
    """The credentials of ``device``: its own profile, else its site's, else the default
    profile, else None. At most two queries."""
    site_profile_id = (
        Site.objects.filter(pk=device.site_id).values_list("credential_profile_id", flat=True)[0]
        if not device.credential_profile_id
        else None
    )
    ids = {pk for pk in (device.credential_profile_id, site_profile_id) if pk}
    return _resolve(device.credential_profile_id, site_profile_id, _profiles(ids))


def site_device_credentials(*, site: Site) -> dict[int, Credentials]:
    """The credentials of every device of ``site`` (as ``device_credentials``), by device
    id; devices with none are left out. Three queries."""
    site_profile_id = Site.objects.values_list("credential_profile_id", flat=True).get(pk=site.pk)
    rows = list(Device.objects.filter(site=site).values_list("pk", "credential_profile_id"))
    ids = {pk for _, pk in rows if pk} | ({site_profile_id} if site_profile_id else set())
    profiles = _profiles(ids)
    resolved = {}
    for device_id, profile_id in rows:
        credentials = _resolve(profile_id, site_profile_id, profiles)
        if credentials is not None:
            resolved[device_id] = credentials
    return resolved
