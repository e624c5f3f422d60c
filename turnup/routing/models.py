"""routing: the routing design of a site's routers — what dcim and ipam do not hold but the
config templates and the preflight checks need: router id, local ASN and OSPF process per
router, OSPF settings per interface, BGP sessions, and the site's management gateway.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from turnup.core.models import BaseModel
from turnup.routing import choices

AREA_VALIDATOR = RegexValidator(
    r"^(\d+|\d+\.\d+\.\d+\.\d+)$", "An OSPF area is a number or dotted quad (0 or 0.0.0.0)."
)


def area_normalize(value: str) -> str:
    """``0`` and ``0.0.0.0`` are the same area; store the dotted form."""
    value = (value or "").strip()
    if value.isdigit():
        return str(ipaddress.IPv4Address(int(value)))
    return value


class SiteRouting(BaseModel):
    """Routing facts of a whole site: its management prefix and the gateway routers use to
    leave the management network (a default route in the management VRF)."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site",)

    site = models.OneToOneField("dcim.Site", on_delete=models.CASCADE, related_name="routing")
    mgmt_prefix = models.ForeignKey(
        "ipam.Prefix",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The site's management prefix (holds the management addresses).",
    )
    mgmt_gateway = models.GenericIPAddressField(
        protocol="IPv4", null=True, blank=True, help_text="Default gateway of the mgmt network."
    )
    mgmt_vrf = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["site_id"]
        verbose_name = "site routing"
        verbose_name_plural = "site routing"

    REPR_RELATED = ("site",)  # what its name is made of (read at once when logged)

    def __str__(self) -> str:
        return f"routing of {self.site}"


class DeviceRouting(BaseModel):
    """A router's routing identity: router id, local ASN, OSPF process."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("device__site",)

    device = models.OneToOneField("dcim.Device", on_delete=models.CASCADE, related_name="routing")
    router_id = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True)
    asn = models.ForeignKey(
        "ipam.ASN", on_delete=models.PROTECT, null=True, blank=True, related_name="routers"
    )
    ospf_process = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    ospf_reference_bandwidth = models.PositiveIntegerField(
        default=100000, help_text="Mbit/s; costs are computed against it."
    )
    loopback_interface = models.CharField(
        max_length=64, blank=True, help_text="Interface whose address is the router id."
    )

    class Meta:
        ordering = ["device_id"]
        verbose_name = "device routing"
        verbose_name_plural = "device routing"

    REPR_RELATED = ("device",)  # what its name is made of (read at once when logged)

    def __str__(self) -> str:
        return f"routing of {self.device}"


class OSPFInterface(BaseModel):
    """OSPF on one interface: area, network type, cost, passive."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("interface__device__site",)

    interface = models.OneToOneField(
        "dcim.Interface", on_delete=models.CASCADE, related_name="ospf"
    )
    area = models.CharField(max_length=15, default="0.0.0.0", validators=[AREA_VALIDATOR])
    network_type = models.CharField(
        max_length=20,
        choices=choices.OSPFNetworkType.choices,
        default=choices.OSPFNetworkType.POINT_TO_POINT,
    )
    cost = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    passive = models.BooleanField(default=False)

    class Meta:
        ordering = ["interface_id"]
        verbose_name = "OSPF interface"

    REPR_RELATED = ("interface",)  # what its name is made of (read at once when logged)

    def __str__(self) -> str:
        return f"OSPF area {self.area} on {self.interface}"

    def clean(self) -> None:
        super().clean()
        self.area = area_normalize(self.area)


class BGPSession(BaseModel):
    """One side of a BGP session, configured on ``device``: from ``local_address`` to
    ``peer_address`` in ``remote_asn``. ``peer_device`` is set when the peer is in turnup's
    design (the other side then has the mirror session)."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("device__site",)

    device = models.ForeignKey("dcim.Device", on_delete=models.CASCADE, related_name="bgp_sessions")
    kind = models.CharField(max_length=4, choices=choices.BGPSessionKind.choices)
    local_address = models.GenericIPAddressField(protocol="IPv4")
    peer_address = models.GenericIPAddressField(protocol="IPv4")
    remote_asn = models.PositiveBigIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(4294967295)]
    )
    peer_device = models.ForeignKey(
        "dcim.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bgp_peerings",
    )
    update_source = models.CharField(
        max_length=64, blank=True, help_text="Interface the session is sourced from (iBGP)."
    )
    route_reflector_client = models.BooleanField(default=False)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["device_id", "peer_address"]
        verbose_name = "BGP session"
        constraints = [
            models.UniqueConstraint(
                fields=["device", "peer_address"], name="routing_bgpsession_unique_peer"
            )
        ]

    REPR_RELATED = ("device",)  # what its name is made of (read at once when logged)

    def __str__(self) -> str:
        return f"{self.device} -> {self.peer_address} (AS{self.remote_asn})"

    def clean(self) -> None:
        super().clean()
        if self.local_address and self.local_address == self.peer_address:
            raise ValidationError({"peer_address": "A session cannot peer with itself."})
