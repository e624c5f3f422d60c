"""The allocators: next free prefix / IP / ASN / VLAN, many at once, all or nothing."""

import ipaddress

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    ASNFactory,
    ASNRangeFactory,
    InterfaceFactory,
    SiteFactory,
    VLANFactory,
    VLANGroupFactory,
    VRFFactory,
)
from turnup.core.errors import ApplicationError, ConflictError, NotFoundError
from turnup.core.models import ObjectChange
from turnup.ipam import selectors, services
from turnup.ipam.models import ASN, VLAN, IPAddress, Prefix

pytestmark = pytest.mark.django_db


def texts(rows) -> list[str]:
    return [str(row) for row in rows]


# -- prefixes ---------------------------------------------------------------------------------
def test_point_to_point_31s_from_a_pool_first_fit():
    vrf = VRFFactory()
    site = SiteFactory()
    pool = services.prefix_create(prefix="10.0.0.0/29", vrf=vrf, site=site, is_pool=True)
    services.prefix_create(prefix="10.0.0.2/31", vrf=vrf)  # taken by hand
    links = services.prefix_allocate_next(
        pool=pool, prefix_length=31, count=2, role="point-to-point"
    )
    assert texts(links) == ["10.0.0.0/31", "10.0.0.4/31"]
    assert {(p.vrf_id, p.site_id, p.parent_id, p.depth) for p in links} == {
        (vrf.pk, site.pk, pool.pk, 1)
    }
    assert texts(services.prefix_allocate_next(pool=pool, prefix_length=31)) == ["10.0.0.6/31"]


def test_alignment_skips_misaligned_holes():
    pool = services.prefix_create(prefix="10.0.0.0/24", is_pool=True)
    services.prefix_allocate_next(pool=pool, prefix_length=31)  # 10.0.0.0/31
    assert texts(services.prefix_allocate_next(pool=pool, prefix_length=30)) == ["10.0.0.4/30"]
    assert texts(services.prefix_allocate_next(pool=pool, prefix_length=31)) == ["10.0.0.2/31"]
    assert texts(services.prefix_allocate_next(pool=pool, prefix_length=26)) == ["10.0.0.64/26"]
    assert selectors.prefix_available_prefixes(prefix=pool) == [
        "10.0.0.8/29",
        "10.0.0.16/28",
        "10.0.0.32/27",
        "10.0.0.128/25",
    ]


def test_mixed_lengths_in_one_request():
    pool = services.prefix_create(prefix="10.0.0.0/28", is_pool=True)
    got = services.prefix_allocate_next(
        pool=pool, items=[{"prefix_length": 30}, {"prefix_length": 31, "description": "x"}]
    )
    assert texts(got) == ["10.0.0.0/30", "10.0.0.4/31"]
    assert got[1].description == "x"


def test_ipv6_prefixes():
    pool = services.prefix_create(prefix="2001:db8::/56", is_pool=True)
    got = services.prefix_allocate_next(pool=pool, prefix_length=64, count=3)
    assert texts(got) == ["2001:db8::/64", "2001:db8:0:1::/64", "2001:db8:0:2::/64"]
    links = services.prefix_allocate_next(pool=got[2], prefix_length=127, count=2)
    assert texts(links) == ["2001:db8:0:2::/127", "2001:db8:0:2::2/127"]
    assert links[0].depth == 2


def test_exhausted_pool_is_a_conflict_and_writes_nothing():
    pool = services.prefix_create(prefix="10.0.0.0/29", is_pool=True)
    services.prefix_allocate_next(pool=pool, prefix_length=31)
    before = (Prefix.objects.count(), ObjectChange.objects.count())
    with pytest.raises(ConflictError) as error:
        services.prefix_allocate_next(pool=pool, prefix_length=31, count=4)
    assert error.value.status_code == 409
    assert "10.0.0.0/29" in error.value.message
    assert error.value.extra["requested"] == 4
    assert error.value.extra["available"] == 3
    assert error.value.extra["pool"]["id"] == pool.pk
    assert (Prefix.objects.count(), ObjectChange.objects.count()) == before


