"""Reads of ipam: free space of pools, pool lookup by name, management addresses.

Free space is computed the same way for every kind of pool: the used ranges are loaded with
one query, sorted, and the gaps between them walked in Python (``FreeSpace``), never one
query per candidate. The next free addresses of a prefix first ask how many are used and the
lowest and highest: a pool without holes needs nothing more (``prefix_ip_next_free``).
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Q, QuerySet

from turnup.core.errors import NotFoundError
from turnup.ipam.fields import int_to_hex
from turnup.ipam.models import ASN, VLAN, ASNRange, IPAddress, Prefix, VLANGroup, parse_network


class FreeSpace:
    """The free integers of ``[low, high]`` minus the used intervals, as sorted gaps.

    ``take(size)`` removes and returns the first free block of ``size`` integers aligned on
    ``size`` (a power of two for prefixes, 1 for addresses, ASNs and VLAN IDs). It remembers
    where it found the last block of each size: blocks are only ever taken, never freed, so
    nothing before that point can fit a block of that size again.
    """

    def __init__(self, low: int, high: int, used: Iterable[tuple[int, int]]) -> None:
        self.low, self.high = low, high
        gaps: list[tuple[int, int]] = []
        cursor = low
        for first, last in sorted(used):
            if first > high:
                break
            if last < cursor:
                continue
            if first > cursor:
                gaps.append((cursor, first - 1))
            cursor = last + 1
        if cursor <= high:
            gaps.append((cursor, high))
        self.gaps = gaps
        self._resume: dict[int, int] = {}

    @staticmethod
    def _align_up(value: int, size: int) -> int:
        return -(-value // size) * size

    def count(self, size: int = 1) -> int:
        """How many aligned blocks of ``size`` are free."""
        return sum(
            max(0, (last + 1) // size - self._align_up(first, size) // size)
            for first, last in self.gaps
        )

    def total(self) -> int:
        return sum(last - first + 1 for first, last in self.gaps)

    def take(self, size: int = 1) -> int | None:
        """The first free aligned block of ``size`` (its first integer), now used; or None."""
        resume = self._resume.get(size, self.low)
        index = bisect.bisect_left(self.gaps, resume, key=lambda gap: gap[1])
        for position in range(index, len(self.gaps)):
            first, last = self.gaps[position]
            start = self._align_up(max(first, resume), size)
            end = start + size - 1
            if end > last:
                continue
            pieces = []
            if start > first:
                pieces.append((first, start - 1))
            if end < last:
                pieces.append((end + 1, last))
            self.gaps[position : position + 1] = pieces
            self._resume[size] = end + 1
            return start
        return None

    def peek(self, limit: int, size: int = 1) -> list[int]:
        """Up to ``limit`` free aligned blocks of ``size``, without taking them."""
        found: list[int] = []
        for first, last in self.gaps:
            start = self._align_up(first, size)
            while start + size - 1 <= last and len(found) < limit:
                found.append(start)
                start += size
            if len(found) >= limit:
                break
        return found


def _table(vrf_id: int | None) -> Q:
    return Q(vrf__isnull=True) if vrf_id is None else Q(vrf_id=vrf_id)


# -- prefixes ---------------------------------------------------------------------------------
def prefix_child_ranges(*, prefix: Prefix) -> list[tuple[int, int]]:
    """The (start, end) of every prefix of the same VRF inside ``prefix`` (one query)."""
    rows = (
        Prefix.objects.filter(
            _table(prefix.vrf_id),
            family=prefix.family,
            start__gte=prefix.start,
            end__lte=prefix.end,
        )
        .exclude(pk=prefix.pk)
        .order_by()
        .values_list("start", "end")
    )
    return list(rows)


def prefix_free_space(*, prefix: Prefix) -> FreeSpace:
    """The space of ``prefix`` not covered by its child prefixes."""
    return FreeSpace(prefix.start, prefix.end, prefix_child_ranges(prefix=prefix))


def _address(family: int, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


def prefix_available_prefixes(*, prefix: Prefix) -> list[str]:
    """The free space of ``prefix`` as the fewest CIDR blocks (like NetBox's GET
    ``available-prefixes``)."""
    blocks: list[str] = []
    for first, last in prefix_free_space(prefix=prefix).gaps:
        low, high = _address(prefix.family, first), _address(prefix.family, last)
        blocks.extend(str(net) for net in ipaddress.summarize_address_range(low, high))
    return blocks


def prefix_ip_free_space(*, prefix: Prefix, mask_length: int | None = None) -> FreeSpace:
    """The usable addresses of ``prefix`` (see ``Prefix.usable_range``) no address uses."""
    low, high = prefix.usable_range(mask_length)
    used = (
        IPAddress.objects.filter(
            _table(prefix.vrf_id), family=prefix.family, host__gte=low, host__lte=high
        )
        .order_by()
        .values_list("host", flat=True)
    )
    return FreeSpace(low, high, ((host, host) for host in used))


# How many addresses of a range are used, the lowest and the highest (hex text: see
# ``fields.HexIntegerField``). Written out: the ORM's aggregate() costs more to build than
# this query takes to run, on every allocation.
_USED_SUMMARY_SQL = """
SELECT COUNT(*), MIN(host), MAX(host) FROM {table}
WHERE {vrf} AND family = %s AND host >= %s AND host <= %s
"""


def prefix_ip_next_free(
    *, prefix: Prefix, mask_length: int | None = None, count: int = 1
) -> tuple[list[int], int]:
    """The first ``count`` free usable addresses of ``prefix`` (fewer when fewer are free),
    lowest first, and how many are free in all.

    One aggregate query first (how many addresses are used, the lowest, the highest): when
    the used ones form one run without holes — the usual shape of a pool handed out in
    order — that is enough, whatever their number. Otherwise the used ones are loaded and
    walked (``prefix_ip_free_space``): a second query."""
    low, high = prefix.usable_range(mask_length)
    sql = _USED_SUMMARY_SQL.format(
        table=IPAddress._meta.db_table,
        vrf="vrf_id IS NULL" if prefix.vrf_id is None else "vrf_id = %s",
    )
    vrf = [] if prefix.vrf_id is None else [prefix.vrf_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*vrf, prefix.family, int_to_hex(low), int_to_hex(high)])
        taken, lowest, highest = cursor.fetchone()
    if taken and int(highest, 16) - int(lowest, 16) + 1 != taken:
        free = prefix_ip_free_space(prefix=prefix, mask_length=mask_length)
        available = free.count()
        return [free.take() for _ in range(min(count, available))], available
    gaps = (
        [(low, high)] if not taken else [(low, int(lowest, 16) - 1), (int(highest, 16) + 1, high)]
    )
    hosts: list[int] = []
    for first, last in gaps:
        hosts.extend(range(first, min(last + 1, first + count - len(hosts))))
    return hosts, high - low + 1 - taken


def prefix_available_ips(*, prefix: Prefix, limit: int = 50) -> list[str]:
    """The next ``limit`` free addresses of ``prefix``, with the prefix's mask length."""
    hosts, _ = prefix_ip_next_free(prefix=prefix, count=limit)
    return [f"{_address(prefix.family, h)}/{prefix.prefix_length}" for h in hosts]


