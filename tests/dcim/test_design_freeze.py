"""While a site turns up its design does not change, whoever writes it: the services, the
API, the pages, the admin. Statuses, serials and notes still may; other sites are untouched."""

from __future__ import annotations

import ipaddress

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.blueprints.helpers import build_site
from turnup.blueprints.models import BlueprintInstance
from turnup.core.changelog import Change
from turnup.core.errors import ConflictError
from turnup.core.models import ObjectChange
from turnup.core.services import model_create, model_update
from turnup.dcim import services
from turnup.dcim.models import Cable, CredentialProfile, Device, Interface, Site
from turnup.ipam import services as ipam_services
from turnup.ipam.models import ASN, VLAN, IPAddress, Prefix, VLANGroup
from turnup.routing.models import BGPSession, OSPFInterface

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    """LON-01 (pop-core: two Junos core, two IOS-XE edge, a console server), turning up."""
    f.CredentialProfileFactory(name="default", is_default=True)
    site = build_site("pop-core", name="LON-01")
    services.site_transition(site=site, to_status="designed")
    Site.objects.filter(pk=site.pk).update(status="turning-up")
    site.refresh_from_db()
    return site


def _router(site: Site, name: str = "lon-01-er1") -> Device:
    return Device.objects.get(site=site, name=name)


def _refused(error: pytest.ExceptionInfo, *, site: str = "LON-01") -> str:
    message = error.value.message
    assert message.startswith(f"Site {site} is turning up: its design does not change"), message
    assert error.value.status_code == 409
    return message


def test_a_device_edit_is_refused_naming_the_site_and_the_device_and_nothing_changes(site):
    device = _router(site)
    logged = ObjectChange.objects.count()
    with pytest.raises(ConflictError) as error:
        services.device_update(instance=Device.objects.get(pk=device.pk), name="lon-01-er9")
    assert "refused: update of device lon-01-er9" in _refused(error)
    assert error.value.extra["site"] == "LON-01"
    device.refresh_from_db()
    assert device.name == "lon-01-er1"
    assert ObjectChange.objects.count() == logged


def test_statuses_serials_and_notes_still_change_and_the_site_still_settles(site):
    device = _router(site)
    services.device_update(
        instance=device,
        serial="FGL2231XYZ",
        asset_tag="A-1",
        comments="racked by J.",
        status="staged",
    )
    services.device_status_set(devices=[device], status="active")
    services.site_update(instance=site, description="Telehouse North, 2nd floor")
    services.site_transition(site=site, to_status="live")
    device.refresh_from_db()
    site.refresh_from_db()
    assert (device.serial, device.status, site.status) == ("FGL2231XYZ", "active", "live")
    services.device_update(instance=device, name="lon-01-er9")  # live: edits are back
    device.refresh_from_db()
    assert device.name == "lon-01-er9"


def test_a_new_device_or_interface_at_the_site_is_refused(site):
    template = _router(site)
    with pytest.raises(ConflictError) as error:
        services.device_create(
            name="lon-01-er3",
            site=site,
            device_type=template.device_type,
            role=template.role,
            platform=template.platform,
        )
    assert "create of device lon-01-er3" in _refused(error)
    assert not Device.objects.filter(name="lon-01-er3").exists()
    with pytest.raises(ConflictError):
        services.interface_bulk_create(
            items=[{"device": template, "name": "Gi0/0/9", "type": "1000base-t"}]
        )
    assert not Interface.objects.filter(device=template, name="Gi0/0/9").exists()


def test_a_cable_between_two_of_its_routers_is_refused_and_no_cable_is_left(site):
    er1, er2 = _router(site, "lon-01-er1"), _router(site, "lon-01-er2")
    a_end = er1.interfaces.filter(cable__isnull=True).exclude(name__startswith="Loop").first()
    b_end = er2.interfaces.filter(cable__isnull=True).exclude(name__startswith="Loop").first()
    cables = Cable.objects.count()
    with pytest.raises(ConflictError) as error:
        services.cable_create(a_end=a_end, b_end=b_end)
    assert f"interface {a_end.name}" in _refused(error)
    assert Cable.objects.count() == cables
    a_end.refresh_from_db()
    assert a_end.cable_id is None


def test_an_address_moved_off_one_of_its_routers_is_refused(site):
    """The row's state before counts: taking an address away changes the site as well."""
    other = f.DeviceFactory(name="other-r1")
    elsewhere = f.InterfaceFactory(device=other, name="Gi0/0/0")
    address = IPAddress.objects.filter(device__site=site).first()
    with pytest.raises(ConflictError):
        ipam_services.ip_address_update(instance=address, assigned_interface=elsewhere)
    address.refresh_from_db()
    assert address.device.site_id == site.pk