def test_bad_prefix_lengths_and_fields_are_refused():
    pool = services.prefix_create(prefix="10.0.0.0/24", is_pool=True)
    for length in (24, 8, 33):
        with pytest.raises(ApplicationError) as error:
            services.prefix_allocate_next(pool=pool, prefix_length=length)
        assert "prefix_length" in error.value.extra["items"]["0"]
    with pytest.raises(ApplicationError) as error:
        services.prefix_allocate_next(pool=pool, prefix_length=31, vrf=VRFFactory())
    assert "vrf" in error.value.extra["items"]["0"]
    with pytest.raises(ApplicationError) as error:
        services.prefix_allocate_next(pool=pool, prefix_length=31, count=2, name="dup")
    assert set(error.value.extra["items"]) == {"0", "1"}
    with pytest.raises(ApplicationError):
        services.prefix_allocate_next(pool=pool, prefix_length=31, count=0)
    assert Prefix.objects.count() == 1


def test_allocated_prefixes_take_the_pool_site_and_refuse_another():
    site = SiteFactory()
    pool = services.prefix_create(prefix="10.0.0.0/24", is_pool=True, site=site)
    with pytest.raises(ApplicationError) as error:
        services.prefix_allocate_next(pool=pool, prefix_length=30, site=SiteFactory())
    assert "site" in error.value.extra["items"]["0"]


def test_prefix_allocation_costs_the_same_queries_for_1_and_200():
    pool = services.prefix_create(prefix="10.0.0.0/16", is_pool=True)
    with CaptureQueriesContext(connection) as one:
        services.prefix_allocate_next(pool=pool, prefix_length=31)
    with CaptureQueriesContext(connection) as many:
        services.prefix_allocate_next(pool=pool, prefix_length=31, count=20)
    assert len(many) == len(one)
    assert ObjectChange.objects.filter(action="create").count() == 1 + 1 + 20


# -- addresses --------------------------------------------------------------------------------
def test_ipv4_subnet_skips_network_and_broadcast():
    prefix = services.prefix_create(prefix="10.0.0.0/30")
    got = services.ip_allocate_next(prefix=prefix, count=2)
    assert texts(got) == ["10.0.0.1/30", "10.0.0.2/30"]
    with pytest.raises(ConflictError) as error:
        services.ip_allocate_next(prefix=prefix)
    assert error.value.extra == {
        "pool": {"id": prefix.pk, "display": "10.0.0.0/30", "type": "prefix"},
        "requested": 1,
        "available": 0,
    }


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("10.0.0.0/31", ["10.0.0.0/31", "10.0.0.1/31"]),
        ("10.0.0.7/32", ["10.0.0.7/32"]),
        ("2001:db8::/127", ["2001:db8::/127", "2001:db8::1/127"]),
        ("2001:db8::/64", ["2001:db8::1/64", "2001:db8::2/64"]),
    ],
)
def test_rfc3021_and_ipv6(prefix, expected):
    pool = services.prefix_create(prefix=prefix)
    assert texts(services.ip_allocate_next(prefix=pool, count=len(expected))) == expected


def test_host_masks_from_a_pool_use_every_address():
    loopbacks = services.prefix_create(prefix="10.255.0.0/30", is_pool=True)
    assert texts(services.ip_allocate_next(prefix=loopbacks, count=4, mask_length=32)) == [
        "10.255.0.0/32",
        "10.255.0.1/32",
        "10.255.0.2/32",
        "10.255.0.3/32",
    ]
    subnet = services.prefix_create(prefix="10.254.0.0/30")
    with pytest.raises(ApplicationError, match="mask_length"):
        services.ip_allocate_next(prefix=subnet, mask_length=29)


