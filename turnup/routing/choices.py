"""Enumerations of the routing design."""

from django.db import models


class OSPFNetworkType(models.TextChoices):
    POINT_TO_POINT = "point-to-point", "Point-to-point"
    BROADCAST = "broadcast", "Broadcast"


class BGPSessionKind(models.TextChoices):
    IBGP = "ibgp", "iBGP"
    EBGP = "ebgp", "eBGP"
