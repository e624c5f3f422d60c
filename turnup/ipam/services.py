"""Writes of ipam: prefixes (keeping their hierarchy), addresses, and the allocators.

The allocators (``prefix_allocate_next``, ``ip_allocate_next``, ``asn_allocate_next``,
``vlan_allocate_next``) are all-or-nothing: they allocate every requested item or raise and
write nothing. An exhausted pool raises ``ConflictError`` (HTTP 409) that names the pool and
says how many were asked and how many are free.

Concurrency: on PostgreSQL each allocator holds ``pg_advisory_xact_lock(kind, pool_id)``
(keys in ``constants.AllocationLock``) until its transaction ends, so two allocations from one
pool run one after the other and the second sees the first's rows. Allocations from two
different pools that share address space (a pool and its parent, overlapping ASN ranges)
can still meet; the unique constraints catch that and the allocation runs again (in a fresh
transaction, or a savepoint inside the caller's).
On SQLite every write transaction starts with BEGIN IMMEDIATE (settings), one writer at a
time. Each allocation costs a fixed number of queries whatever ``count`` is: the used ranges
of the pool are loaded once and the gaps walked in Python (``selectors.FreeSpace``); for
addresses, one aggregate query is enough while the pool has no holes
(``selectors.prefix_ip_next_free``).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction

from turnup.core.changelog import changelog_record, changelog_snapshot
from turnup.core.errors import ApplicationError, ConflictError, NotFoundError
from turnup.core.services import loaded_relations, model_bulk_delete
from turnup.ipam import selectors
from turnup.ipam.choices import ASNStatus, IPAddressStatus, PrefixStatus, VLANStatus
from turnup.ipam.constants import (
    ADVISORY_KEY_MODULO,
    ALLOCATION_ATTEMPTS,
    ALLOCATION_MAX_COUNT,
    AllocationLock,
)
from turnup.ipam.models import ASN, VLAN, ASNRange, IPAddress, Prefix, VLANGroup

T = TypeVar("T")


# -- locks ------------------------------------------------------------------------------------
def _advisory_locks(*locks: tuple[AllocationLock, int | None, bool]) -> None:
    """Take PostgreSQL advisory locks ``(kind, key, shared)`` in order, in one statement,
    held until the transaction ends. A no-op on SQLite, whose IMMEDIATE write transactions
    already run one at a time."""
    if connection.vendor != "postgresql" or not locks:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("advisory transaction locks need a transaction")
    calls, params = [], []
    for kind, key, shared in locks:
        calls.append(f"pg_advisory_xact_lock{'_shared' if shared else ''}(%s, %s)")
        params += [int(kind), (key or 0) % ADVISORY_KEY_MODULO]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(calls)}", params)


def _prefix_table_lock(*vrf_ids: int | None) -> None:
    """Exclusive lock on the prefix hierarchy of each VRF (in a fixed order: no deadlock)."""
    keys = sorted({vrf_id or 0 for vrf_id in vrf_ids})
    _advisory_locks(*((AllocationLock.PREFIX_TABLE, key, False) for key in keys))


def _with_retries(attempt: Callable[[], T], *, what: str) -> T:
    """Run ``attempt`` (which takes its locks first) in a transaction — a savepoint when the
    caller already holds one — and run it again when a unique constraint caught a clash
    with a writer that held a different lock."""
    for number in range(1, ALLOCATION_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                return attempt()
        except IntegrityError:
            if number == ALLOCATION_ATTEMPTS:
                raise ConflictError(
                    f"{what}: concurrent writers took the same values {number} times; try again."
                ) from None
    raise AssertionError("unreachable")


def _save_or_conflict(instance: models.Model) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ConflictError(
            f"{instance._meta.verbose_name} {instance} clashes with a row written at the "
            "same time.",
        ) from None


# -- errors -----------------------------------------------------------------------------------
def _items_error(errors: Mapping[int, Any]) -> ApplicationError:
    return ApplicationError(
        "Validation error", extra={"items": {str(index): e for index, e in errors.items()}}
    )


def _validate_local(instances: Sequence[models.Model]) -> None:
    """``clean_fields`` and ``clean_local`` of each instance (no query); name failing items."""
    errors: dict[int, Any] = {}
    for index, instance in enumerate(instances):
        try:
            instance.clean_fields(exclude=loaded_relations(instance))
            instance.clean_local()
        except ValidationError as error:
            errors[index] = error.message_dict
    if errors:
        raise _items_error(errors)


def _requests(
    count: int, items: Sequence[Mapping[str, Any]] | None, attrs: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One dict of field values per item to allocate: ``items`` (each over ``attrs``), or
    ``count`` copies of ``attrs``."""
    if items is not None:
        if not isinstance(items, Sequence) or not all(isinstance(i, Mapping) for i in items):
            raise ApplicationError("items must be a list of objects")
        requests = [{**attrs, **item} for item in items]
    else:
        if not isinstance(count, int) or isinstance(count, bool):
            raise ApplicationError("count must be a whole number", extra={"count": count})
        requests = [dict(attrs) for _ in range(count)]
    if not 1 <= len(requests) <= ALLOCATION_MAX_COUNT:
        raise ApplicationError(
            f"Allocate between 1 and {ALLOCATION_MAX_COUNT} at once ({len(requests)} asked).",
            extra={"count": len(requests)},
        )
    return requests


