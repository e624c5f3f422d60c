"""dcim: the physical design of a site — sites, racks, device types, devices, their ports and
the cables between them — and the credentials the turn-up logs in with.

Rules that need only the row itself live in ``clean()``; rules that need other rows (rack
space, cable ends, status transitions) live in ``services.py``, which locks what it checks.
"""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from turnup.core.models import BaseModel
from turnup.dcim import choices, constants
from turnup.dcim.secrets import EncryptedTextField

COLOR_VALIDATOR = RegexValidator(r"^[0-9a-f]{6}$", "Use six lower-case hex digits, e.g. 9e9e9e.")


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the tz database: once


def validate_time_zone(value: str) -> None:
    if value and value not in _time_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)")


class CredentialProfile(BaseModel):
    """The logins a turn-up uses: the console server's, the routers' local user, the Junos
    root password, the enable secret and the SNMPv3 user. Secret fields are encrypted at rest
    and never leave turnup through the API, the admin, the change log or the logs.

    Assigned to a device or a site; the one profile with ``is_default`` covers the rest.
    """

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("sites", "devices__site")
    TURNUP_FREEZE_EXEMPT = ("description",)

    SECRET_FIELDS = (
        "console_password",
        "local_password",
        "junos_root_password",
        "enable_secret",
        "snmp_auth_key",
        "snmp_priv_key",
    )
    CHANGELOG_EXCLUDE = SECRET_FIELDS

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="Used for devices whose device and site name no profile."
    )
    console_username = models.CharField(max_length=100, blank=True)
    console_password = EncryptedTextField(blank=True)
    local_username = models.CharField(max_length=100, blank=True)
    local_password = EncryptedTextField(blank=True)
    junos_root_password = EncryptedTextField(blank=True)
    enable_secret = EncryptedTextField(blank=True)
    snmp_username = models.CharField(max_length=100, blank=True)
    snmp_auth_protocol = models.CharField(
        max_length=10, choices=choices.SnmpAuthProtocol.choices, default="sha-256"
    )
    snmp_auth_key = EncryptedTextField(blank=True)
    snmp_priv_protocol = models.CharField(
        max_length=10, choices=choices.SnmpPrivProtocol.choices, default="aes-128"
    )
    snmp_priv_key = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="dcim_credentialprofile_one_default",
                violation_error_message="Another profile is already the default.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:  # never the secrets
        return f"<CredentialProfile {self.pk}: {self.name}>"


class Site(BaseModel):
    """A place where network equipment is installed and turned up together.

    Its status moves planned → designed → approved → turning-up → live / failed, only through
    ``services.site_transition`` (see ``choices.SITE_TRANSITIONS``).
    """

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("",)
    TURNUP_FREEZE_EXEMPT = ("status", "description", "comments")

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    status = models.CharField(
        max_length=20, choices=choices.SiteStatus.choices, default=choices.SiteStatus.PLANNED
    )
    region = models.CharField(max_length=100, blank=True, db_index=True)
    facility = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone])
    physical_address = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=200, blank=True)
    comments = models.TextField(blank=True)
    credential_profile = models.ForeignKey(
        CredentialProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rack(BaseModel):
    """A rack of ``u_height`` units at a site; devices occupy units 1..u_height."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="racks")
    name = models.CharField(max_length=100)
    u_height = models.PositiveSmallIntegerField(
        default=42,
        validators=[MinValueValidator(1), MaxValueValidator(constants.RACK_U_HEIGHT_MAX)],
    )
    facility_id = models.CharField(max_length=50, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["site_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="dcim_rack_unique_site_name")
        ]

    def __str__(self) -> str:
        return self.name


class Manufacturer(BaseModel):
    """A maker of devices (Cisco, Juniper, Opengear, …)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceRole(BaseModel):
    """What a device does in a site (core, edge, branch, console-server, …)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    color = models.CharField(max_length=6, default="9e9e9e", validators=[COLOR_VALIDATOR])
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Platform(BaseModel):
    """The software a device runs; its slug selects the config templates and the turn-up
    driver (``cisco_iosxe``, ``juniper_junos``, ``console_server``)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    manufacturer = models.ForeignKey(
        Manufacturer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="platforms",
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceType(BaseModel):
    """A hardware model; its component templates become a new device's ports."""

    manufacturer = models.ForeignKey(
        Manufacturer, on_delete=models.PROTECT, related_name="device_types"
    )
    model = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    part_number = models.CharField(max_length=50, blank=True)
    u_height = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(constants.RACK_U_HEIGHT_MAX)]
    )
    is_full_depth = models.BooleanField(
        default=True, help_text="Occupies both faces of the rack units it is mounted in."
    )
    default_platform = models.ForeignKey(
        Platform,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="device_types",
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["manufacturer_id", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "model"], name="dcim_devicetype_unique_model"
            ),
            models.UniqueConstraint(
                fields=["manufacturer", "slug"], name="dcim_devicetype_unique_slug"
            ),
        ]

    def __str__(self) -> str:
        return self.model


