"""factory_boy factories for simple rows; composite designs come from helpers that call the
real services. Each app appends its own section."""

from __future__ import annotations

import factory

# -- dcim ---------------------------------------------------------------------------------
from turnup.dcim import models as dcim


class CredentialProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.CredentialProfile

    name = factory.Sequence(lambda n: f"profile-{n}")
    console_username = "cs-admin"
    console_password = "cs-secret"
    local_username = "turnup"
    local_password = "local-secret"
    junos_root_password = "root-secret"
    enable_secret = "enable-secret"
    snmp_username = "snmp-user"
    snmp_auth_key = "auth-key-123"
    snmp_priv_key = "priv-key-123"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.Site

    name = factory.Sequence(lambda n: f"Site {n}")
    slug = factory.Sequence(lambda n: f"site-{n}")
    time_zone = "Europe/Paris"


class RackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.Rack

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"R{n}")
    u_height = 42


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.Manufacturer
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Maker {n}")
    slug = factory.Sequence(lambda n: f"maker-{n}")


class DeviceRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.DeviceRole
        django_get_or_create = ("slug",)

    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    slug = factory.Sequence(lambda n: f"role-{n}")


class PlatformFactory(factory.django.DjangoModelFactory):
    """The three turn-up platforms exist from the data migration: get them by slug."""

    class Meta:
        model = dcim.Platform
        django_get_or_create = ("slug",)

    name = factory.LazyAttribute(lambda o: o.slug)
    slug = "cisco_iosxe"


class DeviceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.DeviceType

    manufacturer = factory.SubFactory(ManufacturerFactory)
    model = factory.Sequence(lambda n: f"Model {n}")
    slug = factory.Sequence(lambda n: f"model-{n}")
    u_height = 1


class InterfaceTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.InterfaceTemplate

    device_type = factory.SubFactory(DeviceTypeFactory)
    name = factory.Sequence(lambda n: f"Gi0/0/{n}")
    type = "1000base-t"


class ConsolePortTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.ConsolePortTemplate

    device_type = factory.SubFactory(DeviceTypeFactory)
    name = "con0"
    type = "rj-45"


class ConsoleServerPortTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.ConsoleServerPortTemplate

    device_type = factory.SubFactory(DeviceTypeFactory)
    line = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"port{o.line}")
    type = "rj-45"


class DeviceFactory(factory.django.DjangoModelFactory):
    """A bare device row (no ports): use ``device_create`` when the ports matter."""

    class Meta:
        model = dcim.Device

    name = factory.Sequence(lambda n: f"rtr-{n}")
    site = factory.SubFactory(SiteFactory)
    device_type = factory.SubFactory(DeviceTypeFactory)
    role = factory.SubFactory(DeviceRoleFactory, slug="edge")
    platform = factory.SubFactory(PlatformFactory)


class InterfaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.Interface

    device = factory.SubFactory(DeviceFactory)
    name = factory.Sequence(lambda n: f"Gi0/0/{n}")
    type = "1000base-t"


class ConsolePortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.ConsolePort

    device = factory.SubFactory(DeviceFactory)
    name = factory.Sequence(lambda n: f"con{n}")


class ConsoleServerPortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = dcim.ConsoleServerPort

    device = factory.SubFactory(DeviceFactory, role__slug="console-server")
    line = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda o: f"port{o.line}")
    tcp_port = factory.LazyAttribute(lambda o: 2000 + o.line)


def dcim_router_type(*, interfaces: int = 4, platform: str = "cisco_iosxe") -> dcim.DeviceType:
    """A router type with ``interfaces`` interfaces (Gi0/0/0…), a management port and con0."""
    device_type = DeviceTypeFactory(default_platform=PlatformFactory(slug=platform))
    for n in range(interfaces):
        InterfaceTemplateFactory(device_type=device_type, name=f"Gi0/0/{n}")
    InterfaceTemplateFactory(device_type=device_type, name="Gi0", mgmt_only=True)
    ConsolePortTemplateFactory(device_type=device_type, name="con0")
    return device_type


def dcim_console_server_type(*, lines: int = 8) -> dcim.DeviceType:
    device_type = DeviceTypeFactory(default_platform=PlatformFactory(slug="console_server"))
    for line in range(1, lines + 1):
        ConsoleServerPortTemplateFactory(device_type=device_type, line=line, name=f"port{line}")
    InterfaceTemplateFactory(device_type=device_type, name="eth0", mgmt_only=True)
    return device_type


def dcim_console_site(*, routers: int = 2, host: str = "127.0.0.1", status: str = "planned"):
    """A site with a console server (``cs1`` at ``host``) and ``routers`` routers, each with
    its con0 cabled to line N of the console server. Built with the real services.
    Returns (site, console_server, [routers])."""
    from turnup.dcim import services

    site = SiteFactory(status=status)
    router_type = dcim_router_type()
    server = services.device_create(
        name="cs1",
        site=site,
        device_type=dcim_console_server_type(lines=max(8, routers)),
        role=DeviceRoleFactory(slug="console-server"),
        platform=PlatformFactory(slug="console_server"),
        console_host=host,
    )
    lines = list(server.console_server_ports.order_by("line"))
    created = []
    for n in range(routers):
        router = services.device_create(
            name=f"rtr{n + 1}",
            site=site,
            device_type=router_type,
            role=DeviceRoleFactory(slug="edge"),
            platform=PlatformFactory(slug="cisco_iosxe"),
        )
        services.cable_create(a_end=router.console_ports.get(), b_end=lines[n], status="connected")
        created.append(router)
    return site, server, created


# -- ipam ---------------------------------------------------------------------------------------
class VRFFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ipam.VRF"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"vrf-{n}")
    rd = factory.Sequence(lambda n: f"65000:{n}")


class PrefixFactory(factory.django.DjangoModelFactory):
    """A prefix created through ``prefix_create``, so its parent and depth are right."""

    class Meta:
        model = "ipam.Prefix"

    prefix = factory.Sequence(lambda n: f"10.{n // 256 % 256}.{n % 256}.0/24")
    status = "active"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from turnup.ipam.services import prefix_create

        return prefix_create(**kwargs)


class IPAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ipam.IPAddress"

    address = factory.Sequence(lambda n: f"192.0.{n // 250 % 256}.{n % 250 + 1}/24")
    status = "active"


class ASNRangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ipam.ASNRange"

    name = factory.Sequence(lambda n: f"asn-range-{n}")
    slug = factory.Sequence(lambda n: f"asn-range-{n}")
    start = 65000
    end = 65099


class ASNFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ipam.ASN"

    asn = factory.Sequence(lambda n: 4_200_000_000 + n)


class VLANGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ipam.VLANGroup"

    name = factory.Sequence(lambda n: f"vlan-group-{n}")
    slug = factory.Sequence(lambda n: f"vlan-group-{n}")


class VLANFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "ipam.VLAN"

    group = factory.SubFactory(VLANGroupFactory)
    vid = factory.Sequence(lambda n: n % 4000 + 2)
    name = factory.Sequence(lambda n: f"vlan-{n}")
