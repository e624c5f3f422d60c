"""dcim write rules: site transitions, rack space, component instantiation, cables."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.dcim.querycount import count_statements
from turnup.core.errors import ApplicationError, ConflictError
from turnup.core.models import ObjectChange
from turnup.dcim import services
from turnup.dcim.models import Cable, ConsoleServerPort, Device, Interface

pytestmark = pytest.mark.django_db


# -- site status --------------------------------------------------------------------------


def test_site_walks_the_allowed_transitions_and_logs_each():
    site = f.SiteFactory()
    for status in ("designed", "approved", "turning-up", "live"):
        services.site_transition(site=site, to_status=status)
    site.refresh_from_db()
    assert site.status == "live"
    changes = ObjectChange.objects.filter(changed_object_id=site.pk, action="update")
    assert changes.count() == 4
    assert {c.postchange_data["status"] for c in changes} == {
        "designed",
        "approved",
        "turning-up",
        "live",
    }


def test_site_refuses_a_skipped_transition_naming_the_allowed_targets():
    site = f.SiteFactory()
    with pytest.raises(ApplicationError) as error:
        services.site_transition(site=site, to_status="live")
    assert "allowed: designed" in error.value.message
    site.refresh_from_db()
    assert site.status == "planned"
    assert not ObjectChange.objects.exists()


def test_site_refuses_an_unknown_status():
    with pytest.raises(ApplicationError, match="Unknown site status"):
        services.site_transition(site=f.SiteFactory(), to_status="done")


def test_failed_turn_up_can_be_retried_but_not_declared_live():
    site = f.SiteFactory(status="failed")
    with pytest.raises(ApplicationError, match="allowed: designed, turning-up"):
        services.site_transition(site=site, to_status="live")
    services.site_transition(site=site, to_status="turning-up")


def test_a_registered_guard_can_veto_a_transition():
    def guard(*, site, to_status):
        return ["2 preflight errors"] if to_status == "approved" else []

    services.site_transition_guard_register(guard)
    try:
        site = f.SiteFactory(status="designed")
        with pytest.raises(ConflictError) as error:
            services.site_transition(site=site, to_status="approved")
        assert error.value.extra == {"problems": ["2 preflight errors"]}
        site.refresh_from_db()
        assert site.status == "designed"
        services.site_transition(site=site, to_status="planned")  # other targets pass
    finally:
        services.site_transition_guard_unregister(guard)


def test_site_update_applies_the_transition_rules_to_status():
    site = f.SiteFactory()
    with pytest.raises(ApplicationError):
        services.site_update(instance=site, status="approved")
    services.site_update(instance=site, status="designed", description="ready")
    site.refresh_from_db()
    assert (site.status, site.description) == ("designed", "ready")


# -- devices and racks --------------------------------------------------------------------


def _device(**fields):
    defaults = {
        "device_type": f.dcim_router_type(),
        "role": f.DeviceRoleFactory(slug="edge"),
        "platform": f.PlatformFactory(slug="cisco_iosxe"),
    }
    return services.device_create(**{**defaults, **fields})


def test_device_create_instantiates_its_components_and_logs_them_in_one_insert():
    site = f.SiteFactory()
    device_type = f.dcim_router_type(interfaces=3)
    with CaptureQueriesContext(connection) as ctx:
        device = _device(name="rtr1", site=site, device_type=device_type)
    assert list(device.interfaces.values_list("name", "mgmt_only")) == [
        ("Gi0/0/0", False),
        ("Gi0/0/1", False),
        ("Gi0/0/2", False),
        ("Gi0", True),
    ]
    assert list(device.console_ports.values_list("name", flat=True)) == ["con0"]
    changes = ObjectChange.objects.filter(action="create")
    assert changes.count() == 6  # the device, 4 interfaces, 1 console port
    inserts = [q for q in ctx.captured_queries if 'INSERT INTO "core_objectchange"' in q["sql"]]
    assert len(inserts) == 1


def test_console_server_ports_get_lines_and_reverse_telnet_ports():
    server = _device(
        name="cs1", site=f.SiteFactory(), device_type=f.dcim_console_server_type(lines=4)
    )
    ports = list(server.console_server_ports.values_list("name", "line", "tcp_port", "baud"))
    assert ports == [(f"port{n}", n, 2000 + n, 9600) for n in range(1, 5)]


def test_device_bulk_create_costs_the_same_queries_for_2_and_20_devices():
    site = f.SiteFactory()
    device_type = f.dcim_router_type(interfaces=24)
    role, platform = f.DeviceRoleFactory(slug="edge"), f.PlatformFactory()

    def create(prefix, count):
        items = [
            {"name": f"{prefix}{n}", "site": site, "device_type": device_type, "role": role}
            | {"platform": platform}
            for n in range(count)
        ]
        with count_statements() as counter:
            services.device_bulk_create(items=items)
        return counter.count

    create("warm-up", 1)  # content types are cached after the first change log
    assert create("a", 2) == create("b", 20)
    assert Interface.objects.count() == 23 * 25
    assert ObjectChange.objects.count() == 23 * (1 + 25 + 1)


def test_rack_overlap_is_refused():
    rack = f.RackFactory(u_height=10)
    two_u = f.dcim_router_type()
    two_u.u_height = 2
    two_u.save()
    _device(name="a", site=rack.site, rack=rack, position=3, face="front", device_type=two_u)
    with pytest.raises(ValidationError) as error:
        _device(name="b", site=rack.site, rack=rack, position=4, face="rear", device_type=two_u)
    assert "taken by a" in str(error.value)
    _device(name="c", site=rack.site, rack=rack, position=5, face="front", device_type=two_u)
    assert Device.objects.count() == 2


def test_half_depth_devices_share_a_unit_on_opposite_faces():
    rack = f.RackFactory()
    half = f.dcim_router_type()
    half.is_full_depth = False
    half.save()
    _device(name="front", site=rack.site, rack=rack, position=1, face="front", device_type=half)
    _device(name="rear", site=rack.site, rack=rack, position=1, face="rear", device_type=half)
    with pytest.raises(ValidationError):
        _device(name="again", site=rack.site, rack=rack, position=1, face="rear", device_type=half)


def test_device_must_fit_in_its_rack():
    rack = f.RackFactory(u_height=4)
    tall = f.dcim_router_type()
    tall.u_height = 2
    tall.save()
    with pytest.raises(ValidationError, match="does not fit"):
        _device(name="a", site=rack.site, rack=rack, position=4, face="front", device_type=tall)
    with pytest.raises(ValidationError, match="not at site"):
        _device(name="b", site=f.SiteFactory(), rack=rack, position=1, face="front")
    with pytest.raises(ValidationError, match="rack face"):
        _device(name="c", site=rack.site, rack=rack, position=1)
    assert not Device.objects.exists()


def test_bulk_overlap_names_the_item_and_creates_nothing():
    rack = f.RackFactory()
    device_type = f.dcim_router_type()
    role = f.DeviceRoleFactory(slug="edge")
    base = {"site": rack.site, "rack": rack, "face": "front", "device_type": device_type}
    items = [
        {**base, "name": "a", "position": 1, "role": role},
        {**base, "name": "b", "position": 2, "role": role},
        {**base, "name": "c", "position": 1, "role": role},
    ]
    with pytest.raises(ApplicationError) as error:
        services.device_bulk_create(items=items)
    assert list(error.value.extra["items"]) == ["2"]
    assert "taken by a" in error.value.extra["items"]["2"]["position"][0]
    assert not Device.objects.exists()
    assert not ObjectChange.objects.exists()


def test_moving_a_device_checks_its_new_units():
    rack = f.RackFactory()
    a = _device(name="a", site=rack.site, rack=rack, position=1, face="front")
    b = _device(name="b", site=rack.site, rack=rack, position=2, face="front")
    with pytest.raises(ValidationError):
        services.device_update(instance=b, position=1)
    services.device_update(instance=a, position=1, serial="FOC123")  # itself is no clash
    services.device_update(instance=b, position=3)
    b.refresh_from_db()
    assert b.position == 3


def test_rack_cannot_shrink_below_a_mounted_device():
    rack = f.RackFactory(u_height=42)
    _device(name="a", site=rack.site, rack=rack, position=40, face="front")
    with pytest.raises(ValidationError, match="above U20"):
        services.rack_update(instance=rack, u_height=20)
    services.rack_update(instance=rack, u_height=40)


def test_device_delete_removes_its_cables_and_frees_the_peer():
    site, server, (router, _) = f.dcim_console_site(routers=2)
    services.device_delete(instance=router)
    assert not Device.objects.filter(pk=router.pk).exists()
    assert Cable.objects.count() == 1
    line1 = ConsoleServerPort.objects.get(device=server, line=1)
    assert (line1.cable_id, line1.cable_end) == (None, "")
    assert ObjectChange.objects.filter(action="delete", object_repr=router.name).count() == 1


# -- cables -------------------------------------------------------------------------------


def _pair():
    site = f.SiteFactory()
    return _device(name="r1", site=site), _device(name="r2", site=site)


def test_cable_connects_two_interfaces_once():
    r1, r2 = _pair()
    a, b = r1.interfaces.get(name="Gi0/0/0"), r2.interfaces.get(name="Gi0/0/0")
    cable = services.cable_create(a_end=a, b_end=b, status="connected", label="r1-r2")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.cable_id, a.cable_end, b.cable_id, b.cable_end) == (cable.pk, "A", cable.pk, "B")
    assert services.cable_ends(cable) == (a, b)
    with pytest.raises(ApplicationError, match="already cabled"):
        services.cable_create(a_end=r2.interfaces.get(name="Gi0/0/1"), b_end=a)
    assert Cable.objects.count() == 1


def test_cable_refuses_incompatible_ends():
    r1, r2 = _pair()
    with pytest.raises(ApplicationError, match="cannot be cabled"):
        services.cable_create(a_end=r1.interfaces.first(), b_end=r2.console_ports.get())
    with pytest.raises(ApplicationError, match="cannot be cabled"):
        services.cable_create(a_end=r1.console_ports.get(), b_end=r2.console_ports.get())
    assert not Cable.objects.exists()


def test_cable_refuses_both_ends_on_one_device_and_virtual_interfaces():
    r1, r2 = _pair()
    with pytest.raises(ApplicationError, match="both ends are on device r1"):
        services.cable_create(
            a_end=r1.interfaces.get(name="Gi0/0/0"), b_end=r1.interfaces.get(name="Gi0/0/1")
        )
    loopback = f.InterfaceFactory(device=r1, name="Loopback0", type="virtual")
    with pytest.raises(ApplicationError, match="virtual"):
        services.cable_create(a_end=loopback, b_end=r2.interfaces.first())


def test_cable_bulk_create_refuses_an_end_used_twice_in_the_batch():
    r1, r2 = _pair()
    a = r1.interfaces.get(name="Gi0/0/0")
    items = [
        {"a_end": a, "b_end": r2.interfaces.get(name="Gi0/0/0")},
        {"a_end": r2.interfaces.get(name="Gi0/0/1"), "b_end": a},
    ]
    with pytest.raises(ApplicationError) as error:
        services.cable_bulk_create(items=items)
    assert list(error.value.extra["items"]) == ["1"]
    assert "twice" in error.value.extra["items"]["1"]["b_terminations"][0]
    assert not Cable.objects.exists()


def test_cable_delete_frees_both_ends_and_logs():
    r1, r2 = _pair()
    a, b = r1.interfaces.first(), r2.interfaces.first()
    cable = services.cable_create(a_end=a, b_end=b)
    cable_id = cable.pk
    services.cable_delete(instance=cable)
    assert Interface.objects.filter(cable__isnull=False).count() == 0
    assert not Interface.objects.exclude(cable_end="").exists()
    assert ObjectChange.objects.filter(action="delete", changed_object_id=cable_id).exists()
    services.cable_create(a_end=a, b_end=b)  # the ends are free again


def test_port_cable_cannot_be_set_by_update():
    r1, _ = _pair()
    with pytest.raises(ApplicationError):
        services.port_update(instance=r1.interfaces.first(), cable=None)


def test_port_delete_deletes_its_cable():
    r1, r2 = _pair()
    a, b = r1.interfaces.first(), r2.interfaces.first()
    services.cable_create(a_end=a, b_end=b)
    services.port_delete(instance=Interface.objects.get(pk=a.pk))
    b.refresh_from_db()
    assert b.cable_id is None
    assert not Cable.objects.exists()


def test_duplicate_names_are_validation_errors_not_database_errors():
    site = f.SiteFactory()
    _device(name="dup", site=site)
    with pytest.raises(ValidationError, match="already exists"):
        _device(name="dup", site=site)
    device = Device.objects.get()
    first, second = device.interfaces.all()[:2]
    with pytest.raises(ValidationError, match="already exists"):
        services.port_update(instance=second, name=first.name)


def test_ssh_username_format_may_use_only_username_and_line():
    with pytest.raises(ValidationError, match="only {username} and {line}"):
        _device(name="cs", site=f.SiteFactory(), console_ssh_username_format="{user}:{port}")


def test_site_time_zone_must_be_an_iana_name():
    with pytest.raises(ValidationError, match="IANA"):
        services.site_create(name="X", slug="x", time_zone="Mars/Olympus")
    assert services.site_create(name="Y", slug="y", time_zone="America/New_York").pk


def test_device_type_height_is_fixed_once_devices_are_mounted():
    rack = f.RackFactory()
    device = _device(name="a", site=rack.site, rack=rack, position=1, face="front")
    device_type = device.device_type
    with pytest.raises(ValidationError, match="mounted"):
        services.device_type_update(instance=device_type, u_height=2)
    device_type.refresh_from_db()
    services.device_type_update(instance=device_type, description="still editable")
    services.device_update(instance=device, rack=None, position=None, face="")
    services.device_type_update(instance=device_type, u_height=2)
    device_type.refresh_from_db()
    assert device_type.u_height == 2


@pytest.mark.django_db
def test_device_status_set_writes_the_status_alone_and_logs_it(django_assert_num_queries):
    _site, server, routers = f.dcim_console_site(routers=3)
    logged = ObjectChange.objects.filter(
        action="update",
        changed_object_type__model="device",
        changed_object_id__in=[r.pk for r in routers],
    )
    services.device_status_set(devices=routers[:1], status="active")
    routers = list(Device.objects.filter(pk__in=[r.pk for r in routers]).order_by("name"))
    with django_assert_num_queries(4):  # savepoint, UPDATE, change-log INSERT, release
        changed = services.device_status_set(devices=routers, status="active")
    assert [d.name for d in changed] == ["rtr2", "rtr3"], "rtr1 was active already"
    assert set(Device.objects.filter(status="active").values_list("name", flat=True)) == {
        "rtr1",
        "rtr2",
        "rtr3",
    }
    assert logged.count() == 3
    change = logged.filter(changed_object_id=routers[2].pk).get()
    assert (change.prechange_data["status"], change.postchange_data["status"]) == (
        "planned",
        "active",
    )
    assert services.device_status_set(devices=routers, status="active") == []
    with pytest.raises(ValueError):
        services.device_status_set(devices=routers, status="shiny")