def test_routing_rows_two_lookups_away_are_refused(site):
    ospf = OSPFInterface.objects.filter(interface__device__site=site).first()
    with pytest.raises(ConflictError) as error:
        services.site_design_freeze_check(
            action="update",
            changes=[
                Change(
                    ospf,
                    {"cost": 10, "interface_id": ospf.interface_id},
                    {"cost": 999, "interface_id": ospf.interface_id},
                )
            ],
        )
    _refused(error)
    session = BGPSession.objects.filter(device__site=site).first()
    with pytest.raises(ConflictError):
        services.site_design_freeze_check(
            action="delete", changes=[Change(session, {"device_id": session.device_id}, None)]
        )


def test_the_credential_profiles_it_uses_are_refused_and_others_are_not(site):
    default = CredentialProfile.objects.get(name="default")
    with pytest.raises(ConflictError) as error:
        services.credential_profile_update(instance=default, local_username="someone")
    assert "default credential profile default" in _refused(error)
    own = f.CredentialProfileFactory(name="lon-01")
    services.site_update(instance=site, description="x")  # exempt: still works
    Site.objects.filter(pk=site.pk).update(credential_profile=own)
    with pytest.raises(ConflictError):
        services.credential_profile_update(instance=own, local_password="n3w-secret")
    unused = f.CredentialProfileFactory(name="par-01")
    services.credential_profile_update(instance=unused, local_username="ops")
    unused.refresh_from_db()
    assert unused.local_username == "ops"


def test_prefixes_carved_from_its_own_and_vlans_of_its_groups_are_frozen(site):
    """Rows that name no site still belong to it through their parent prefix or VLAN group."""
    own = Prefix.objects.filter(site=site, prefix_length__lte=30).first()
    network = ipaddress.ip_network(own.prefix)
    child = str(next(network.subnets(new_prefix=network.prefixlen + 1)))
    with pytest.raises(ConflictError) as error:
        ipam_services.prefix_create(prefix=child, vrf=own.vrf)
    assert f"create of prefix {child}" in _refused(error)
    assert not Prefix.objects.filter(prefix=child).exists()
    group = VLANGroup.objects.create(name="lon-01-extra", slug="lon-01-extra", site=site)
    with pytest.raises(ConflictError):
        model_create(VLAN, group=group, vid=300, name="guests")
    assert not VLAN.objects.filter(group=group).exists()


def test_address_vlan_and_asn_statuses_still_change(site):
    address = IPAddress.objects.filter(device__site=site).first()
    ipam_services.ip_address_update(instance=address, status="deprecated")
    address.refresh_from_db()
    assert address.status == "deprecated"
    asn = ASN.objects.filter(site=site).first()
    model_update(asn, status="deprecated")
    asn.refresh_from_db()
    assert asn.status == "deprecated"
    with pytest.raises(ConflictError):
        model_update(asn, asn=asn.asn + 1)


def test_deleting_a_bgp_peer_at_another_site_is_refused_then_logged_once_it_settles(site):
    """The delete would clear the session's ``peer_device`` (SET NULL) behind the change log."""
    other = build_site("branch-dual", name="MAN-07")
    peer = Device.objects.filter(site=other).first()
    session = BGPSession.objects.filter(device__site=site).first()
    BGPSession.objects.filter(pk=session.pk).update(peer_device=peer)
    with pytest.raises(ConflictError) as error:
        services.device_delete(instance=peer)
    assert f"refused: update of BGP session {session}" in _refused(error)
    assert Device.objects.filter(pk=peer.pk).exists()
    Site.objects.filter(pk=site.pk).update(status="live")
    peer_pk = peer.pk
    mgmt = IPAddress.objects.get(device=peer, is_primary_mgmt=True)
    services.device_delete(instance=peer)
    unassigned = ObjectChange.objects.filter(changed_object_id=mgmt.pk, action="update").latest(
        "id"
    )
    assert unassigned.object_repr == mgmt.address, "its addresses stay, unassigned, logged"
    assert unassigned.postchange_data["assigned_interface_id"] is None
    assert unassigned.postchange_data["is_primary_mgmt"] is False
    mgmt.refresh_from_db()
    assert (mgmt.assigned_interface_id, mgmt.is_primary_mgmt) == (None, False)
    session.refresh_from_db()
    assert session.peer_device_id is None
    logged = ObjectChange.objects.filter(changed_object_id=session.pk, action="update").latest("id")
    assert logged.prechange_data["peer_device_id"] == peer_pk
    assert logged.postchange_data["peer_device_id"] is None