def test_addresses_skip_used_ones_in_the_vrf_only():
    vrf = VRFFactory()
    prefix = services.prefix_create(prefix="10.0.0.0/24", vrf=vrf)
    services.ip_address_create(address="10.0.0.1/24", vrf=vrf)
    services.ip_address_create(address="10.0.0.2/24")  # global table: does not count
    got = services.ip_allocate_next(prefix=prefix, count=2, status="reserved", dns_name="a")
    assert texts(got) == ["10.0.0.2/24", "10.0.0.3/24"]
    assert {(a.vrf_id, a.status, a.dns_name) for a in got} == {(vrf.pk, "reserved", "a")}
    assert selectors.prefix_available_ips(prefix=prefix, limit=2) == [
        "10.0.0.4/24",
        "10.0.0.5/24",
    ]


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        ([], ["10.0.0.1/24", "10.0.0.2/24", "10.0.0.3/24"]),
        (["10.0.0.1", "10.0.0.2"], ["10.0.0.3/24", "10.0.0.4/24", "10.0.0.5/24"]),
        (["10.0.0.3", "10.0.0.4"], ["10.0.0.1/24", "10.0.0.2/24", "10.0.0.5/24"]),
        (["10.0.0.1", "10.0.0.3", "10.0.0.9"], ["10.0.0.2/24", "10.0.0.4/24", "10.0.0.5/24"]),
        ([f"10.0.0.{n}" for n in range(1, 253)], ["10.0.0.253/24", "10.0.0.254/24"]),
    ],
    ids=["empty", "one-run-from-the-start", "one-run-inside", "holes", "nearly-full"],
)
def test_next_free_addresses_with_and_without_holes(used, expected):
    prefix = services.prefix_create(prefix="10.0.0.0/24")
    for address in used:
        services.ip_address_create(address=f"{address}/24")
    hosts, available = selectors.prefix_ip_next_free(prefix=prefix, count=3)
    assert [f"{ipaddress.IPv4Address(h)}/24" for h in hosts] == expected
    assert available == 254 - len(used)
    got = services.ip_allocate_next(prefix=prefix, count=len(expected))
    assert texts(got) == expected


def test_next_free_in_ipv6_and_with_host_masks():
    prefix = services.prefix_create(prefix="2001:db8::/126")
    services.ip_address_create(address="2001:db8::2/126")
    hosts, available = selectors.prefix_ip_next_free(prefix=prefix, count=5)
    assert ([str(ipaddress.IPv6Address(h)) for h in hosts], available) == (
        ["2001:db8::1", "2001:db8::3"],
        2,
    )
    pool = services.prefix_create(prefix="10.1.0.0/30")
    assert texts(services.ip_allocate_next(prefix=pool, count=4, mask_length=32)) == [
        "10.1.0.0/32",
        "10.1.0.1/32",
        "10.1.0.2/32",
        "10.1.0.3/32",
    ]


def test_next_free_address_costs_one_query_whatever_a_pool_without_holes_holds():
    prefix = services.prefix_create(prefix="10.0.0.0/16")
    services.ip_allocate_next(prefix=prefix, count=300)
    with CaptureQueriesContext(connection) as dense:
        hosts, _ = selectors.prefix_ip_next_free(prefix=prefix)
    assert (len(dense), hosts) == (1, [int(ipaddress.IPv4Address("10.0.1.45"))])
    IPAddress.objects.filter(address="10.0.0.7/16").delete()
    with CaptureQueriesContext(connection) as holes:  # the used ones are walked instead
        hosts, _ = selectors.prefix_ip_next_free(prefix=prefix)
    assert (len(holes), hosts) == (2, [int(ipaddress.IPv4Address("10.0.0.7"))])


def test_allocate_to_an_interface_as_primary_management():
    interface = InterfaceFactory()
    prefix = services.prefix_create(prefix="10.9.0.0/24", name="mgmt")
    [mgmt] = services.ip_allocate_next(
        prefix=prefix, assigned_interface=interface, is_primary_mgmt=True
    )
    assert (mgmt.device_id, mgmt.is_primary_mgmt) == (interface.device_id, True)
    with pytest.raises(ApplicationError) as error:
        services.ip_allocate_next(prefix=prefix, assigned_interface=interface, is_primary_mgmt=True)
    assert "is_primary_mgmt" in error.value.extra["items"]["0"]
    found = selectors.ip_address_primary_mgmt_by_device(device_ids=[interface.device_id])
    assert found[interface.device_id].address == "10.9.0.1/24"


def test_bulk_ip_allocation_is_all_or_nothing():
    prefix = services.prefix_create(prefix="10.0.0.0/24")
    before = (IPAddress.objects.count(), ObjectChange.objects.count())
    with pytest.raises(ApplicationError) as error:
        services.ip_allocate_next(
            prefix=prefix, items=[{"description": "ok"}, {"status": "bogus"}, {}]
        )
    assert set(error.value.extra["items"]) == {"1"}
    with pytest.raises(ConflictError):
        services.ip_allocate_next(prefix=prefix, count=255)
    assert (IPAddress.objects.count(), ObjectChange.objects.count()) == before
    got = services.ip_allocate_next(prefix=prefix, count=254)
    assert texts(got)[-1] == "10.0.0.254/24"