def _build(model: type[models.Model], requests: list[dict[str, Any]], forbidden: set[str]):
    """Instantiate ``model`` per request; unknown or allocator-owned fields name the item."""
    names = {f.name for f in model._meta.concrete_fields} | {
        f.attname for f in model._meta.concrete_fields
    }
    errors: dict[int, Any] = {}
    for index, request in enumerate(requests):
        bad = sorted(key for key in request if key in forbidden or key not in names)
        if bad:
            errors[index] = {key: ["cannot be set on an allocation"] for key in bad}
    if errors:
        raise _items_error(errors)
    return [model(**request) for request in requests]


def _exhausted(pool: models.Model, label: str, *, requested: int, available: int, what: str):
    kind = str(pool._meta.verbose_name)
    return ConflictError(
        f"{kind[0].upper()}{kind[1:]} {pool} is exhausted: {available} {what} free, "
        f"{requested} requested.",
        extra={
            "pool": {"id": pool.pk, "display": str(pool), "type": label},
            "requested": requested,
            "available": available,
        },
    )


def _reload(model: type[models.Model], pk: int, *related: str):
    try:
        return model.objects.select_related(*related).get(pk=pk)
    except model.DoesNotExist:
        raise NotFoundError(f"{model._meta.verbose_name} {pk} does not exist.") from None


# -- prefixes ---------------------------------------------------------------------------------
def _prefix_rebuild_hierarchy(
    *, vrf_id: int | None, family: int, low: int, high: int
) -> dict[int, tuple[int | None, int]]:
    """Recompute ``parent`` and ``depth`` of every prefix of a VRF that overlaps
    ``[low, high]`` (one read, one bulk update). Every ancestor of such a prefix overlaps
    the range too, so the walk sees whole chains. Returns id → (parent id, depth)."""
    rows = list(
        Prefix.objects.filter(
            selectors._table(vrf_id), family=family, start__lte=high, end__gte=low
        )
        .order_by("start", "prefix_length")
        .only("id", "start", "end", "prefix_length", "parent_id", "depth")
    )
    stack: list[Prefix] = []
    placed: dict[int, tuple[int | None, int]] = {}
    changed: list[Prefix] = []
    for row in rows:
        while stack and not (stack[-1].start <= row.start and row.end <= stack[-1].end):
            stack.pop()
        parent_id = stack[-1].pk if stack else None
        depth = len(stack)
        placed[row.pk] = (parent_id, depth)
        if (row.parent_id, row.depth) != (parent_id, depth):
            row.parent_id, row.depth = parent_id, depth
            changed.append(row)
        stack.append(row)
    if changed:
        Prefix.objects.bulk_update(changed, ["parent", "depth"], batch_size=500)
    return placed


def _place(instances: Iterable[Prefix], placed: Mapping[int, tuple[int | None, int]]) -> None:
    for instance in instances:
        if instance.pk in placed:
            instance.parent_id, instance.depth = placed[instance.pk]


