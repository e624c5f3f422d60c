"""Allocations in parallel on PostgreSQL: distinct results, no error, exhaustion is clean.

Each thread has its own database connection (Django opens one per thread), so the
allocators really run side by side and meet on the advisory locks and unique constraints.
"""

import threading
from collections import Counter
from collections.abc import Callable
from itertools import pairwise

import pytest
from django.db import connection

from tests.conftest import require_service
from tests.factories import ASNRangeFactory, VLANGroupFactory
from turnup.core.errors import ConflictError
from turnup.ipam import services
from turnup.ipam.models import ASN, VLAN, IPAddress, Prefix

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def run_parallel(work: Callable[[int], list], threads: int = THREADS) -> tuple[list, list]:
    """Run ``work(i)`` in ``threads`` threads started together; collect results and errors."""
    barrier = threading.Barrier(threads)
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            got = work(index)
            with lock:
                results.extend(got)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(error)
        finally:
            connection.close()

    pool = [threading.Thread(target=runner, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in pool)
    return results, errors


@pytest.fixture(autouse=True)
def postgresql():
    require_service("POSTGRESQL")
    if connection.vendor != "postgresql":
        pytest.skip("this run's DATABASE_URL is not PostgreSQL")


def test_parallel_ip_allocations_are_distinct():
    prefix = services.prefix_create(prefix="10.0.0.0/24")

    def work(index: int) -> list[str]:
        got = []
        for _ in range(5):
            got += [str(a) for a in services.ip_allocate_next(prefix=prefix)]
        got += [str(a) for a in services.ip_allocate_next(prefix=prefix, count=3)]
        return got

    results, errors = run_parallel(work)
    assert errors == []
    assert len(results) == THREADS * 8
    assert len(set(results)) == len(results)
    assert IPAddress.objects.count() == THREADS * 8
    # lowest first, no holes: exactly the first 64 usable addresses
    assert set(results) == {f"10.0.0.{i}/24" for i in range(1, THREADS * 8 + 1)}


def test_parallel_prefix_allocations_are_distinct():
    pool = services.prefix_create(prefix="10.1.0.0/24", is_pool=True)

    def work(index: int) -> list[str]:
        got = []
        for _ in range(3):
            got += [str(p) for p in services.prefix_allocate_next(pool=pool, prefix_length=31)]
        got += [str(p) for p in services.prefix_allocate_next(pool=pool, prefix_length=30)]
        return got

    results, errors = run_parallel(work)
    assert errors == []
    assert len(set(results)) == len(results) == THREADS * 4
    children = Prefix.objects.filter(parent=pool)
    assert children.count() == THREADS * 4
    ranges = sorted(children.values_list("start", "end"))
    assert all(a_end < b_start for (_, a_end), (b_start, _) in pairwise(ranges))


def test_parallel_asn_and_vlan_allocations_are_distinct():
    asn_range = ASNRangeFactory(start=64512, end=64600)
    group = VLANGroupFactory(min_vid=100, max_vid=200)

    def work(index: int) -> list:
        got = []
        for _ in range(4):
            got += [a.asn for a in services.asn_allocate_next(asn_range=asn_range)]
            got += [f"vlan{v.vid}" for v in services.vlan_allocate_next(group=group)]
        return got

    results, errors = run_parallel(work)
    assert errors == []
    assert len(set(results)) == len(results) == THREADS * 8
    assert ASN.objects.count() == VLAN.objects.count() == THREADS * 4


def test_pool_and_its_parent_allocating_at_once_stay_distinct():
    parent = services.prefix_create(prefix="10.2.0.0/28")
    child = services.prefix_create(prefix="10.2.0.0/29")

    def work(index: int) -> list[str]:
        source = parent if index % 2 else child
        return [str(a.ip) for a in services.ip_allocate_next(prefix=source, mask_length=32)]

    results, errors = run_parallel(work, threads=6)
    assert errors == []
    assert len(set(results)) == len(results) == 6


def test_exhausted_pool_under_contention_gives_conflicts_and_no_extra_rows():
    pool = services.prefix_create(prefix="10.3.0.0/29", is_pool=True)  # four /31s

    def work(index: int) -> list[str]:
        return [str(p) for p in services.prefix_allocate_next(pool=pool, prefix_length=31)]

    results, errors = run_parallel(work)
    assert sorted(results) == ["10.3.0.0/31", "10.3.0.2/31", "10.3.0.4/31", "10.3.0.6/31"]
    assert len(errors) == THREADS - 4
    assert Counter(type(error) for error in errors) == {ConflictError: THREADS - 4}
    assert all(error.status_code == 409 for error in errors)
    assert Prefix.objects.filter(parent=pool).count() == 4


def test_all_or_nothing_batches_under_contention():
    prefix = services.prefix_create(prefix="10.4.0.0/28")  # 14 usable

    def work(index: int) -> list[str]:
        return [str(a) for a in services.ip_allocate_next(prefix=prefix, count=4)]

    results, errors = run_parallel(work, threads=5)
    assert len(results) == 12  # three batches of four fit; the others got nothing
    assert len(errors) == 2 and all(isinstance(e, ConflictError) for e in errors)
    assert IPAddress.objects.count() == 12


def test_parallel_manual_prefix_creates_keep_the_hierarchy_right():
    """Prefixes created by hand at once, nested in every order, end with the same parents
    and depths as a fresh walk of the table gives (the per-VRF hierarchy lock)."""
    texts = [f"10.9.{i}.0/24" for i in range(6)] + ["10.9.0.0/16", "10.9.0.0/20", "10.0.0.0/8"]
    texts += [f"10.9.{i}.{j * 64}/26" for i in range(2) for j in range(4)]

    def work(index: int) -> list[str]:
        mine = texts[index::THREADS]
        return [str(services.prefix_create(prefix=text)) for text in mine]

    results, errors = run_parallel(work)
    assert errors == []
    assert sorted(results) == sorted(texts)
    rows = {p.prefix: p for p in Prefix.objects.all()}
    for prefix in rows.values():
        containing = [
            other
            for other in rows.values()
            if other.start <= prefix.start
            and prefix.end <= other.end
            and other.prefix_length < prefix.prefix_length
        ]
        expected = max(containing, key=lambda p: p.prefix_length, default=None)
        assert prefix.parent_id == (expected.pk if expected else None), prefix.prefix
        assert prefix.depth == len(containing), prefix.prefix