def test_ip_allocation_is_change_logged_and_costs_constant_queries():
    prefix = services.prefix_create(prefix="10.0.0.0/16")
    with CaptureQueriesContext(connection) as one:
        services.ip_allocate_next(prefix=prefix)
    with CaptureQueriesContext(connection) as many:
        services.ip_allocate_next(prefix=prefix, count=30)
    assert len(many) == len(one)
    logged = ObjectChange.objects.filter(changed_object_type__model="ipaddress")
    assert logged.count() == 31
    assert logged.filter(postchange_data__address="10.0.0.31/16").exists()


# -- ASNs and VLANs ---------------------------------------------------------------------------
def test_asn_allocation_skips_used_and_exhausts():
    asn_range = ASNRangeFactory(start=65000, end=65004)
    ASNFactory(asn=65001)
    site = SiteFactory()
    got = services.asn_allocate_next(asn_range=asn_range, count=3, site=site)
    assert [a.asn for a in got] == [65000, 65002, 65003]
    assert {a.site_id for a in got} == {site.pk}
    with pytest.raises(ConflictError) as error:
        services.asn_allocate_next(asn_range=asn_range, count=2)
    assert (error.value.extra["requested"], error.value.extra["available"]) == (2, 1)
    assert ASN.objects.count() == 4
    assert selectors.asn_range_available_asns(asn_range=asn_range) == [65004]


def test_vlan_allocation_names_and_exhaustion():
    site = SiteFactory()
    group = VLANGroupFactory(min_vid=10, max_vid=14, site=site)
    VLANFactory(group=group, vid=11, name="users")
    got = services.vlan_allocate_next(group=group, count=2)
    assert [(v.vid, v.name, v.site_id) for v in got] == [
        (10, "VLAN0010", site.pk),
        (12, "VLAN0012", site.pk),
    ]
    with pytest.raises(ApplicationError) as error:
        services.vlan_allocate_next(group=group, name="users")
    assert "name" in error.value.extra["items"]["0"]
    named = services.vlan_allocate_next(group=group, items=[{"name": "p2p-{vid}"}])
    assert named[0].name == "p2p-13"
    with pytest.raises(ConflictError, match="1 VLANs free, 2 requested"):
        services.vlan_allocate_next(group=group, count=2)
    assert VLAN.objects.count() == 4
    assert selectors.vlan_group_available_vids(group=group) == [14]


def test_pool_lookup_by_name_prefers_the_site():
    site = SiteFactory()
    everywhere = services.prefix_create(prefix="10.0.0.0/24", name="loopbacks", is_pool=True)
    local = services.prefix_create(prefix="10.1.0.0/24", name="loopbacks", is_pool=True, site=site)
    assert selectors.prefix_pool_get(name="loopbacks", site=site) == local
    assert selectors.prefix_pool_get(name="loopbacks", site=SiteFactory()) == everywhere
    assert selectors.prefix_pool_get(name="loopbacks") == everywhere
    with pytest.raises(NotFoundError):
        selectors.prefix_pool_get(name="loopbacks", vrf=VRFFactory())
    assert selectors.asn_range_get(name=ASNRangeFactory(name="Private").slug).name == "Private"
    assert selectors.vlan_group_get(name=VLANGroupFactory(name="G1").name).name == "G1"
    with pytest.raises(NotFoundError):
        selectors.vlan_group_get(name="missing")


def test_free_space_walk():
    free = selectors.FreeSpace(0, 15, [(2, 3), (3, 5), (10, 10)])
    assert free.gaps == [(0, 1), (6, 9), (11, 15)]
    assert free.count(2) == 5  # 0-1, 6-7, 8-9, 12-13, 14-15
    assert free.count(4) == 1  # only 12-15 is free and aligned on 4
    assert [free.take(4), free.take(2), free.take(1), free.take(2)] == [12, 0, 6, 8]
    assert free.gaps == [(7, 7), (11, 11)]
    assert free.take(2) is None