def test_other_sites_and_global_pools_are_not_frozen(site):
    other = build_site("branch-dual", name="MAN-07")
    device = Device.objects.filter(site=other).first()
    renamed = f"{device.name}-x"
    services.device_update(instance=device, name=renamed)
    # a container between the pool and LON-01's links re-parents them (derived fields): allowed
    container = ipam_services.prefix_create(prefix="10.254.0.0/24")
    link = Prefix.objects.get(prefix="10.254.0.0/31")
    assert (link.site_id, link.parent_id) == (site.pk, container.pk)
    assert Device.objects.filter(name=renamed).exists()


def test_the_check_costs_one_query_when_no_site_is_turning_up_whatever_the_batch():
    site = f.SiteFactory()
    device = f.DeviceFactory(site=site)
    ports = [f.InterfaceFactory(device=device, name=f"et-0/0/{n}") for n in range(30)]

    def queries(rows) -> int:
        changes = [Change(port, None, {"device_id": device.pk}) for port in rows]
        with CaptureQueriesContext(connection) as ctx:
            services.site_design_freeze_check(action="create", changes=changes)
        return len(ctx.captured_queries)

    assert queries(ports[:1]) == queries(ports) == 1
    Site.objects.filter(pk=site.pk).update(status="turning-up")
    with CaptureQueriesContext(connection) as ctx, pytest.raises(ConflictError) as error:
        services.site_design_freeze_check(
            action="create",
            changes=[Change(port, None, {"device_id": device.pk}) for port in ports],
        )
    assert len(ctx.captured_queries) == 2  # the sites turning up; the devices' sites
    assert error.value.message.endswith("and 25 more")
    assert len(error.value.extra["objects"]) == 30


def test_the_api_answers_409_and_changes_nothing(site, api_client):
    device = _router(site)
    response = api_client.patch(
        f"/api/dcim/devices/{device.pk}/", {"name": "lon-01-er9"}, format="json"
    )
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["message"].startswith("Site LON-01 is turning up")
    assert body["extra"]["objects"] == ["device lon-01-er9"]
    device.refresh_from_db()
    assert device.name == "lon-01-er1"
    response = api_client.patch(
        f"/api/dcim/devices/{device.pk}/", {"serial": "FGL1"}, format="json"
    )
    assert response.status_code == 200, response.content


def test_the_site_pages_say_the_design_is_frozen_and_offer_no_edit(site):
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="noc", password="pw-1x"))
    device = _router(site)
    interface = device.interfaces.exclude(name__startswith="Loop").first()
    edit = f"/sites/{site.slug}/interfaces/{interface.pk}/edit/"
    for url in (
        f"/sites/{site.slug}/",
        f"/sites/{site.slug}/addressing/",
        f"/sites/{site.slug}/devices/{device.pk}/",
        edit,
    ):
        html = client.get(url).content.decode()
        assert 'id="design-frozen"' in html, url
        assert f'href="{edit}' not in html, url
    assert 'id="save-interface" disabled' in client.get(edit).content.decode()
    Site.objects.filter(pk=site.pk).update(status="live")
    html = client.get(f"/sites/{site.slug}/devices/{device.pk}/").content.decode()
    assert 'id="design-frozen"' not in html and f'href="{edit}"' in html


def test_the_interface_page_shows_the_refusal(site):
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="noc", password="pw-1x"))
    interface = _router(site).interfaces.exclude(name__startswith="Loop").first()
    response = client.post(
        f"/sites/{site.slug}/interfaces/{interface.pk}/edit/",
        {"mtu": 9000, "description": "to the moon", "enabled": "on"},
    )
    assert response.status_code == 200
    assert "LON-01 is turning up" in response.content.decode()
    interface.refresh_from_db()
    assert interface.description != "to the moon"


def test_the_admin_shows_a_message_instead_of_an_error_and_keeps_the_row(site):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "b@x.net", "pw-boss-1"))
    device = _router(site)
    response = client.post(f"/admin/dcim/device/{device.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "Not deleted: Site LON-01 is turning up" in response.content.decode()
    assert Device.objects.filter(pk=device.pk).exists()
    response = client.post(
        "/admin/dcim/device/",
        {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"},
        follow=True,
    )
    assert "No items have been changed" in response.content.decode()
    assert Device.objects.filter(pk=device.pk).exists()
    # the template variables the configs read are part of the design too
    instance = BlueprintInstance.objects.get(site=site)
    response = client.post(
        f"/admin/blueprints/blueprintinstance/{instance.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert "Not deleted: Site LON-01 is turning up" in response.content.decode()
    assert BlueprintInstance.objects.filter(pk=instance.pk).exists()
