"""Constants of ipam, among them the advisory-lock keys of the allocators (declared once here).

An allocator holds ``pg_advisory_xact_lock(namespace, pool_id)`` for the rest of its
transaction: the namespace says which kind of pool (prefix, IP, ASN range, VLAN group), so
pool 7 of one kind never blocks pool 7 of another. The two-key form of the lock lives in its
own key space in PostgreSQL, apart from any single-key (bigint) advisory lock.

Prefix writes also take ``(PREFIX_TABLE, vrf_id or 0)``: shared by the allocators (which only
add leaves under their pool), exclusive for a manual create/update/delete (which may move
other prefixes in the hierarchy), so the parents and depths they compute are never stale.
"""

from enum import IntEnum


class AllocationLock(IntEnum):
    """First key of ``pg_advisory_xact_lock(namespace, pool_id)``, per kind of pool."""

    PREFIX = 0x1F0001  # child prefixes of a prefix
    IP_ADDRESS = 0x1F0002  # addresses of a prefix (keyed by its outermost containing prefix)
    ASN = 0x1F0003  # ASNs of an ASN range
    VLAN = 0x1F0004  # VLANs of a VLAN group
    PREFIX_TABLE = 0x1F0005  # the prefix hierarchy of a VRF (0: the global table)


# A pool id goes into the second (int4) key; ids past 2**31 wrap (a shared key only costs
# extra waiting, never a wrong result).
ADVISORY_KEY_MODULO = 2**31

# How many times an allocation retries after a unique constraint caught a clash with a writer
# that held another lock (e.g. allocating from a pool and from its parent at the same time).
ALLOCATION_ATTEMPTS = 5

# The most one request may allocate at once.
ALLOCATION_MAX_COUNT = 10_000

ASN_MIN = 1
ASN_MAX = 4_294_967_295  # 32-bit ASNs (RFC 6793)
VLAN_VID_MIN = 1
VLAN_VID_MAX = 4094
