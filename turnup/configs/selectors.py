"""Reads of configs: the render context of a whole site (a constant number of queries,
whatever the number of routers), the template environment with its overrides, rendering
without storing, and versions with their text and diffs.

What other apps call:
- ``site_render_context(*, site) -> SiteRenderContext`` (contexts + per-device problems)
- ``device_render(*, device) -> DeviceRender`` rendered + linted bootstrap and full text,
  nothing stored (use ``services.device_configs_for_push`` to get an archived version)
- ``config_version_text(*, version) -> str``, ``config_version_diff(*, version, against)``
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Max, QuerySet

from turnup.blueprints.selectors import site_template_variables
from turnup.configs import hashing
from turnup.configs.context import (
    KINDS,
    LOOPBACK_NAME,
    MGMT_DEFAULTS,
    PLATFORM_IOSXE,
    PLATFORM_JUNOS,
    RENDERED_PLATFORMS,
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
from turnup.configs.lint import Finding, lint_config
from turnup.configs.models import ConfigTemplate, ConfigVersion
from turnup.configs.rendering import cached_environment, render_config, template_candidates
from turnup.core.errors import ApplicationError, NotFoundError
from turnup.dcim.models import Device, Interface, Site
from turnup.dcim.selectors import Credentials, site_device_credentials
from turnup.ipam.models import IPAddress
from turnup.routing.selectors import (
    bgp_sessions_by_device,
    device_routing_by_device,
    ospf_interfaces_by_interface,
    site_routing_get,
)

# -- the template environment ---------------------------------------------------------------


def template_overrides() -> dict[str, str]:
    """Enabled ``ConfigTemplate`` rows by path: one query."""
    return dict(ConfigTemplate.objects.filter(enabled=True).values_list("path", "text"))


def template_folder() -> Path:
    """``$TURNUP_DATA_DIR/templates``: files here replace shipped templates of the same path."""
    return Path(settings.DATA_DIR) / "templates"


def template_environment() -> jinja2.Environment:
    """The environment for a render: database overrides, the data-dir folder, the shipped
    templates. One query; compiled templates are reused while the overrides do not change."""
    folder = template_folder()
    folders = [folder] if folder.is_dir() else []
    return cached_environment(overrides=template_overrides(), folders=folders)


# -- the render context of a site -------------------------------------------------------------


@dataclass
class SiteRenderContext:
    """The contexts of every rendered router of a site (platform ``cisco_iosxe`` or
    ``juniper_junos``), and why the others could not get one (by device name)."""

    site: Site
    devices: list[DeviceContext] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)


def _hash_for(platform: str, *, label: str, secret: str) -> str:
    key = settings.SECRET_KEY
    if platform == PLATFORM_JUNOS:
        salt = hashing.derive_salt(key=key, label=label, secret=secret, length=16)
        return str(hashing.cached_hash("sha512", secret, salt))
    salt = hashing.derive_salt(key=key, label=label, secret=secret, length=14)
    return str(hashing.cached_hash("cisco9", secret, salt))


_AUTH_DIGEST = {"md5": "md5", "sha": "sha1", "sha-256": "sha256"}
_PRIV_BYTES = {"aes-128": 16, "aes-256": 32, "des": 16}


def _snmp_user(credentials: Credentials, engine_id: str, group: str) -> SNMPUserContext | None:
    if not (credentials.snmp_username and credentials.snmp_auth_key):
        return None
    algorithm = _AUTH_DIGEST.get(credentials.snmp_auth_protocol, "sha1")
    ku_auth = hashing.cached_hash(f"snmp-ku-{algorithm}", credentials.snmp_auth_key)
    ku_priv = hashing.cached_hash(
        f"snmp-ku-{algorithm}", credentials.snmp_priv_key or credentials.snmp_auth_key
    )
    auth = hashing.snmp_localize_key(ku_auth, engine_id, algorithm)
    priv = hashing.snmp_localize_key(ku_priv, engine_id, algorithm)
    need = _PRIV_BYTES.get(credentials.snmp_priv_protocol, 16)
    if len(priv) < need:
        raise ApplicationError(
            f"SNMP privacy {credentials.snmp_priv_protocol} needs {need}-byte keys: use "
            f"authentication sha-256 with it (profile {credentials.profile})",
            extra={"profile": credentials.profile},
        )
    return SNMPUserContext(
        name=credentials.snmp_username,
        group=group,
        auth_key=auth.hex(),
        priv_key=priv[:need].hex(),
        auth_protocol=credentials.snmp_auth_protocol,
        priv_protocol=credentials.snmp_priv_protocol,
    )


def _as_tuple(value) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return (str(value),)


def _rendered_devices(site: Site) -> QuerySet[Device]:
    return (
        Device.objects.filter(site=site, platform__slug__in=RENDERED_PLATFORMS)
        .select_related("role", "platform")
        .order_by("name", "id")
    )


def rendered_device_count(*, site: Site) -> int:
    """How many routers of ``site`` get configs (one query)."""
    return _rendered_devices(site).count()


def site_render_context(*, site: Site, device_ids: list[int] | None = None) -> SiteRenderContext:
    """Everything the templates need for every router of ``site`` (or only ``device_ids``),
    in a constant number of queries (12), whatever the number of routers."""
    result = SiteRenderContext(site=site)
    devices_qs = _rendered_devices(site)
    if device_ids is not None:
        devices_qs = devices_qs.filter(pk__in=device_ids)
    devices = list(devices_qs)
    if not devices:
        return result
    ids = [d.pk for d in devices]

    interfaces = list(
        Interface.objects.filter(device_id__in=ids)
        .only("id", "device_id", "name", "type", "enabled", "mtu", "mgmt_only", "cable_id")
        .order_by("device_id", "id")
    )
    cable_ids = {i.cable_id for i in interfaces if i.cable_id}
    ends = (
        Interface.objects.filter(
            cable_id__in=Interface.objects.filter(device_id__in=ids).values("cable_id")
        ).values_list("id", "cable_id", "name", "device__name")
        if cable_ids
        else []
    )
    peers_by_cable: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for intf_id, cable_id, name, device_name in ends:
        peers_by_cable[cable_id].append((intf_id, name, device_name))

    addresses = list(
        IPAddress.objects.filter(device_id__in=ids, family=4).values_list(
            "device_id", "assigned_interface_id", "address", "is_primary_mgmt"
        )
    )
    by_interface: dict[int, str] = {}
    mgmt_by_device: dict[int, tuple[int | None, str]] = {}
    for device_id, interface_id, address, is_mgmt in sorted(addresses, key=lambda a: a[2]):
        if is_mgmt:
            mgmt_by_device[device_id] = (interface_id, address)
        elif interface_id is not None:
            by_interface.setdefault(interface_id, address)

    routing = device_routing_by_device(device_ids=ids)
    ospf = ospf_interfaces_by_interface(device_ids=ids)
    sessions = bgp_sessions_by_device(device_ids=ids)
    site_routing = site_routing_get(site_id=site.pk)
    credentials = site_device_credentials(site=site)
    variables = site_template_variables(site_id=site.pk)

    interfaces_by_device: dict[int, list[Interface]] = defaultdict(list)
    for intf in interfaces:
        interfaces_by_device[intf.device_id].append(intf)

    site_ctx = SiteContext(
        name=site.name,
        slug=site.slug,
        # IOS needs a domain name for its RSA key: <site slug>.local unless the site says.
        domain_name=str(variables.get("domain_name") or f"{site.slug}.local"),
        location=str(variables.get("snmp_location", "") or site.physical_address or site.name),
    )
    frozen_vars = freeze_vars(variables)
    for device in devices:
        try:
            context = _device_context(
                device=device,
                site_ctx=site_ctx,
                interfaces=interfaces_by_device.get(device.pk, []),
                peers_by_cable=peers_by_cable,
                by_interface=by_interface,
                mgmt=mgmt_by_device.get(device.pk),
                routing=routing.get(device.pk),
                ospf=ospf,
                sessions=sessions.get(device.pk, []),
                site_routing=site_routing,
                credentials=credentials.get(device.pk),
                variables=variables,
                frozen_vars=frozen_vars,
            )
        except ApplicationError as error:
            result.problems[device.name] = error.message
            continue
        result.devices.append(context)
    return result


def _device_context(
    *,
    device: Device,
    site_ctx: SiteContext,
    interfaces: list[Interface],
    peers_by_cable,
    by_interface: dict[int, str],
    mgmt,
    routing,
    ospf,
    sessions,
    site_routing,
    credentials: Credentials | None,
    variables: dict,
    frozen_vars,
) -> DeviceContext:
    platform = device.platform.slug
    if mgmt is None:
        raise ApplicationError(f"{device.name} has no primary management address")
    if credentials is None:
        raise ApplicationError(f"{device.name} has no credential profile (and no default)")
    names = {intf.pk: intf.name for intf in interfaces}
    mgmt_interface_id, mgmt_address = mgmt
    mgmt_if = ipaddress.IPv4Interface(mgmt_address)
    defaults = MGMT_DEFAULTS[platform]
    gateway = site_routing.mgmt_gateway if site_routing and site_routing.mgmt_gateway else None
    if gateway is None:
        gateway = str(next(mgmt_if.network.hosts()))
    # The router's own management VRF: IOS-XE's built-in ``Mgmt-vrf`` (a site may name
    # another with the template variable ``iosxe_mgmt_vrf``), Junos' ``mgmt_junos``. The
    # IPAM VRF of the management prefix is a design name and is not used here.
    vrf = defaults["vrf"]
    if platform == PLATFORM_IOSXE and variables.get("iosxe_mgmt_vrf"):
        vrf = str(variables["iosxe_mgmt_vrf"])
    mgmt_ctx = MgmtContext(
        interface=names.get(mgmt_interface_id) or defaults["interface"],
        vrf=vrf,
        address=str(mgmt_if.ip),
        prefix_length=mgmt_if.network.prefixlen,
        gateway=str(gateway),
    )

    loopback_name = (routing.loopback_interface if routing else "") or LOOPBACK_NAME[platform]
    loopback = None
    intf_contexts = []
    for intf in interfaces:
        address = by_interface.get(intf.pk)
        if intf.name in (loopback_name, f"{loopback_name}.0") and address:
            parsed = ipaddress.IPv4Interface(address)
            loopback = AddressContext(str(parsed.ip), parsed.network.prefixlen)
            continue
        if intf.cable_id is None or intf.mgmt_only or intf.pk == mgmt_interface_id:
            continue
        peer = next(
            (p for p in peers_by_cable.get(intf.cable_id, ()) if p[0] != intf.pk), (0, "", "")
        )
        ospf_row = ospf.get(intf.pk)
        parsed = ipaddress.IPv4Interface(address) if address else None
        intf_contexts.append(
            InterfaceContext(
                name=intf.name,
                description=f"to {peer[2]} {peer[1]}".strip(),
                address=AddressContext(str(parsed.ip), parsed.network.prefixlen)
                if parsed
                else None,
                mtu=intf.mtu,
                ospf=OSPFInterfaceContext(
                    area=ospf_row.area,
                    network_type=ospf_row.network_type,
                    cost=ospf_row.cost,
                    passive=ospf_row.passive,
                )
                if ospf_row
                else None,
                peer_device=peer[2],
                peer_interface=peer[1],
                enabled=intf.enabled,
            )
        )

    router_id = (routing.router_id if routing else None) or (loopback.address if loopback else None)
    asn = routing.asn.asn if routing and routing.asn_id else None
    has_ospf = bool(routing and routing.ospf_process) or any(i.ospf for i in intf_contexts)
    ospf_ctx = (
        OSPFContext(
            process_id=(routing.ospf_process if routing and routing.ospf_process else 1),
            reference_bandwidth_mbps=routing.ospf_reference_bandwidth if routing else 100000,
        )
        if has_ospf
        else None
    )
    bgp = tuple(
        BGPSessionContext(
            peer_address=s.peer_address,
            remote_asn=s.remote_asn,
            description=s.description or (s.peer_device.name if s.peer_device else ""),
            internal=s.kind == "ibgp",
            update_source=s.update_source or None,
            route_reflector_client=s.route_reflector_client,
        )
        for s in sessions
    )

    label = f"{credentials.profile}:"
    users = []
    if credentials.local_username and credentials.local_password:
        users.append(
            LocalUser(
                name=credentials.local_username,
                secret_hash=_hash_for(
                    platform,
                    label=label + credentials.local_username,
                    secret=credentials.local_password,
                ),
            )
        )
    if not users:
        raise ApplicationError(f"{device.name}: the credential profile has no local user")
    root_hash = enable_hash = ""
    if platform == PLATFORM_JUNOS:
        if not credentials.junos_root_password:
            raise ApplicationError(f"{device.name}: the profile has no Junos root password")
        root_hash = _hash_for(
            platform, label=label + "root", secret=credentials.junos_root_password
        )
    elif credentials.enable_secret:
        enable_hash = _hash_for(platform, label=label + "enable", secret=credentials.enable_secret)

    snmp = None
    if credentials.snmp_username:
        if platform == PLATFORM_JUNOS:
            suffix = f"turnup-{device.pk}"
            engine_id = hashing.junos_engine_id(suffix)
        else:
            suffix, engine_id = "", f"800000090300{device.pk:012x}"
        user = _snmp_user(credentials, engine_id, str(variables.get("snmp_group", "NMS")))
        snmp = SNMPContext(
            engine_id=engine_id,
            engine_id_suffix=suffix,
            users=(user,) if user else (),
            trap_hosts=_as_tuple(variables.get("snmp_trap_hosts")),
            location=site_ctx.location,
            contact=str(variables.get("snmp_contact", "")),
        )

    return DeviceContext(
        hostname=device.name,
        platform=platform,
        role=device.role.slug,
        site=site_ctx,
        mgmt=mgmt_ctx,
        users=tuple(users),
        root_hash=root_hash,
        enable_hash=enable_hash,
        loopback=loopback,
        interfaces=tuple(intf_contexts),
        router_id=router_id,
        asn=asn,
        ospf=ospf_ctx,
        bgp_sessions=bgp,
        ntp_servers=_as_tuple(variables.get("ntp_servers")),
        syslog_servers=_as_tuple(variables.get("syslog_servers") or variables.get("syslog_server")),
        dns_servers=_as_tuple(variables.get("dns_servers")),
        snmp=snmp,
        banner=str(variables.get("banner", "")),
        vars=frozen_vars,
        device_id=device.pk,
    )


# -- rendering without storing ---------------------------------------------------------------


@dataclass(frozen=True)
class RenderedConfig:
    """One rendered, linted config (not stored)."""

    device_id: int | None
    hostname: str
    platform: str
    kind: str
    text: str
    template: str
    findings: tuple[Finding, ...]

    @property
    def size(self) -> int:
        return len(self.text.encode())

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def lines(self) -> int:
        return self.text.count("\n")

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def render_and_lint(
    *, context: DeviceContext, kind: str, env: jinja2.Environment
) -> RenderedConfig:
    text = render_config(context=context, kind=kind, env=env)
    candidates = template_candidates(platform=context.platform, role=context.role, kind=kind)
    template = env.select_template(candidates).name or candidates[0]
    return RenderedConfig(
        device_id=context.device_id,
        hostname=context.hostname,
        platform=context.platform,
        kind=kind,
        text=text,
        template=template,
        findings=tuple(lint_config(text=text, context=context, kind=kind)),
    )


def device_render(*, device: Device) -> dict[str, RenderedConfig]:
    """The bootstrap and full config of one router, rendered from the current design and
    linted, by kind. Nothing is stored. Raises ApplicationError when it cannot be rendered."""
    site_context = site_render_context(site=device.site, device_ids=[device.pk])
    if device.name in site_context.problems:
        raise ApplicationError(site_context.problems[device.name], extra={"device": device.name})
    if not site_context.devices:
        raise ApplicationError(
            f"{device.name} is not a rendered platform ({', '.join(RENDERED_PLATFORMS)})",
            extra={"device": device.name},
        )
    env = template_environment()
    context = site_context.devices[0]
    return {kind: render_and_lint(context=context, kind=kind, env=env) for kind in KINDS}


# -- versions -----------------------------------------------------------------------------------


def config_version_list() -> QuerySet[ConfigVersion]:
    return ConfigVersion.objects.all()


def config_versions_latest(*, device_ids: list[int]) -> dict[tuple[int, str], ConfigVersion]:
    """The newest version of each (device, kind): one query."""
    newest = (
        ConfigVersion.objects.filter(device_id__in=device_ids)
        .order_by()
        .values("device_id", "kind")
        .annotate(last=Max("id"))
        .values("last")
    )
    return {(v.device_id, v.kind): v for v in ConfigVersion.objects.filter(pk__in=newest)}


def config_version_text(*, version: ConfigVersion) -> str:
    try:
        with default_storage.open(version.storage_path, "rb") as handle:
            return handle.read().decode()
    except FileNotFoundError:
        raise NotFoundError(
            f"the text of {version} is missing from storage",
            extra={"storage_path": version.storage_path},
        ) from None


def config_version_diff(*, version: ConfigVersion, against: ConfigVersion) -> str:
    """A unified diff from ``against`` (old) to ``version`` (new)."""
    return config_texts_diff(
        old=config_version_text(version=against),
        new=config_version_text(version=version),
        old_label=config_version_label(against.hostname, against.kind, against.pk, against.sha256),
        new_label=config_version_label(version.hostname, version.kind, version.pk, version.sha256),
    )


def config_version_label(hostname: str, kind: str, pk: int, sha256: str) -> str:
    """How a diff names a version: ``lon-01-er1 full v12 3f2a9c0b1d4e``."""
    return f"{hostname} {kind} v{pk} {sha256[:12]}"


def config_texts_diff(*, old: str, new: str, old_label: str, new_label: str) -> str:
    """A unified diff of two config texts already in hand."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=old_label,
            tofile=new_label,
        )
    )