class ComponentTemplate(BaseModel):
    """A port every device of a type gets when it is created."""

    name = models.CharField(max_length=64)
    label = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class InterfaceTemplate(ComponentTemplate):
    """An interface of a device type."""

    device_type = models.ForeignKey(
        DeviceType, on_delete=models.CASCADE, related_name="interface_templates"
    )
    type = models.CharField(max_length=50, choices=choices.InterfaceType.choices)
    mgmt_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["device_type_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_type", "name"], name="dcim_interfacetemplate_unique_name"
            )
        ]


class ConsolePortTemplate(ComponentTemplate):
    """A console port of a device type (the router's serial console)."""

    device_type = models.ForeignKey(
        DeviceType, on_delete=models.CASCADE, related_name="console_port_templates"
    )
    type = models.CharField(max_length=50, choices=choices.ConsolePortType.choices, blank=True)

    class Meta:
        ordering = ["device_type_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_type", "name"], name="dcim_consoleporttemplate_unique_name"
            )
        ]


class ConsoleServerPortTemplate(ComponentTemplate):
    """A line of a console-server type; ``line`` is the line number its ports get."""

    device_type = models.ForeignKey(
        DeviceType, on_delete=models.CASCADE, related_name="console_server_port_templates"
    )
    type = models.CharField(max_length=50, choices=choices.ConsolePortType.choices, blank=True)
    line = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["device_type_id", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["device_type", "name"], name="dcim_consoleserverporttemplate_unique_name"
            ),
            models.UniqueConstraint(
                fields=["device_type", "line"], name="dcim_consoleserverporttemplate_unique_line"
            ),
        ]


