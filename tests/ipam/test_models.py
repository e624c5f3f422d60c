"""ipam rules: normalization, duplicates per VRF, hierarchy, primary management address."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import (
    DeviceFactory,
    InterfaceFactory,
    PrefixFactory,
    SiteFactory,
    VLANFactory,
    VLANGroupFactory,
    VRFFactory,
)
from turnup.core.errors import ApplicationError
from turnup.core.models import ObjectChange
from turnup.ipam import services
from turnup.ipam.fields import int_to_hex
from turnup.ipam.models import VLAN, IPAddress, Prefix

pytestmark = pytest.mark.django_db


def tree() -> dict[str, tuple[str | None, int]]:
    return {
        p.prefix: (p.parent.prefix if p.parent else None, p.depth)
        for p in Prefix.objects.filter(vrf=None).select_related("parent")
    }


def test_prefix_is_normalized_and_stored_as_integers():
    prefix = services.prefix_create(prefix=" 10.1.2.3/24")
    assert prefix.prefix == "10.1.2.0/24"
    assert (prefix.family, prefix.prefix_length) == (4, 24)
    assert (prefix.start, prefix.end) == (0x0A010200, 0x0A0102FF)
    v6 = services.prefix_create(prefix="2001:DB8:0:0::/64")
    assert v6.prefix == "2001:db8::/64"
    assert v6.end == int("20010db800000000ffffffffffffffff", 16)
    assert Prefix.objects.get(pk=v6.pk).end == v6.end  # round trip through the hex column


def test_hex_columns_order_numerically():
    assert int_to_hex(9) < int_to_hex(10) < int_to_hex(2**128 - 1)
    for text in ("10.0.0.0/8", "9.0.0.0/8", "100.0.0.0/8", "2.0.0.0/8"):
        services.prefix_create(prefix=text)
    assert list(Prefix.objects.values_list("prefix", flat=True)) == [
        "2.0.0.0/8",
        "9.0.0.0/8",
        "10.0.0.0/8",
        "100.0.0.0/8",
    ]


@pytest.mark.parametrize("bad", ["10.0.0.0", "10.0.0.0/33", "nope/24", "2001:db8::/129"])
def test_prefix_refuses_malformed(bad):
    with pytest.raises(ValidationError) as error:
        services.prefix_create(prefix=bad)
    assert "prefix" in error.value.message_dict


def test_duplicate_prefix_refused_in_a_vrf_but_allowed_in_another():
    red, blue = VRFFactory(name="red"), VRFFactory(name="blue")
    services.prefix_create(prefix="10.0.0.0/24", vrf=red)
    with pytest.raises(ValidationError, match="already exists in VRF red"):
        services.prefix_create(prefix="10.0.0.1/24", vrf=red)
    services.prefix_create(prefix="10.0.0.0/24", vrf=blue)
    services.prefix_create(prefix="10.0.0.0/24")
    with pytest.raises(ValidationError, match="global table"):
        services.prefix_create(prefix="10.0.0.0/24")
    assert Prefix.objects.count() == 3


def test_hierarchy_is_kept_on_create_update_and_delete():
    services.prefix_create(prefix="10.0.0.0/8")
    leaf = services.prefix_create(prefix="10.1.1.0/24")
    assert (leaf.parent.prefix, leaf.depth) == ("10.0.0.0/8", 1)
    middle = services.prefix_create(prefix="10.1.0.0/16")  # slides in between
    assert tree() == {
        "10.0.0.0/8": (None, 0),
        "10.1.0.0/16": ("10.0.0.0/8", 1),
        "10.1.1.0/24": ("10.1.0.0/16", 2),
    }
    services.prefix_create(prefix="10.1.1.0/24", vrf=VRFFactory())  # other VRF: own tree
    assert Prefix.objects.get(vrf__isnull=False).depth == 0
    services.prefix_delete(instance=middle)
    assert tree()["10.1.1.0/24"] == ("10.0.0.0/8", 1)
    top = Prefix.objects.get(prefix="10.0.0.0/8")
    services.prefix_update(instance=top, prefix="10.1.0.0/16")
    assert tree()["10.1.1.0/24"] == ("10.1.0.0/16", 1)


def test_shrinking_a_prefix_must_keep_its_children_inside():
    top = services.prefix_create(prefix="10.0.0.0/16")
    services.prefix_create(prefix="10.0.200.0/24")
    with pytest.raises(ValidationError, match="child prefixes must stay inside"):
        services.prefix_update(instance=top, prefix="10.0.0.0/17")
    assert Prefix.objects.get(pk=top.pk).prefix == "10.0.0.0/16"


def test_child_of_a_site_prefix_cannot_belong_to_another_site():
    north, south = SiteFactory(), SiteFactory()
    services.prefix_create(prefix="10.0.0.0/16", site=north)
    services.prefix_create(prefix="10.0.1.0/24", site=north)
    with pytest.raises(ValidationError, match="of site"):
        services.prefix_create(prefix="10.0.2.0/24", site=south)


def test_prefix_names_are_unique_per_vrf_and_site():
    site = SiteFactory()
    services.prefix_create(prefix="10.0.0.0/24", name="loopbacks", is_pool=True)
    services.prefix_create(prefix="10.1.0.0/24", name="loopbacks", is_pool=True, site=site)
    with pytest.raises(ValidationError, match="named 'loopbacks'"):
        services.prefix_create(prefix="10.2.0.0/24", name="loopbacks", site=site)


def test_prefix_bulk_create_places_all_and_names_the_failing_item():
    created = services.prefix_bulk_create(
        items=[{"prefix": "10.0.1.0/24"}, {"prefix": "10.0.0.0/16"}, {"prefix": "10.0.2.0/24"}]
    )
    assert [p.depth for p in created] == [1, 0, 1]
    assert tree()["10.0.2.0/24"] == ("10.0.0.0/16", 1)
    with pytest.raises(ApplicationError) as error:
        services.prefix_bulk_create(
            items=[{"prefix": "10.9.0.0/24"}, {"prefix": "10.0.1.0/24"}, {"prefix": "x"}]
        )
    assert set(error.value.extra["items"]) == {"2"}
    with pytest.raises(ApplicationError) as error:
        services.prefix_bulk_create(items=[{"prefix": "10.9.0.0/24"}, {"prefix": "10.0.1.0/24"}])
    assert set(error.value.extra["items"]) == {"1"}
    assert Prefix.objects.count() == 3
    assert ObjectChange.objects.filter(action="create").count() == 3


def test_address_unique_per_vrf_whatever_the_mask():
    vrf = VRFFactory()
    services.ip_address_create(address="10.0.0.1/24", vrf=vrf)
    with pytest.raises(ValidationError, match="already exists in VRF"):
        services.ip_address_create(address="10.0.0.1/32", vrf=vrf)
    services.ip_address_create(address="10.0.0.1/24")  # global table
    with pytest.raises(ValidationError, match="global table"):
        services.ip_address_create(address="10.0.0.1/30")
    v6 = services.ip_address_create(address="::a00:1/64")  # same integer, other family
    assert v6.host == IPAddress.objects.get(vrf=vrf).host


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("10.0.0.0/24", "network address"),
        ("10.0.0.255/24", "broadcast address"),
        ("10.0.0.1", "no mask length"),
    ],
)
def test_address_refuses_network_broadcast_and_missing_mask(address, message):
    with pytest.raises(ValidationError, match=message):
        services.ip_address_create(address=address)


def test_point_to_point_and_host_masks_use_every_address():
    for address in ("10.0.0.0/31", "10.0.0.1/31", "10.0.1.0/32"):
        services.ip_address_create(address=address)
    assert IPAddress.objects.count() == 3


def test_one_primary_management_address_per_device():
    device = DeviceFactory()
    mgmt, other = InterfaceFactory(device=device), InterfaceFactory(device=device)
    first = services.ip_address_create(
        address="10.9.0.1/24", assigned_interface=mgmt, is_primary_mgmt=True
    )
    assert first.device_id == device.pk
    with pytest.raises(ValidationError, match="already has primary management address"):
        services.ip_address_create(
            address="10.9.0.2/24", assigned_interface=other, is_primary_mgmt=True
        )
    services.ip_address_create(address="10.9.0.3/24", assigned_interface=other)
    second_device = services.ip_address_create(
        address="10.9.0.4/24", assigned_interface=InterfaceFactory(), is_primary_mgmt=True
    )
    assert second_device.device_id != device.pk
    with pytest.raises(ValidationError, match="must be on an interface"):
        services.ip_address_create(address="10.9.0.5/24", is_primary_mgmt=True)


def test_primary_management_constraint_is_a_database_backstop():
    from django.db import IntegrityError, transaction

    interface = InterfaceFactory()
    IPAddress.objects.create(
        address="10.9.0.1/24", assigned_interface=interface, is_primary_mgmt=True
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        IPAddress.objects.create(
            address="10.9.0.2/24", assigned_interface=interface, is_primary_mgmt=True
        )


def test_ip_bulk_create_checks_the_batch_and_the_table_in_bounded_queries(
    django_assert_max_num_queries,
):
    services.ip_address_create(address="10.0.0.1/24")
    with pytest.raises(ApplicationError) as error:
        services.ip_address_bulk_create(
            items=[
                {"address": "10.0.0.2/24"},
                {"address": "10.0.0.1/24"},
                {"address": "10.0.0.2/25"},
            ]
        )
    assert set(error.value.extra["items"]) == {"1", "2"}
    with django_assert_max_num_queries(12):  # not one per item (SQLite inserts in batches)
        created = services.ip_address_bulk_create(
            items=[{"address": f"10.0.1.{i}/24"} for i in range(1, 101)]
        )
    assert len(created) == 100
    assert IPAddress.objects.count() == 101


def test_vlan_rules():
    group = VLANGroupFactory(min_vid=100, max_vid=199)
    VLANFactory(group=group, vid=100, name="users")
    with pytest.raises(ValidationError, match="outside group"):
        VLAN(group=group, vid=200, name="x").full_clean()
    with pytest.raises(ValidationError):
        VLAN(group=group, vid=100, name="other").full_clean()
    with pytest.raises(ValidationError):
        VLAN(group=group, vid=101, name="users").full_clean()
    group.max_vid = 99
    group.min_vid = 1
    with pytest.raises(ValidationError, match="would fall outside"):
        group.full_clean()


def test_factory_prefix_goes_through_the_service():
    PrefixFactory(prefix="10.0.0.0/16")
    child = PrefixFactory(prefix="10.0.5.0/24")
    assert child.depth == 1


def test_console_server_without_host_is_reached_at_its_primary_management_address():
    from tests.factories import dcim_console_site
    from turnup.dcim.selectors import device_console_path

    site, server, [router] = dcim_console_site(routers=1, host="")
    mgmt = services.prefix_create(prefix="10.99.0.0/24", site=site)
    services.ip_allocate_next(
        prefix=mgmt, assigned_interface=InterfaceFactory(device=server), is_primary_mgmt=True
    )
    assert device_console_path(device=router).host == "10.99.0.1"


def test_deleting_an_interface_or_device_unassigns_its_addresses():
    device = DeviceFactory()
    mgmt, other = InterfaceFactory(device=device), InterfaceFactory(device=device)
    primary = services.ip_address_create(
        address="10.9.0.1/24", assigned_interface=mgmt, is_primary_mgmt=True
    )
    second = services.ip_address_create(address="10.9.0.2/24", assigned_interface=other)
    mgmt.delete()
    primary.refresh_from_db()
    assert (primary.assigned_interface_id, primary.device_id, primary.is_primary_mgmt) == (
        None,
        None,
        False,
    )
    services.ip_address_update(instance=primary, description="kept in the plan")
    device.delete()
    second.refresh_from_db()
    assert (second.assigned_interface_id, second.device_id) == (None, None)