def prefix_pool_get(*, name: str, site=None, vrf=None) -> Prefix:
    """The prefix named ``name`` (a pool to carve, or a subnet to take addresses from): the
    one of ``site`` if there is one, else the one without a site, in ``vrf`` (None: the
    global table). Raises NotFoundError (404) when there is none."""
    vrf_id = getattr(vrf, "pk", vrf)
    site_id = getattr(site, "pk", site)
    scopes = Q(site__isnull=True) | Q(site_id=site_id) if site_id else Q(site__isnull=True)
    pools = list(Prefix.objects.filter(_table(vrf_id), scopes, name=name))
    if not pools:
        where = f" for site {site}" if site is not None else ""
        raise NotFoundError(f"No prefix pool named {name!r}{where}.", extra={"name": name})
    pools.sort(key=lambda pool: pool.site_id is None)
    return pools[0]


def prefix_containing(*, address: str, vrf=None) -> Prefix | None:
    """The most specific prefix of ``vrf`` (None: global) that contains ``address``."""
    network = parse_network(address if "/" in address else f"{address}/{_max_len(address)}")
    return (
        Prefix.objects.filter(
            _table(getattr(vrf, "pk", vrf)),
            family=network.version,
            start__lte=int(network.network_address),
            end__gte=int(network.broadcast_address),
        )
        .order_by("-prefix_length")
        .first()
    )


def _max_len(address: str) -> int:
    return 32 if ipaddress.ip_address(address).version == 4 else 128


# -- addresses --------------------------------------------------------------------------------
def ip_address_primary_mgmt_by_device(*, device_ids: Sequence[int]) -> dict[int, IPAddress]:
    """device id → its primary management address (with its interface), for many devices
    in one query."""
    rows = IPAddress.objects.filter(
        device_id__in=list(device_ids), is_primary_mgmt=True
    ).select_related("assigned_interface")
    return {row.device_id: row for row in rows}


def ip_address_primary_mgmt_hosts(*, device_ids: Sequence[int]) -> dict[int, str]:
    """device id → its primary management address without mask (one query); registered as
    dcim's console-host resolver."""
    rows = IPAddress.objects.filter(device_id__in=list(device_ids), is_primary_mgmt=True)
    return {
        device_id: address.split("/")[0]
        for device_id, address in rows.values_list("device_id", "address")
    }


def ip_address_list_for_device(*, device_id: int) -> QuerySet[IPAddress]:
    """The addresses assigned to the interfaces of a device."""
    return IPAddress.objects.filter(device_id=device_id).select_related("vrf", "assigned_interface")


# -- ASNs and VLANs ---------------------------------------------------------------------------
def asn_range_free_space(*, asn_range: ASNRange) -> FreeSpace:
    used = (
        ASN.objects.filter(asn__gte=asn_range.start, asn__lte=asn_range.end)
        .order_by()
        .values_list("asn", flat=True)
    )
    return FreeSpace(asn_range.start, asn_range.end, ((asn, asn) for asn in used))


def asn_range_available_asns(*, asn_range: ASNRange, limit: int = 50) -> list[int]:
    return asn_range_free_space(asn_range=asn_range).peek(limit)


def asn_range_get(*, name: str) -> ASNRange:
    """An ASN range by name or slug."""
    found = ASNRange.objects.filter(Q(name=name) | Q(slug=name)).first()
    if found is None:
        raise NotFoundError(f"No ASN range named {name!r}.", extra={"name": name})
    return found


def vlan_group_free_space(*, group: VLANGroup) -> FreeSpace:
    used = VLAN.objects.filter(group_id=group.pk).order_by().values_list("vid", flat=True)
    return FreeSpace(group.min_vid, group.max_vid, ((vid, vid) for vid in used))


def vlan_group_available_vids(*, group: VLANGroup, limit: int = 50) -> list[int]:
    return vlan_group_free_space(group=group).peek(limit)


def vlan_group_get(*, name: str) -> VLANGroup:
    """A VLAN group by name or slug."""
    found = VLANGroup.objects.filter(Q(name=name) | Q(slug=name)).first()
    if found is None:
        raise NotFoundError(f"No VLAN group named {name!r}.", extra={"name": name})
    return found