@transaction.atomic
def prefix_create(**fields: Any) -> Prefix:
    """Create a prefix (duplicates in its VRF refused) and place it in the hierarchy."""
    prefix = Prefix(**fields)
    _prefix_table_lock(prefix.vrf_id)
    prefix.full_clean()
    _save_or_conflict(prefix)
    placed = _prefix_rebuild_hierarchy(
        vrf_id=prefix.vrf_id, family=prefix.family, low=prefix.start, high=prefix.end
    )
    _place([prefix], placed)
    changelog_record(action="create", instances=[prefix])
    return prefix


@transaction.atomic
def prefix_update(*, instance: Prefix, **fields: Any) -> Prefix:
    """Update a prefix; when its network or VRF changes, the hierarchy around the old and
    the new place is recomputed."""
    before = changelog_snapshot([instance])
    old = (instance.vrf_id, instance.family, instance.start, instance.end)
    for name, value in fields.items():
        setattr(instance, name, value)
    _prefix_table_lock(old[0], instance.vrf_id)
    instance.full_clean()
    _save_or_conflict(instance)
    new = (instance.vrf_id, instance.family, instance.start, instance.end)
    if new != old:
        placed = _prefix_rebuild_hierarchy(vrf_id=old[0], family=old[1], low=old[2], high=old[3])
        placed |= _prefix_rebuild_hierarchy(vrf_id=new[0], family=new[1], low=new[2], high=new[3])
        _place([instance], placed)
    changelog_record(action="update", instances=[instance], before=before)
    return instance


@transaction.atomic
def prefix_delete(*, instance: Prefix) -> None:
    prefix_bulk_delete(instances=[instance])


@transaction.atomic
def prefix_bulk_delete(*, instances: Sequence[Prefix]) -> None:
    """Delete prefixes; their children move up to the nearest prefix still there (one
    rebuild per table and family over the span of the deleted ones)."""
    if not instances:
        return
    _prefix_table_lock(*{prefix.vrf_id for prefix in instances})
    spans: dict[tuple[int | None, int], tuple[int, int]] = {}
    for prefix in instances:
        key = (prefix.vrf_id, prefix.family)
        low, high = spans.get(key, (prefix.start, prefix.end))
        spans[key] = (min(low, prefix.start), max(high, prefix.end))
    model_bulk_delete(instances=instances)
    for (vrf_id, family), (low, high) in spans.items():
        _prefix_rebuild_hierarchy(vrf_id=vrf_id, family=family, low=low, high=high)


@transaction.atomic
def prefix_bulk_create(*, items: list[dict[str, Any]]) -> list[Prefix]:
    """Create many prefixes at once, all or nothing, with a bounded number of queries."""
    instances = [Prefix(**item) for item in items]
    _prefix_table_lock(*(p.vrf_id for p in instances))
    _validate_local(instances)
    errors: dict[int, Any] = {}
    seen: dict[tuple, int] = {}
    named: dict[tuple, int] = {}
    for index, prefix in enumerate(instances):
        key = (prefix.vrf_id, prefix.prefix)
        if key in seen:
            errors[index] = {"prefix": [f"{prefix.prefix} repeats item {seen[key]}."]}
        seen.setdefault(key, index)
        if prefix.name:
            name_key = (prefix.vrf_id, prefix.site_id, prefix.name)
            if name_key in named:
                errors[index] = {"name": [f"{prefix.name!r} repeats item {named[name_key]}."]}
            named.setdefault(name_key, index)
    existing = set(
        Prefix.objects.filter(prefix__in={p.prefix for p in instances}).values_list(
            "vrf_id", "prefix"
        )
    )
    taken_names = set()
    if named:
        taken_names = set(
            Prefix.objects.filter(name__in={key[2] for key in named}).values_list(
                "vrf_id", "site_id", "name"
            )
        )
    for index, prefix in enumerate(instances):
        if (prefix.vrf_id, prefix.prefix) in existing:
            errors.setdefault(index, {"prefix": [f"{prefix.prefix} already exists."]})
        if prefix.name and (prefix.vrf_id, prefix.site_id, prefix.name) in taken_names:
            errors.setdefault(index, {"name": [f"{prefix.name!r} is taken."]})
    if errors:
        raise _items_error(errors)
    try:
        with transaction.atomic():
            created = Prefix.objects.bulk_create(instances)
    except IntegrityError:
        raise ConflictError("Prefixes clash with rows written at the same time.") from None
    spans: dict[tuple[int | None, int], tuple[int, int]] = {}
    for prefix in created:
        key = (prefix.vrf_id, prefix.family)
        low, high = spans.get(key, (prefix.start, prefix.end))
        spans[key] = (min(low, prefix.start), max(high, prefix.end))
    placed: dict[int, tuple[int | None, int]] = {}
    for (vrf_id, family), (low, high) in spans.items():
        placed |= _prefix_rebuild_hierarchy(vrf_id=vrf_id, family=family, low=low, high=high)
    _place(created, placed)
    parent_sites = dict(
        Prefix.objects.filter(pk__in={p.parent_id for p in created if p.parent_id})
        .exclude(site=None)
        .values_list("id", "site_id")
    )
    for index, prefix in enumerate(created):
        parent_site = parent_sites.get(prefix.parent_id)
        if parent_site and prefix.site_id and parent_site != prefix.site_id:
            errors[index] = {"site": ["It lies in a prefix of another site."]}
    if errors:
        raise _items_error(errors)
    changelog_record(action="create", instances=created)
    return created


