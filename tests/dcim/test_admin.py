"""The dcim admin: same rules as the services, change log rows, masked secrets."""

import pytest
from django.contrib.auth import get_user_model

from tests import factories as f
from turnup.core.models import ObjectChange
from turnup.dcim.models import Cable, CredentialProfile, Device, Interface, InterfaceTemplate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dcim.admin_urls")]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.net", "pw-boss-1")
    client.force_login(user)
    return client


def test_every_dcim_model_has_an_admin_page(admin_client):
    for path in (
        "site",
        "rack",
        "manufacturer",
        "devicerole",
        "platform",
        "devicetype",
        "interfacetemplate",
        "consoleporttemplate",
        "consoleserverporttemplate",
        "device",
        "interface",
        "consoleport",
        "consoleserverport",
        "cable",
        "credentialprofile",
    ):
        assert admin_client.get(f"/admin/dcim/{path}/").status_code == 200, path
        assert admin_client.get(f"/admin/dcim/{path}/add/").status_code == 200, path


def test_admin_device_add_creates_components_and_logs(admin_client):
    site, device_type = f.SiteFactory(), f.dcim_router_type(interfaces=2)
    role = f.DeviceRoleFactory(slug="edge")
    response = admin_client.post(
        "/admin/dcim/device/add/",
        {
            "name": "rtr-admin",
            "site": site.pk,
            "device_type": device_type.pk,
            "role": role.pk,
            "status": "planned",
            "console_ssh_username_format": "{username}:port{line}",
            **_empty_inlines("interfaces", "console_ports", "console_server_ports"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    device = Device.objects.get(name="rtr-admin")
    assert device.interfaces.count() == 3
    changes = ObjectChange.objects.filter(user_name="boss", action="create")
    assert changes.count() == 1 + 3 + 1


def test_admin_refuses_rack_overlap(admin_client):
    rack = f.RackFactory()
    device_type = f.dcim_router_type()
    f.DeviceFactory(site=rack.site, rack=rack, position=1, face="front", device_type=device_type)
    response = admin_client.post(
        "/admin/dcim/device/add/",
        {
            "name": "clash",
            "site": rack.site.pk,
            "rack": rack.pk,
            "position": 1,
            "face": "front",
            "device_type": device_type.pk,
            "role": f.DeviceRoleFactory(slug="edge").pk,
            "status": "planned",
            **_empty_inlines("interfaces", "console_ports", "console_server_ports"),
        },
    )
    assert response.status_code == 200
    assert "is taken by" in response.content.decode()
    assert not Device.objects.filter(name="clash").exists()


def test_admin_refuses_a_status_jump(admin_client):
    site = f.SiteFactory()
    response = admin_client.post(
        f"/admin/dcim/site/{site.pk}/change/",
        {"name": site.name, "slug": site.slug, "status": "live"},
    )
    assert response.status_code == 200
    assert "allowed: designed" in response.content.decode()
    site.refresh_from_db()
    assert site.status == "planned"


def test_admin_cable_add_uses_the_cable_rules(admin_client):
    a, b = f.InterfaceFactory(), f.InterfaceFactory()
    response = admin_client.post(
        "/admin/dcim/cable/add/", {"a_interface": a.pk, "b_interface": b.pk, "status": "planned"}
    )
    assert response.status_code == 302
    cable = Cable.objects.get()
    assert set(Interface.objects.values_list("cable_id", flat=True)) == {cable.pk}
    admin_client.post(f"/admin/dcim/cable/{cable.pk}/delete/", {"post": "yes"})
    assert not Cable.objects.exists()
    assert not Interface.objects.filter(cable__isnull=False).exists()


def test_admin_masks_secrets_and_blank_keeps_them(admin_client):
    profile = f.CredentialProfileFactory(local_password="very-secret-pw")
    page = admin_client.get(f"/admin/dcim/credentialprofile/{profile.pk}/change/")
    assert "very-secret-pw" not in page.content.decode()
    data = {
        "name": profile.name,
        "snmp_auth_protocol": "sha-256",
        "snmp_priv_protocol": "aes-128",
        "enable_secret": "new-enable",
        "clear_secrets": ["snmp_priv_key"],
    }
    response = admin_client.post(f"/admin/dcim/credentialprofile/{profile.pk}/change/", data)
    assert response.status_code == 302
    profile = CredentialProfile.objects.get()
    assert profile.local_password == "very-secret-pw"
    assert profile.enable_secret == "new-enable"
    assert profile.snmp_priv_key == ""
    change = ObjectChange.objects.get(action="update")
    assert "new-enable" not in str(change.postchange_data)


def test_admin_inline_templates_are_logged(admin_client):
    device_type = f.DeviceTypeFactory()
    data = {
        "manufacturer": device_type.manufacturer_id,
        "model": device_type.model,
        "slug": device_type.slug,
        "u_height": 1,
        "is_full_depth": "on",
        **_empty_inlines("interface_templates", "console_port_templates"),
        **_empty_inlines("console_server_port_templates"),
        "interface_templates-TOTAL_FORMS": "1",
        "interface_templates-0-name": "ge-0/0/0",
        "interface_templates-0-type": "1000base-t",
    }
    response = admin_client.post(f"/admin/dcim/devicetype/{device_type.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert InterfaceTemplate.objects.filter(device_type=device_type).count() == 1
    assert ObjectChange.objects.filter(
        action="create", changed_object_type__model="interfacetemplate"
    ).exists()


def _empty_inlines(*prefixes):
    data = {}
    for prefix in prefixes:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def test_admin_change_pages_render_for_cabled_objects(admin_client):
    site, server, (rtr,) = f.dcim_console_site(routers=1)
    cable = Cable.objects.get()
    assert admin_client.get(f"/admin/dcim/cable/{cable.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/dcim/device/{server.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/dcim/device/{rtr.pk}/change/").status_code == 200


def test_admin_bulk_delete_logs_what_the_devices_take_with_them(admin_client):
    site, server, routers = f.dcim_console_site(routers=2)
    ports = set(Interface.objects.filter(device__in=routers).values_list("pk", flat=True))
    cables = set(
        Cable.objects.filter(console_ports__device__in=routers).values_list("pk", flat=True)
    )
    response = admin_client.post(
        "/admin/dcim/device/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [r.pk for r in routers]},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Device.objects.all()) == [server]
    logged = ObjectChange.objects.filter(action="delete")
    assert (
        set(
            logged.filter(changed_object_type__model="interface").values_list(
                "changed_object_id", flat=True
            )
        )
        == ports
    )
    assert (
        set(
            logged.filter(changed_object_type__model="cable").values_list(
                "changed_object_id", flat=True
            )
        )
        == cables
    )
    assert not server.console_server_ports.filter(cable__isnull=False).exists()
