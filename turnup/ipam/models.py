"""ipam: address space (VRFs, prefixes, IP addresses), ASNs and VLANs, and their pools.

Addresses are stored twice: as text (``10.0.0.0/24``, what people read and the API returns)
and as integers in ``HexIntegerField`` columns (``start``/``end`` of a prefix, ``host`` of an
address), so containment and overlap are range comparisons on SQLite and PostgreSQL alike.
The integer columns are derived from the text in ``clean()`` and ``save()``; never set them.

Rules that need only the row live in ``clean_local()``; ``clean()`` adds the ones that read
other rows (duplicates in a VRF, one primary management address per device). The
allocators in ``services.py`` prove freedom under a lock themselves and run only
``clean_local()``, so allocating N rows costs a fixed number of queries.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from turnup.core.models import BaseModel
from turnup.ipam import choices, constants
from turnup.ipam.fields import HexIntegerField

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


def parse_network(value: str) -> IPNetwork:
    """``10.0.0.1/24`` → ``10.0.0.0/24`` (host bits cleared); a mask length is required."""
    text = str(value).strip()
    if "/" not in text:
        raise ValidationError(f"{text!r} has no mask length (e.g. 10.0.0.0/24)")
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValidationError(f"{text!r} is not an IPv4 or IPv6 prefix") from None


def parse_interface(value: str) -> IPInterface:
    """``10.0.0.1/24``: an address with the mask length of its subnet (required)."""
    text = str(value).strip()
    if "/" not in text:
        raise ValidationError(f"{text!r} has no mask length (e.g. 10.0.0.1/24)")
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not an IPv4 or IPv6 address with mask") from None


def validate_network(value: str) -> None:
    parse_network(value)


def validate_interface(value: str) -> None:
    parse_interface(value)


def unassign_addresses(collector, field, sub_objs, using) -> None:
    """``on_delete`` of ``IPAddress.assigned_interface``: the addresses of a deleted interface
    stay in the plan, unassigned — no device, no longer a primary management address."""
    model = field.model
    collector.add_field_update(field, None, sub_objs)
    collector.add_field_update(model._meta.get_field("device"), None, sub_objs)
    collector.add_field_update(model._meta.get_field("is_primary_mgmt"), False, sub_objs)


def _vrf_q(vrf_id: int | None) -> Q:
    return Q(vrf__isnull=True) if vrf_id is None else Q(vrf_id=vrf_id)


class VRF(BaseModel):
    """A routing table: prefixes and addresses are unique within one. No VRF = global table."""

    name = models.CharField(max_length=100, unique=True)
    rd = models.CharField(
        "route distinguisher",
        max_length=21,
        unique=True,
        null=True,
        blank=True,
        help_text="e.g. 65000:100 (RFC 4364)",
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "VRF"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.rd == "":
            self.rd = None


class Prefix(BaseModel):
    """An IPv4 or IPv6 network in a VRF; the allocators carve it into child prefixes or hand
    out its addresses. ``is_pool`` marks a pool that child prefixes are allocated from.

    ``parent`` (the smallest prefix of the same VRF that contains this one) and ``depth``
    are kept by the services, like NetBox's ``_depth``. A ``name`` (unique per VRF and site)
    lets blueprints find a pool ("loopbacks", "p2p", "mgmt") per site or globally.
    """

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site", "parent__site")
    TURNUP_FREEZE_EXEMPT = ("status", "description")

    prefix = models.CharField(max_length=43, validators=[validate_network])
    vrf = models.ForeignKey(
        VRF, on_delete=models.PROTECT, null=True, blank=True, related_name="prefixes"
    )
    site = models.ForeignKey(
        "dcim.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="prefixes"
    )
    name = models.CharField(
        max_length=100, blank=True, help_text="Name blueprints find it by (e.g. loopbacks)."
    )
    status = models.CharField(
        max_length=20, choices=choices.PrefixStatus.choices, default=choices.PrefixStatus.ACTIVE
    )
    role = models.CharField(max_length=20, choices=choices.PrefixRole.choices, blank=True)
    is_pool = models.BooleanField(default=False, help_text="Allocate child prefixes from it.")
    description = models.CharField(max_length=200, blank=True)
    family = models.PositiveSmallIntegerField(
        choices=choices.IPFamily.choices, editable=False, default=4
    )
    prefix_length = models.PositiveSmallIntegerField(editable=False, default=0)
    start = HexIntegerField(editable=False, blank=True, null=True)
    end = HexIntegerField(editable=False, blank=True, null=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="children",
    )
    depth = models.PositiveSmallIntegerField(editable=False, default=0)

    class Meta:
        ordering = [F("vrf_id").asc(nulls_first=True), "family", "start", "prefix_length", "id"]
        verbose_name_plural = "prefixes"
        constraints = [
            models.UniqueConstraint(
                fields=["vrf", "prefix"],
                condition=Q(vrf__isnull=False),
                name="ipam_prefix_unique_vrf_prefix",
                violation_error_message="This prefix already exists in this VRF.",
            ),
            models.UniqueConstraint(
                fields=["prefix"],
                condition=Q(vrf__isnull=True),
                name="ipam_prefix_unique_global_prefix",
                violation_error_message="This prefix already exists in the global table.",
            ),
        ]
        indexes = [
            models.Index(
                fields=["vrf", "family", "start", "prefix_length"], name="ipam_prefix_range"
            ),
            models.Index(fields=["name"], name="ipam_prefix_name"),
        ]

    def __str__(self) -> str:
        return self.prefix

    @property
    def network(self) -> IPNetwork:
        return parse_network(self.prefix)

    def set_network(self) -> None:
        """Normalize ``prefix`` and derive the integer columns from it."""
        network = parse_network(self.prefix)
        self.prefix = str(network)
        self.family = network.version
        self.prefix_length = network.prefixlen
        self.start = int(network.network_address)
        self.end = int(network.broadcast_address)

    def save(self, *args, **kwargs) -> None:
        self.set_network()
        super().save(*args, **kwargs)

    def clean_local(self) -> None:
        """The rules this row can check alone."""
        try:
            self.set_network()
        except ValidationError as error:
            raise ValidationError({"prefix": error.messages}) from None

    def clean(self) -> None:
        super().clean()
        self.clean_local()
        same_table = Prefix.objects.filter(_vrf_q(self.vrf_id), family=self.family).exclude(
            pk=self.pk
        )
        if same_table.filter(prefix=self.prefix).exists():
            table = f"VRF {self.vrf}" if self.vrf_id else "the global table"
            raise ValidationError({"prefix": f"{self.prefix} already exists in {table}."})
        if self.name:
            clash = Prefix.objects.filter(
                _vrf_q(self.vrf_id), name=self.name, site_id=self.site_id
            ).exclude(pk=self.pk)
            if clash.exists():
                raise ValidationError(
                    {"name": f"Another prefix is named {self.name!r} in this VRF and site."}
                )
        parent = (
            same_table.filter(
                start__lte=self.start, end__gte=self.end, prefix_length__lt=self.prefix_length
            )
            .order_by("-prefix_length")
            .select_related("site")
            .first()
        )
        if parent and parent.site_id and self.site_id and parent.site_id != self.site_id:
            raise ValidationError(
                {"site": f"{self.prefix} lies in {parent.prefix} of site {parent.site}."}
            )
        if self.pk:
            outside = [
                child.prefix
                for child in Prefix.objects.filter(parent_id=self.pk).only(
                    "prefix", "start", "end", "family", "vrf_id"
                )
                if child.family != self.family
                or child.vrf_id != self.vrf_id
                or not (self.start <= child.start and child.end <= self.end)
            ]
            if outside:
                raise ValidationError(
                    {"prefix": f"Its child prefixes must stay inside it: {', '.join(outside)}."}
                )

    def max_length(self) -> int:
        return 32 if self.family == 4 else 128

    def usable_range(self, mask_length: int | None = None) -> tuple[int, int]:
        """First and last address ``ip_allocate_next`` may hand out with ``mask_length``
        (default: the prefix's own length).

        Addresses of an IPv4 subnet (mask shorter than /31) are not its network and
        broadcast addresses; of an IPv6 subnet (shorter than /127), not its Subnet-Router
        anycast address (the first, RFC 4291). /31 and /32 (RFC 3021), /127 and /128 use
        every address — so do host masks handed out of a bigger prefix (``mask_length=32``
        for loopbacks from a /24 pool).
        """
        first, last = self.start, self.end
        mask = self.prefix_length if mask_length is None else mask_length
        if mask >= self.max_length() - 1:
            return first, last
        if self.family == 4:
            return first + 1, last - 1
        return first + 1, last


class IPAddress(BaseModel):
    """An address with the mask length of its subnet, unique per VRF (whatever the mask).

    It may be assigned to an interface; ``is_primary_mgmt`` marks the one address a device
    is managed on (one per device, enforced by a constraint on the derived ``device``).
    """

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("device__site",)
    TURNUP_FREEZE_EXEMPT = ("status", "description")

    address = models.CharField(max_length=49, validators=[validate_interface])
    vrf = models.ForeignKey(
        VRF, on_delete=models.PROTECT, null=True, blank=True, related_name="ip_addresses"
    )
    status = models.CharField(
        max_length=20,
        choices=choices.IPAddressStatus.choices,
        default=choices.IPAddressStatus.ACTIVE,
    )
    role = models.CharField(max_length=20, choices=choices.IPAddressRole.choices, blank=True)
    assigned_interface = models.ForeignKey(
        "dcim.Interface",
        on_delete=unassign_addresses,
        null=True,
        blank=True,
        related_name="ip_addresses",
    )
    device = models.ForeignKey(
        "dcim.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="ip_addresses",
        help_text="The device of the assigned interface (derived).",
    )
    is_primary_mgmt = models.BooleanField(
        "primary management address",
        default=False,
        help_text="The address turn-up reaches the device on (one per device).",
    )
    dns_name = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=200, blank=True)
    family = models.PositiveSmallIntegerField(
        choices=choices.IPFamily.choices, editable=False, default=4
    )
    host = HexIntegerField(editable=False, blank=True, null=True)
    mask_length = models.PositiveSmallIntegerField(editable=False, default=0)

    class Meta:
        ordering = [F("vrf_id").asc(nulls_first=True), "family", "host", "id"]
        verbose_name = "IP address"
        verbose_name_plural = "IP addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["vrf", "family", "host"],
                condition=Q(vrf__isnull=False),
                name="ipam_ipaddress_unique_vrf_host",
                violation_error_message="This address already exists in this VRF.",
            ),
            models.UniqueConstraint(
                fields=["family", "host"],
                condition=Q(vrf__isnull=True),
                name="ipam_ipaddress_unique_global_host",
                violation_error_message="This address already exists in the global table.",
            ),
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(is_primary_mgmt=True),
                name="ipam_ipaddress_one_primary_mgmt_per_device",
                violation_error_message="Only one primary management address per device.",
            ),
        ]
        indexes = [
            models.Index(fields=["vrf", "family", "host"], name="ipam_ipaddress_range"),
            models.Index(fields=["assigned_interface", "id"], name="ipam_ipaddress_interface"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def interface(self) -> IPInterface:
        return parse_interface(self.address)

    @property
    def ip(self) -> str:
        """The address without its mask length."""
        return self.address.split("/", 1)[0]

    def set_address(self) -> None:
        """Normalize ``address``, derive the integer columns and ``device``."""
        interface = parse_interface(self.address)
        self.address = str(interface)
        self.family = interface.version
        self.mask_length = interface.network.prefixlen
        self.host = int(interface.ip)
        self.device_id = self.assigned_interface.device_id if self.assigned_interface_id else None

    def save(self, *args, **kwargs) -> None:
        self.set_address()
        super().save(*args, **kwargs)

    def clean_local(self) -> None:
        """The rules this row can check alone."""
        try:
            self.set_address()
        except ValidationError as error:
            raise ValidationError({"address": error.messages}) from None
        interface = parse_interface(self.address)
        network = interface.network
        if interface.version == 4 and network.prefixlen < 31:
            if interface.ip == network.network_address:
                raise ValidationError(
                    {"address": f"{self.address} is the network address of {network}."}
                )
            if interface.ip == network.broadcast_address:
                raise ValidationError(
                    {"address": f"{self.address} is the broadcast address of {network}."}
                )
        if self.is_primary_mgmt and not self.assigned_interface_id:
            raise ValidationError(
                {"is_primary_mgmt": "A primary management address must be on an interface."}
            )

    def clean(self) -> None:
        super().clean()
        self.clean_local()
        clash = (
            IPAddress.objects.filter(_vrf_q(self.vrf_id), family=self.family, host=self.host)
            .exclude(pk=self.pk)
            .first()
        )
        if clash:
            table = f"VRF {self.vrf}" if self.vrf_id else "the global table"
            raise ValidationError(
                {"address": f"{self.ip} already exists in {table} (as {clash.address})."}
            )
        if self.is_primary_mgmt:
            other = (
                IPAddress.objects.filter(device_id=self.device_id, is_primary_mgmt=True)
                .exclude(pk=self.pk)
                .first()
            )
            if other:
                raise ValidationError(
                    {
                        "is_primary_mgmt": (
                            f"Device {self.assigned_interface.device} already has primary "
                            f"management address {other.address}."
                        )
                    }
                )


class ASNRange(BaseModel):
    """A range of autonomous system numbers that ``asn_allocate_next`` hands out from."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    start = models.PositiveBigIntegerField(
        validators=[MinValueValidator(constants.ASN_MIN), MaxValueValidator(constants.ASN_MAX)]
    )
    end = models.PositiveBigIntegerField(
        validators=[MinValueValidator(constants.ASN_MIN), MaxValueValidator(constants.ASN_MAX)]
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "ASN range"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValidationError({"end": f"The range ends ({self.end}) before it starts."})


class ASN(BaseModel):
    """An autonomous system number, unique in the whole database (as in NetBox)."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site",)
    TURNUP_FREEZE_EXEMPT = ("status", "description")

    asn = models.PositiveBigIntegerField(
        "ASN",
        unique=True,
        validators=[MinValueValidator(constants.ASN_MIN), MaxValueValidator(constants.ASN_MAX)],
    )
    site = models.ForeignKey(
        "dcim.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="asns"
    )
    status = models.CharField(
        max_length=20, choices=choices.ASNStatus.choices, default=choices.ASNStatus.ACTIVE
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["asn"]
        verbose_name = "ASN"

    def __str__(self) -> str:
        return f"AS{self.asn}"

    def clean_local(self) -> None:
        """Nothing beyond the field validators: kept for the allocators' uniform contract."""


class VLANGroup(BaseModel):
    """A set of VLANs whose IDs are unique within it, numbered ``min_vid``..``max_vid``."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site",)
    TURNUP_FREEZE_EXEMPT = ("description",)

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    site = models.ForeignKey(
        "dcim.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="vlan_groups"
    )
    min_vid = models.PositiveSmallIntegerField(
        default=constants.VLAN_VID_MIN,
        validators=[
            MinValueValidator(constants.VLAN_VID_MIN),
            MaxValueValidator(constants.VLAN_VID_MAX),
        ],
    )
    max_vid = models.PositiveSmallIntegerField(
        default=constants.VLAN_VID_MAX,
        validators=[
            MinValueValidator(constants.VLAN_VID_MIN),
            MaxValueValidator(constants.VLAN_VID_MAX),
        ],
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "VLAN group"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.min_vid is None or self.max_vid is None:
            return
        if self.min_vid > self.max_vid:
            raise ValidationError({"max_vid": "The maximum VID is below the minimum."})
        if self.pk:
            outside = self.vlans.exclude(vid__gte=self.min_vid, vid__lte=self.max_vid)
            vids = sorted(outside.values_list("vid", flat=True)[:10])
            if vids:
                raise ValidationError(
                    {"min_vid": f"VLANs {vids} of this group would fall outside the range."}
                )


class VLAN(BaseModel):
    """A VLAN; its ID and name are unique within its group."""

    # the sites whose turn-up freezes this row (dcim.services.site_design_freeze_check)
    TURNUP_FREEZE_PATHS = ("site", "group__site")
    TURNUP_FREEZE_EXEMPT = ("status", "description")

    group = models.ForeignKey(
        VLANGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="vlans"
    )
    site = models.ForeignKey(
        "dcim.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="vlans"
    )
    vid = models.PositiveSmallIntegerField(
        "VLAN ID",
        validators=[
            MinValueValidator(constants.VLAN_VID_MIN),
            MaxValueValidator(constants.VLAN_VID_MAX),
        ],
    )
    name = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=choices.VLANStatus.choices, default=choices.VLANStatus.ACTIVE
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["group_id", "vid", "id"]
        verbose_name = "VLAN"
        constraints = [
            models.UniqueConstraint(
                fields=["group", "vid"],
                name="ipam_vlan_unique_group_vid",
                violation_error_message="This VLAN ID is already used in this group.",
            ),
            models.UniqueConstraint(
                fields=["group", "name"],
                name="ipam_vlan_unique_group_name",
                violation_error_message="This VLAN name is already used in this group.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.vid})"

    def clean_local(self) -> None:
        """The rules this row can check alone (reading its group, already loaded)."""
        group = self.group if self.group_id else None
        if group is None or self.vid is None:
            return
        if not group.min_vid <= self.vid <= group.max_vid:
            raise ValidationError(
                {"vid": f"{self.vid} is outside group {group} ({group.min_vid}-{group.max_vid})."}
            )
        if group.site_id and self.site_id and group.site_id != self.site_id:
            raise ValidationError({"site": f"Group {group} belongs to site {group.site}."})

    def clean(self) -> None:
        super().clean()
        self.clean_local()