def prefix_allocate_next(
    *,
    pool: Prefix,
    prefix_length: int | None = None,
    count: int = 1,
    items: Sequence[Mapping[str, Any]] | None = None,
    **attrs: Any,
) -> list[Prefix]:
    """Allocate the next free child prefix(es) of ``prefix_length`` from ``pool``.

    ``count`` prefixes with the same ``attrs`` (status, role, site, name, is_pool,
    description), or one per entry of ``items`` (each may carry its own ``prefix_length``
    and fields). They go in ``pool``'s VRF and, unless told otherwise, its site. First fit,
    lowest addresses first. All or nothing: ``ConflictError`` when the pool has too little
    room left, ``ApplicationError`` for a length the pool cannot hold.
    """
    requests = _requests(count, items, attrs)
    lengths = [request.pop("prefix_length", prefix_length) for request in requests]

    def attempt() -> list[Prefix]:
        _advisory_locks(
            (AllocationLock.PREFIX_TABLE, pool.vrf_id, True),
            (AllocationLock.PREFIX, pool.pk, False),
        )
        return _prefix_allocate(pool.pk, lengths, requests)

    return _with_retries(attempt, what=f"Pool {pool}")


def _prefix_allocate(
    pool_id: int, lengths: list[Any], requests: list[dict[str, Any]]
) -> list[Prefix]:
    pool = _reload(Prefix, pool_id, "vrf", "site")
    bits = pool.max_length()
    errors = {}
    for index, length in enumerate(lengths):
        if not isinstance(length, int) or isinstance(length, bool):
            errors[index] = {"prefix_length": ["a whole number is required"]}
        elif pool.prefix_length >= bits:
            errors[index] = {
                "prefix_length": [f"{pool} is a single address: it holds no child prefix."]
            }
        elif not pool.prefix_length < length <= bits:
            errors[index] = {
                "prefix_length": [
                    f"{pool} can hold /{pool.prefix_length + 1} to /{bits}, not /{length}."
                ]
            }
    if errors:
        raise _items_error(errors)
    free = selectors.prefix_free_space(prefix=pool)
    for length, requested in sorted(Counter(lengths).items()):
        available = free.count(1 << (bits - length))
        if requested > available:
            raise _exhausted(
                pool, "prefix", requested=requested, available=available, what=f"/{length}"
            )
    network_class = ipaddress.IPv4Network if pool.family == 4 else ipaddress.IPv6Network
    for request, length in zip(requests, lengths, strict=True):
        start = free.take(1 << (bits - length))
        if start is None:
            raise _exhausted(
                pool, "prefix", requested=len(lengths), available=0, what="prefixes (mixed)"
            )
        request["prefix"] = str(network_class((start, length)))
    instances = _build(
        Prefix,
        [{"status": PrefixStatus.ACTIVE, "site": pool.site, **request} for request in requests],
        forbidden={"vrf", "vrf_id", "parent", "parent_id", "depth", "family", "start", "end"},
    )
    for instance in instances:
        instance.vrf = pool.vrf
        instance.parent = pool
        instance.depth = pool.depth + 1
    _validate_local(instances)
    errors = {}
    for index, instance in enumerate(instances):
        if pool.site_id and instance.site_id != pool.site_id:
            errors[index] = {"site": [f"Pool {pool} belongs to site {pool.site}."]}
    names = Counter((instance.site_id, instance.name) for instance in instances if instance.name)
    if names:
        taken = set(
            Prefix.objects.filter(
                selectors._table(pool.vrf_id), name__in={name for _, name in names}
            ).values_list("site_id", "name")
        )
        for index, instance in enumerate(instances):
            key = (instance.site_id, instance.name)
            if instance.name and (key in taken or names[key] > 1):
                errors[index] = {"name": [f"{instance.name!r} is taken in this VRF and site."]}
    if errors:
        raise _items_error(errors)
    created = Prefix.objects.bulk_create(instances)
    changelog_record(action="create", instances=created)
    return created


