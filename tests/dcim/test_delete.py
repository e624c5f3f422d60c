"""A delete leaves a change-log row for every design row it removes or changes — the rows it
cascades to and the references it clears included — and costs a fixed number of queries
whatever the number of rows, one object or a batch."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from tests import factories as f
from tests.dcim.querycount import count_statements
from turnup.blueprints.models import Blueprint, BlueprintInstance
from turnup.configs.models import ConfigVersion
from turnup.core.errors import ApplicationError
from turnup.core.models import ObjectChange
from turnup.core.services import model_bulk_delete, model_delete
from turnup.dcim import services
from turnup.dcim.models import Cable, Device, DeviceType, Interface, InterfaceTemplate, Site
from turnup.ipam import services as ipam_services
from turnup.ipam.models import IPAddress, Prefix
from turnup.routing.models import BGPSession, DeviceRouting, OSPFInterface, SiteRouting

pytestmark = pytest.mark.django_db


def _logged(model, action: str) -> dict[int, ObjectChange]:
    changes = ObjectChange.objects.filter(
        changed_object_type=ContentType.objects.get_for_model(model), action=action
    )
    return {change.changed_object_id: change for change in changes}


def _router_with_links(site: Site, peer: Device, name: str, links: int) -> Device:
    """A router with ``links`` interfaces, each addressed, in OSPF and cabled to ``peer``;
    its routing row, an archived config, and a BGP session of ``peer`` towards it."""
    router = services.device_create(
        name=name,
        site=site,
        device_type=f.dcim_router_type(interfaces=links),
        role=f.DeviceRoleFactory(slug="edge"),
        platform=f.PlatformFactory(slug="cisco_iosxe"),
    )
    far = iter(peer.interfaces.filter(cable__isnull=True, mgmt_only=False).order_by("pk"))
    for n, interface in enumerate(router.interfaces.filter(mgmt_only=False).order_by("pk")):
        services.cable_create(a_end=interface, b_end=next(far))
        ipam_services.ip_address_create(
            address=f"10.{router.pk % 200}.{n}.1/31", assigned_interface=interface
        )
        OSPFInterface.objects.create(interface=interface)
    DeviceRouting.objects.create(device=router, router_id=f"10.255.{router.pk % 200}.1")
    BGPSession.objects.create(
        device=peer, kind="ibgp", local_address="10.255.0.1", remote_asn=65000,
        peer_address=f"10.255.{router.pk % 200}.1", peer_device=router,
    )  # fmt: skip
    ConfigVersion.objects.create(
        device=router, hostname=name, kind="full", sha256="0" * 64, size=1, storage_path="x"
    )
    return router


@pytest.fixture
def site_and_peer() -> tuple[Site, Device]:
    site = f.SiteFactory()
    peer = services.device_create(
        name="peer",
        site=site,
        device_type=f.dcim_router_type(interfaces=60),
        role=f.DeviceRoleFactory(slug="core"),
        platform=f.PlatformFactory(slug="cisco_iosxe"),
    )
    return site, peer


def test_a_device_delete_logs_every_row_it_removes_and_every_reference_it_clears(site_and_peer):
    site, peer = site_and_peer
    router = _router_with_links(site, peer, "er1", links=3)
    ports = list(router.interfaces.all()) + list(router.console_ports.all())
    cables = list(Cable.objects.filter(interfaces__device=router))
    ospf = list(OSPFInterface.objects.filter(interface__device=router))
    addresses = list(IPAddress.objects.filter(device=router))
    session = BGPSession.objects.get(peer_device=router)
    far_ends = list(Interface.objects.filter(device=peer, cable__in=cables))
    router_id, routing_id = router.pk, router.routing.pk
    ObjectChange.objects.all().delete()

    services.device_delete(instance=router)

    assert set(_logged(Device, "delete")) == {router_id}
    assert set(_logged(Interface, "delete")) >= {p.pk for p in ports if isinstance(p, Interface)}
    assert set(_logged(Cable, "delete")) == {cable.pk for cable in cables}
    assert set(_logged(OSPFInterface, "delete")) == {row.pk for row in ospf}
    assert set(_logged(DeviceRouting, "delete")) == {routing_id}
    assert not _logged(ConfigVersion, "delete")  # an archive, not design: not logged
    # the references cleared are logged with the values the delete gave them
    updated = _logged(IPAddress, "update")
    assert set(updated) == {address.pk for address in addresses}
    assert {(c.prechange_data["device_id"], c.postchange_data["device_id"]) for c in
            updated.values()} == {(router_id, None)}  # fmt: skip
    assert IPAddress.objects.filter(pk__in=updated, assigned_interface=None).count() == 3
    peering = _logged(BGPSession, "update")[session.pk]
    assert peering.prechange_data["peer_device_id"] == router_id
    assert peering.postchange_data["peer_device_id"] is None
    # a cable's two ends are freed first (the router's own end is then deleted)
    cabled = {end.pk for end in far_ends} | {p.pk for p in ports if getattr(p, "cable_id", None)}
    assert set(_logged(Interface, "update")) == cabled
    assert not Interface.objects.filter(device=peer, cable__isnull=False).exists()
    # nothing is logged that the delete did not do, and what it did is gone
    assert not OSPFInterface.objects.filter(pk__in=[row.pk for row in ospf]).exists()
    assert not ConfigVersion.objects.filter(device_id=router_id).exists()


def test_a_device_delete_costs_the_same_queries_for_2_and_20_links(site_and_peer):
    site, peer = site_and_peer
    small = _router_with_links(site, peer, "er1", links=2)
    large = _router_with_links(site, peer, "er2", links=20)
    with count_statements() as few:
        services.device_delete(instance=Device.objects.get(pk=small.pk))
    with count_statements() as many:
        services.device_delete(instance=Device.objects.get(pk=large.pk))
    assert many.count == few.count, (few.statements, many.statements)
    assert len(_logged(OSPFInterface, "delete")) == 22


def test_a_bulk_device_delete_through_the_api_costs_the_same_queries_for_1_and_4(site_and_peer):
    site, peer = site_and_peer
    one = [_router_with_links(site, peer, "er1", links=2)]
    four = [_router_with_links(site, peer, f"er{n}", links=2) for n in range(2, 6)]
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("admin", "a@example.com", "pw"))

    def delete(devices: list[Device]) -> int:
        with count_statements() as counted:
            response = client.delete(
                "/api/dcim/devices/",
                [{"id": device.pk} for device in devices],
                content_type="application/json",
            )
        assert response.status_code == 204, response.content
        return counted.count

    assert delete(four) == delete(one)
    assert not Device.objects.exclude(pk=peer.pk).exists()
    assert len(_logged(BGPSession, "update")) == 5
    assert len(_logged(Cable, "delete")) == 10


def test_a_port_delete_logs_its_addresses_left_unassigned_and_its_ospf_row(site_and_peer):
    site, peer = site_and_peer
    router = _router_with_links(site, peer, "er1", links=1)
    interface = router.interfaces.get(name="Gi0/0/0")
    address = IPAddress.objects.get(assigned_interface=interface)
    ospf_id = interface.ospf.pk
    ObjectChange.objects.all().delete()

    services.port_delete(instance=interface)

    assert set(_logged(OSPFInterface, "delete")) == {ospf_id}
    assert set(_logged(IPAddress, "update")) == {address.pk}
    address.refresh_from_db()
    assert (address.assigned_interface_id, address.device_id) == (None, None)


def test_a_site_delete_logs_its_routing_and_blueprint_instance():
    site = f.SiteFactory()
    routing = SiteRouting.objects.create(site=site)
    blueprint = Blueprint.objects.create(name="empty", source="name: empty")
    instance = BlueprintInstance.objects.create(site=site, blueprint=blueprint, blueprint_version=1)
    site_id = site.pk
    ObjectChange.objects.all().delete()

    model_delete(instance=site)

    assert set(_logged(Site, "delete")) == {site_id}
    assert set(_logged(SiteRouting, "delete")) == {routing.pk}
    logged = _logged(BlueprintInstance, "delete")
    assert set(logged) == {instance.pk}
    assert logged[instance.pk].object_repr == f"{site.name} from empty v1"


def test_a_device_type_delete_logs_its_templates_and_names_what_still_uses_a_type():
    kept = f.dcim_router_type(interfaces=2)
    services.device_create(
        name="r1", site=f.SiteFactory(), device_type=kept, role=f.DeviceRoleFactory()
    )
    unused = f.dcim_router_type(interfaces=2)
    templates = set(
        InterfaceTemplate.objects.filter(device_type=unused).values_list("pk", flat=True)
    )
    ObjectChange.objects.all().delete()

    model_bulk_delete(instances=[unused])
    assert set(_logged(InterfaceTemplate, "delete")) == templates
    with pytest.raises(ApplicationError, match="still used by other objects") as error:
        model_delete(instance=kept)
    assert error.value.extra["protected"] == ["r1"]
    assert DeviceType.objects.filter(pk=kept.pk).exists()


def test_a_prefix_bulk_delete_moves_the_children_up_without_logging_them():
    parent = f.PrefixFactory(prefix="10.0.0.0/8")
    middles = [f.PrefixFactory(prefix=f"10.{n}.0.0/16") for n in range(2)]
    children = [f.PrefixFactory(prefix=f"10.{n}.{m}.0/24") for n in range(2) for m in range(3)]
    middle_ids = {prefix.pk for prefix in middles}
    ObjectChange.objects.all().delete()

    ipam_services.prefix_bulk_delete(instances=middles)

    assert set(_logged(Prefix, "delete")) == middle_ids
    assert not _logged(Prefix, "update")  # a parent is derived: rebuilt, not edited
    placed = dict(
        Prefix.objects.filter(pk__in=[c.pk for c in children]).values_list("pk", "parent")
    )
    assert set(placed.values()) == {parent.pk}
    assert set(
        Prefix.objects.filter(pk__in=[c.pk for c in children]).values_list("depth", flat=True)
    ) == {1}


def test_a_port_delete_logs_the_port_as_deleted_without_its_cable(site_and_peer):
    site, peer = site_and_peer
    router = _router_with_links(site, peer, "er1", links=1)
    port = router.interfaces.get(name="Gi0/0/0")
    port_id = port.pk
    assert port.cable_id is not None
    ObjectChange.objects.all().delete()

    services.port_delete(instance=port)  # the instance still says it is cabled

    deleted = _logged(Interface, "delete")[port_id]
    assert (deleted.prechange_data["cable_id"], deleted.prechange_data["cable_end"]) == (None, "")


def test_a_session_between_two_deleted_devices_is_logged_once_as_deleted(site_and_peer):
    site, peer = site_and_peer
    router = _router_with_links(site, peer, "er1", links=1)
    session = BGPSession.objects.get(peer_device=router)
    ObjectChange.objects.all().delete()

    services.device_bulk_delete(instances=[router, peer])

    assert set(_logged(BGPSession, "delete")) == {session.pk}
    assert not _logged(BGPSession, "update")


def test_a_bulk_delete_of_300_rows_costs_the_queries_of_3():
    """Django deletes and updates a hundred rows at a time; these go in one statement."""
    from turnup.ipam.models import VLAN

    site = f.SiteFactory()
    group = f.VLANGroupFactory(site=site)
    few = [f.VLANFactory(group=group, vid=n, name=f"v{n}") for n in range(2, 5)]
    many = [f.VLANFactory(group=group, vid=n, name=f"v{n}") for n in range(10, 310)]
    ContentType.objects.get_for_model(VLAN)  # cached from here on, as in a running server
    with count_statements() as small:
        model_bulk_delete(instances=few)
    with count_statements() as large:
        model_bulk_delete(instances=many)
    assert large.count == small.count, "\n".join(
        x[:150] for x in small.statements + ["----"] + large.statements
    )
    assert not VLAN.objects.exists()
    assert len(_logged(VLAN, "delete")) == 303
