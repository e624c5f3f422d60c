"""Enumerations of dcim. Values follow NetBox's API values where the concept is the same."""

from django.db import models


class SiteStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DESIGNED = "designed", "Designed"
    APPROVED = "approved", "Approved"
    TURNING_UP = "turning-up", "Turning up"
    LIVE = "live", "Live"
    FAILED = "failed", "Failed"


# Where a site may go from each status. A live site goes back to "designed" for a change
# (and through approval again); a failed turn-up is retried or sent back to design.
SITE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    SiteStatus.PLANNED: (SiteStatus.DESIGNED,),
    SiteStatus.DESIGNED: (SiteStatus.PLANNED, SiteStatus.APPROVED),
    SiteStatus.APPROVED: (SiteStatus.DESIGNED, SiteStatus.TURNING_UP),
    SiteStatus.TURNING_UP: (SiteStatus.LIVE, SiteStatus.FAILED),
    SiteStatus.FAILED: (SiteStatus.DESIGNED, SiteStatus.TURNING_UP),
    SiteStatus.LIVE: (SiteStatus.DESIGNED,),
}

# Statuses only the turn-up engine moves a site into and out of: a run start (or a retry)
# puts the site in turning-up, and the run's settle takes it to live or failed. A person
# asking for one of these transitions (API, admin, a PATCH of the status) is refused.
SITE_ENGINE_STATUSES = frozenset({SiteStatus.TURNING_UP})


class DeviceStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    STAGED = "staged", "Staged"
    ACTIVE = "active", "Active"
    OFFLINE = "offline", "Offline"
    FAILED = "failed", "Failed"
    INVENTORY = "inventory", "Inventory"
    DECOMMISSIONING = "decommissioning", "Decommissioning"


class RackFace(models.TextChoices):
    FRONT = "front", "Front"
    REAR = "rear", "Rear"


class InterfaceType(models.TextChoices):
    VIRTUAL = "virtual", "Virtual"
    LAG = "lag", "Link aggregation group (LAG)"
    BASE_T_100M = "100base-tx", "100BASE-TX (10/100ME)"
    BASE_T_1G = "1000base-t", "1000BASE-T (1GE)"
    BASE_T_10G = "10gbase-t", "10GBASE-T (10GE)"
    SFP_1G = "1000base-x-sfp", "SFP (1GE)"
    SFPP_10G = "10gbase-x-sfpp", "SFP+ (10GE)"
    SFP28_25G = "25gbase-x-sfp28", "SFP28 (25GE)"
    QSFPP_40G = "40gbase-x-qsfpp", "QSFP+ (40GE)"
    QSFP28_100G = "100gbase-x-qsfp28", "QSFP28 (100GE)"
    QSFPDD_400G = "400gbase-x-qsfpdd", "QSFP-DD (400GE)"
    OTHER = "other", "Other"


# Types that are not a physical port: they cannot take a cable.
VIRTUAL_INTERFACE_TYPES = frozenset({InterfaceType.VIRTUAL, InterfaceType.LAG})


class InterfaceMode(models.TextChoices):
    ACCESS = "access", "Access"
    TAGGED = "tagged", "Tagged"
    TAGGED_ALL = "tagged-all", "Tagged (all)"


class ConsolePortType(models.TextChoices):
    RJ45 = "rj-45", "RJ-45"
    DE9 = "de-9", "DE-9"
    USB_A = "usb-a", "USB Type A"
    USB_MINI_B = "usb-mini-b", "USB Mini B"
    USB_MICRO_B = "usb-micro-b", "USB Micro B"
    USB_C = "usb-c", "USB Type C"
    OTHER = "other", "Other"


class ConsoleBaud(models.IntegerChoices):
    B1200 = 1200, "1200 bps"
    B2400 = 2400, "2400 bps"
    B4800 = 4800, "4800 bps"
    B9600 = 9600, "9600 bps"
    B19200 = 19200, "19.2 kbps"
    B38400 = 38400, "38.4 kbps"
    B57600 = 57600, "57.6 kbps"
    B115200 = 115200, "115.2 kbps"


class ConsoleAccessMethod(models.TextChoices):
    TELNET = "telnet", "Reverse telnet"
    SSH = "ssh", "SSH"


class CableStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    CONNECTED = "connected", "Connected"


class CableType(models.TextChoices):
    CAT5E = "cat5e", "CAT5e"
    CAT6 = "cat6", "CAT6"
    DAC_PASSIVE = "dac-passive", "Direct Attach Copper (Passive)"
    MMF = "mmf", "Multimode Fiber"
    SMF = "smf", "Singlemode Fiber"
    CONSOLE = "console", "Console (rollover)"


class CableEnd(models.TextChoices):
    A = "A", "A"
    B = "B", "B"


class LengthUnit(models.TextChoices):
    METERS = "m", "Meters"
    CENTIMETERS = "cm", "Centimeters"
    FEET = "ft", "Feet"


class SnmpAuthProtocol(models.TextChoices):
    SHA = "sha", "SHA"
    SHA256 = "sha-256", "SHA-256"
    MD5 = "md5", "MD5"


class SnmpPrivProtocol(models.TextChoices):
    AES128 = "aes-128", "AES-128"
    AES256 = "aes-256", "AES-256"
    DES = "des", "DES"