# -- IP addresses -----------------------------------------------------------------------------
@transaction.atomic
def ip_address_create(**fields: Any) -> IPAddress:
    """Create an address (unique in its VRF; one primary management address per device)."""
    address = IPAddress(**fields)
    address.full_clean()
    _save_or_conflict(address)
    changelog_record(action="create", instances=[address])
    return address


@transaction.atomic
def ip_address_update(*, instance: IPAddress, **fields: Any) -> IPAddress:
    before = changelog_snapshot([instance])
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    _save_or_conflict(instance)
    changelog_record(action="update", instances=[instance], before=before)
    return instance


def _check_addresses_free(instances: Sequence[IPAddress]) -> None:
    """Refuse addresses taken in their VRF or repeated in the batch, and a second primary
    management address of a device (two queries whatever the batch size)."""
    errors: dict[int, Any] = {}
    seen: dict[tuple, int] = {}
    primaries: dict[int, int] = {}
    for index, address in enumerate(instances):
        key = (address.vrf_id, address.family, address.host)
        if key in seen:
            errors[index] = {"address": [f"{address.ip} repeats item {seen[key]}."]}
        seen.setdefault(key, index)
        if address.is_primary_mgmt:
            if address.device_id in primaries:
                errors[index] = {
                    "is_primary_mgmt": [
                        f"Item {primaries[address.device_id]} is already this device's "
                        "primary management address."
                    ]
                }
            primaries.setdefault(address.device_id, index)
    hosts = {address.host for address in instances}
    taken = set(
        IPAddress.objects.filter(host__in=hosts)
        .exclude(pk__in=[a.pk for a in instances if a.pk])
        .values_list("vrf_id", "family", "host")
    )
    for index, address in enumerate(instances):
        if (address.vrf_id, address.family, address.host) in taken:
            errors.setdefault(index, {"address": [f"{address.ip} already exists in its VRF."]})
    if primaries:
        held = dict(
            IPAddress.objects.filter(device_id__in=list(primaries), is_primary_mgmt=True)
            .exclude(pk__in=[a.pk for a in instances if a.pk])
            .values_list("device_id", "address")
        )
        for device_id, index in primaries.items():
            if device_id in held:
                errors.setdefault(
                    index,
                    {
                        "is_primary_mgmt": [
                            f"The device already has primary management address {held[device_id]}."
                        ]
                    },
                )
    if errors:
        raise _items_error(errors)


@transaction.atomic
def ip_address_bulk_create(*, items: list[dict[str, Any]]) -> list[IPAddress]:
    """Create many addresses at once, all or nothing, with a bounded number of queries."""
    instances = [IPAddress(**item) for item in items]
    _validate_local(instances)
    _check_addresses_free(instances)
    try:
        with transaction.atomic():
            created = IPAddress.objects.bulk_create(instances)
    except IntegrityError:
        raise ConflictError("Addresses clash with rows written at the same time.") from None
    changelog_record(action="create", instances=created)
    return created


def ip_allocate_next(
    *,
    prefix: Prefix | int,
    count: int = 1,
    mask_length: int | None = None,
    items: Sequence[Mapping[str, Any]] | None = None,
    **attrs: Any,
) -> list[IPAddress]:
    """Allocate the next free address(es) of ``prefix``, lowest first.

    Each gets ``prefix``'s mask length (or ``mask_length``, e.g. 32 for loopbacks taken from
    a /24) and its VRF; ``attrs`` (or one entry of ``items`` per address) set status, role,
    dns_name, description, assigned_interface, is_primary_mgmt. Which addresses are usable:
    ``Prefix.usable_range``. A Prefix is taken as passed (not read again); given its id, it
    is read by the statement that takes the lock (one round trip less: the API's path) —
    ``NotFoundError`` when there is none. All or nothing; ``ConflictError`` when too few are
    free.
    """
    requests = _requests(count, items, attrs)

    def attempt() -> list[IPAddress]:
        pool = _lock_outermost_prefix(prefix)
        return _ip_allocate(pool, mask_length, requests)

    return _with_retries(attempt, what=f"Prefix {prefix}")


