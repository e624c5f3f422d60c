"""Enumerations of ipam. Values follow NetBox's API values where the concept is the same."""

from django.db import models


class IPFamily(models.IntegerChoices):
    IPV4 = 4, "IPv4"
    IPV6 = 6, "IPv6"


class PrefixStatus(models.TextChoices):
    CONTAINER = "container", "Container"
    ACTIVE = "active", "Active"
    RESERVED = "reserved", "Reserved"
    DEPRECATED = "deprecated", "Deprecated"


class PrefixRole(models.TextChoices):
    """What a prefix is for; blueprints look pools up by name and role."""

    LOOPBACK = "loopback", "Loopbacks"
    POINT_TO_POINT = "point-to-point", "Point-to-point links"
    MANAGEMENT = "management", "Management"
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    CUSTOMER = "customer", "Customer"


class IPAddressStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESERVED = "reserved", "Reserved"
    DEPRECATED = "deprecated", "Deprecated"
    DHCP = "dhcp", "DHCP"
    SLAAC = "slaac", "SLAAC"


class IPAddressRole(models.TextChoices):
    LOOPBACK = "loopback", "Loopback"
    SECONDARY = "secondary", "Secondary"
    ANYCAST = "anycast", "Anycast"
    VIP = "vip", "VIP"
    VRRP = "vrrp", "VRRP"
    HSRP = "hsrp", "HSRP"
    GLBP = "glbp", "GLBP"
    CARP = "carp", "CARP"


class ASNStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESERVED = "reserved", "Reserved"
    DEPRECATED = "deprecated", "Deprecated"


class VLANStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESERVED = "reserved", "Reserved"
    DEPRECATED = "deprecated", "Deprecated"