class Device(BaseModel):
    """A router, switch or console server of a site, optionally mounted in a rack.

    ``position`` is the lowest rack unit it occupies (it spans its type's ``u_height``).
    A console server is reached at ``console_host`` (the address turn-up connects to; ipam
    may also hold it, but dcim stands alone) and names SSH users by
    ``console_ssh_username_format``.
    """

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site",)
    TURNUP_FREEZE_EXEMPT = ("status", "serial", "asset_tag", "description", "comments")

    name = models.CharField(max_length=64)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="devices")
    rack = models.ForeignKey(
        Rack, on_delete=models.PROTECT, null=True, blank=True, related_name="devices"
    )
    position = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(constants.RACK_U_HEIGHT_MAX)],
    )
    face = models.CharField(max_length=5, choices=choices.RackFace.choices, blank=True)
    device_type = models.ForeignKey(DeviceType, on_delete=models.PROTECT, related_name="devices")
    role = models.ForeignKey(DeviceRole, on_delete=models.PROTECT, related_name="devices")
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, null=True, blank=True, related_name="devices"
    )
    serial = models.CharField(max_length=50, blank=True, db_index=True)
    asset_tag = models.CharField(max_length=50, null=True, blank=True, unique=True)
    status = models.CharField(
        max_length=20, choices=choices.DeviceStatus.choices, default=choices.DeviceStatus.PLANNED
    )
    description = models.CharField(max_length=200, blank=True)
    comments = models.TextField(blank=True)
    credential_profile = models.ForeignKey(
        CredentialProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices",
    )
    console_host = models.CharField(
        max_length=255,
        blank=True,
        help_text="Console servers: the host name or address turn-up connects to.",
    )
    console_ssh_username_format = models.CharField(
        max_length=100,
        blank=True,
        default=constants.DEFAULT_SSH_USERNAME_FORMAT,
        help_text="Console servers: SSH user of a line ({username}:port{line}).",
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="dcim_device_unique_site_name")
        ]
        indexes = [models.Index(fields=["name", "id"], name="dcim_device_name_id")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.rack_id is None:
            if self.position is not None:
                errors["position"] = "A device without a rack has no rack position."
            if self.face:
                errors["face"] = "A device without a rack has no rack face."
        else:
            if self.site_id is not None and self.rack.site_id != self.site_id:
                errors["rack"] = f"Rack {self.rack} is not at site {self.site}."
            if self.position is not None and not self.face:
                errors["face"] = "A mounted device needs a rack face."
            if self.position is not None and self.device_type_id is not None:
                top = self.position + self.device_type.u_height - 1
                if self.device_type.u_height == 0:
                    errors["position"] = f"{self.device_type} (0U) cannot take a rack position."
                elif top > self.rack.u_height:
                    errors["position"] = (
                        f"U{self.position}-U{top} does not fit in rack {self.rack} "
                        f"({self.rack.u_height}U)."
                    )
        if self.console_ssh_username_format:
            try:
                self.console_ssh_username_format.format(username="user", line=1)
            except (KeyError, IndexError, ValueError):
                errors["console_ssh_username_format"] = (
                    "Use only {username} and {line}, e.g. {username}:port{line}."
                )
        if errors:
            raise ValidationError(errors)

    def rack_units(self) -> set[int]:
        """The rack units this device occupies (empty when it is not mounted)."""
        if self.position is None or self.device_type.u_height == 0:
            return set()
        return set(range(self.position, self.position + self.device_type.u_height))


class Cable(BaseModel):
    """A cable between two interfaces, or a console port and a console-server port.

    Its ends are the ports whose ``cable`` points here (``cable_end`` A or B), so a port can
    be on one cable only. Create and delete cables with ``services.cable_create/cable_delete``.
    """

    status = models.CharField(
        max_length=20, choices=choices.CableStatus.choices, default=choices.CableStatus.PLANNED
    )
    type = models.CharField(max_length=20, choices=choices.CableType.choices, blank=True)
    label = models.CharField(max_length=100, blank=True)
    color = models.CharField(max_length=6, blank=True, validators=[COLOR_VALIDATOR])
    length = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    length_unit = models.CharField(max_length=2, choices=choices.LengthUnit.choices, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label or f"#{self.pk}"


class Component(BaseModel):
    """A port of a device, cabled at most once."""

    name = models.CharField(max_length=64)
    label = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=200, blank=True)
    cable_end = models.CharField(max_length=1, choices=choices.CableEnd.choices, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name


class Interface(Component):
    """A network interface of a device."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("device__site",)

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="interfaces")
    type = models.CharField(max_length=50, choices=choices.InterfaceType.choices)
    enabled = models.BooleanField(default=True)
    mtu = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(constants.INTERFACE_MTU_MIN),
            MaxValueValidator(constants.INTERFACE_MTU_MAX),
        ],
    )
    mac_address = models.CharField(max_length=17, blank=True)
    mgmt_only = models.BooleanField(default=False, help_text="Out-of-band management only.")
    mode = models.CharField(max_length=20, choices=choices.InterfaceMode.choices, blank=True)
    cable = models.ForeignKey(
        Cable, on_delete=models.SET_NULL, null=True, blank=True, related_name="interfaces"
    )

    class Meta:
        ordering = ["device_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "name"], name="dcim_interface_unique_device_name"
            )
        ]
        indexes = [models.Index(fields=["device", "id"], name="dcim_interface_device_id")]

    def clean(self) -> None:
        super().clean()
        if self.cable_id and self.type in choices.VIRTUAL_INTERFACE_TYPES:
            raise ValidationError({"type": "A cabled interface cannot be virtual."})


class ConsolePort(Component):
    """A device's serial console, cabled to a console-server port."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("device__site",)

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="console_ports")
    type = models.CharField(max_length=50, choices=choices.ConsolePortType.choices, blank=True)
    cable = models.ForeignKey(
        Cable, on_delete=models.SET_NULL, null=True, blank=True, related_name="console_ports"
    )

    class Meta:
        ordering = ["device_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "name"], name="dcim_consoleport_unique_device_name"
            )
        ]


class ConsoleServerPort(Component):
    """A line of a console server: reached by reverse telnet on ``tcp_port`` or by SSH,
    at ``baud`` bits per second."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("device__site",)

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, related_name="console_server_ports"
    )
    type = models.CharField(max_length=50, choices=choices.ConsolePortType.choices, blank=True)
    line = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    tcp_port = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    baud = models.PositiveIntegerField(
        choices=choices.ConsoleBaud.choices, default=choices.ConsoleBaud.B9600
    )
    access_method = models.CharField(
        max_length=10,
        choices=choices.ConsoleAccessMethod.choices,
        default=choices.ConsoleAccessMethod.TELNET,
    )
    cable = models.ForeignKey(
        Cable,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="console_server_ports",
    )

    class Meta:
        ordering = ["device_id", "line"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "name"], name="dcim_consoleserverport_unique_device_name"
            ),
            models.UniqueConstraint(
                fields=["device", "line"], name="dcim_consoleserverport_unique_device_line"
            ),
            models.UniqueConstraint(
                fields=["device", "tcp_port"], name="dcim_consoleserverport_unique_tcp_port"
            ),
        ]