# The outermost prefix of the VRF containing the pool, found and locked in the statement that
# reads the pool (written out once: the query is the same for every allocation). One lookup
# for a VRF's table and one for the global table, each a range scan of ipam_prefix_range (an
# OR of the two made PostgreSQL scan both).
_LOCK_OUTERMOST_SQL = """
SELECT pool.*, pg_advisory_xact_lock(%s, CAST(COALESCE(
    (SELECT outer_prefix.id FROM {table} outer_prefix
     WHERE outer_prefix.vrf_id = pool.vrf_id AND outer_prefix.family = pool.family
       AND outer_prefix.start <= pool.start AND outer_prefix."end" >= pool."end"
     ORDER BY outer_prefix.prefix_length LIMIT 1),
    (SELECT outer_prefix.id FROM {table} outer_prefix
     WHERE pool.vrf_id IS NULL AND outer_prefix.vrf_id IS NULL
       AND outer_prefix.family = pool.family
       AND outer_prefix.start <= pool.start AND outer_prefix."end" >= pool."end"
     ORDER BY outer_prefix.prefix_length LIMIT 1),
    pool.id
) %% %s AS integer)) AS locked
FROM {table} pool
WHERE pool.id = %s
"""


def _lock_outermost_prefix(prefix: Prefix | int) -> Prefix:
    """Lock ``(IP_ADDRESS, id of the biggest prefix of the VRF containing prefix)`` — found
    and locked by the statement that reads the pool. Allocating from a subnet and from its
    parent at the same time then take turns instead of racing for the same addresses.
    Returns the pool: ``prefix`` itself, or the row read when given an id."""
    pk = prefix.pk if isinstance(prefix, Prefix) else prefix
    if connection.vendor != "postgresql":
        return prefix if isinstance(prefix, Prefix) else _reload(Prefix, pk)
    sql = _LOCK_OUTERMOST_SQL.format(table=Prefix._meta.db_table)
    pools = list(Prefix.objects.raw(sql, [int(AllocationLock.IP_ADDRESS), ADVISORY_KEY_MODULO, pk]))
    if not pools:
        raise NotFoundError(f"{Prefix._meta.verbose_name} {pk} does not exist.")
    return prefix if isinstance(prefix, Prefix) else pools[0]


def _ip_allocate(
    prefix: Prefix, mask_length: int | None, requests: list[dict[str, Any]]
) -> list[IPAddress]:
    mask = prefix.prefix_length if mask_length is None else mask_length
    if not isinstance(mask, int) or not prefix.prefix_length <= mask <= prefix.max_length():
        raise ApplicationError(
            f"mask_length must be /{prefix.prefix_length} to /{prefix.max_length()} "
            f"for addresses of {prefix}.",
            extra={"fields": {"mask_length": [f"{mask} is out of range"]}},
        )
    hosts, available = selectors.prefix_ip_next_free(
        prefix=prefix, mask_length=mask, count=len(requests)
    )
    if len(requests) > available:
        raise _exhausted(
            prefix, "prefix", requested=len(requests), available=available, what="addresses"
        )
    address_class = ipaddress.IPv4Address if prefix.family == 4 else ipaddress.IPv6Address
    for request, host in zip(requests, hosts, strict=True):
        request["address"] = f"{address_class(host)}/{mask}"
    instances = _build(
        IPAddress,
        [{"status": IPAddressStatus.ACTIVE, **request} for request in requests],
        forbidden={"vrf", "vrf_id", "device", "device_id", "family", "host", "mask_length"},
    )
    vrf = prefix.vrf if prefix.vrf_id is not None else None  # read once if not loaded
    for instance in instances:
        instance.vrf = vrf
    _validate_local(instances)
    if any(instance.is_primary_mgmt for instance in instances):
        _check_addresses_free([i for i in instances if i.is_primary_mgmt])
    created = IPAddress.objects.bulk_create(instances)
    changelog_record(action="create", instances=created)
    return created


# -- ASNs -------------------------------------------------------------------------------------
def asn_allocate_next(
    *,
    asn_range: ASNRange,
    count: int = 1,
    items: Sequence[Mapping[str, Any]] | None = None,
    **attrs: Any,
) -> list[ASN]:
    """Allocate the next free ASN(s) of ``asn_range``, lowest first (``attrs``: site, status,
    description). ASNs are unique in the whole database, so one used through another range
    is skipped. All or nothing; ``ConflictError`` when too few are free."""
    requests = _requests(count, items, attrs)

    def attempt() -> list[ASN]:
        _advisory_locks((AllocationLock.ASN, asn_range.pk, False))
        return _asn_allocate(asn_range.pk, requests)

    return _with_retries(attempt, what=f"ASN range {asn_range}")


def _asn_allocate(range_id: int, requests: list[dict[str, Any]]) -> list[ASN]:
    asn_range = _reload(ASNRange, range_id)
    free = selectors.asn_range_free_space(asn_range=asn_range)
    available = free.count()
    if len(requests) > available:
        raise _exhausted(
            asn_range, "asn-range", requested=len(requests), available=available, what="ASNs"
        )
    instances = _build(
        ASN,
        [{"status": ASNStatus.ACTIVE, **request} for request in requests],
        forbidden={"asn"},
    )
    for instance in instances:
        instance.asn = free.take()
    _validate_local(instances)
    created = ASN.objects.bulk_create(instances)
    changelog_record(action="create", instances=created)
    return created


# -- VLANs ------------------------------------------------------------------------------------
def vlan_allocate_next(
    *,
    group: VLANGroup,
    count: int = 1,
    items: Sequence[Mapping[str, Any]] | None = None,
    **attrs: Any,
) -> list[VLAN]:
    """Allocate the next free VLAN ID(s) of ``group``, lowest first.

    ``attrs`` (or one entry of ``items`` per VLAN): name (default ``VLAN0042``, Cisco's
    default name; ``{vid}`` in it is replaced by the VLAN ID, any other brace is kept as
    written), site (default the group's), status, description.
    All or nothing; ``ConflictError`` when too few IDs are free.
    """
    requests = _requests(count, items, attrs)

    def attempt() -> list[VLAN]:
        _advisory_locks((AllocationLock.VLAN, group.pk, False))
        return _vlan_allocate(group.pk, requests)

    return _with_retries(attempt, what=f"VLAN group {group}")


def _vlan_name(template: Any, vid: int) -> str:
    """The name of an allocated VLAN: ``template`` with ``{vid}`` replaced (a plain
    replacement, not ``str.format``: ``{x}`` or ``{`` is part of the name), else ``VLAN0042``."""
    if not template:
        return f"VLAN{vid:04d}"
    return str(template).replace("{vid}", str(vid))


def _vlan_allocate(group_id: int, requests: list[dict[str, Any]]) -> list[VLAN]:
    group = _reload(VLANGroup, group_id, "site")
    free = selectors.vlan_group_free_space(group=group)
    available = free.count()
    if len(requests) > available:
        raise _exhausted(
            group, "vlan-group", requested=len(requests), available=available, what="VLANs"
        )
    for request in requests:
        vid = free.take()
        request["vid"] = vid
        request["name"] = _vlan_name(request.get("name"), vid)
    instances = _build(
        VLAN,
        [{"status": VLANStatus.ACTIVE, "site": group.site, **request} for request in requests],
        forbidden={"group", "group_id"},
    )
    for instance in instances:
        instance.group = group
    _validate_local(instances)
    names = Counter(instance.name for instance in instances)
    taken = set(
        VLAN.objects.filter(group_id=group.pk, name__in=list(names)).values_list("name", flat=True)
    )
    errors = {
        index: {"name": [f"{instance.name!r} is already used in group {group}."]}
        for index, instance in enumerate(instances)
        if instance.name in taken or names[instance.name] > 1
    }
    if errors:
        raise _items_error(errors)
    created = VLAN.objects.bulk_create(instances)
    changelog_record(action="create", instances=created)
    return created
