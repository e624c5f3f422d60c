import pytest

from tests.configs.designs import default_credentials, pop_core_site
from turnup.configs.models import ConfigTemplate, ConfigVersion
from turnup.dcim.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(local_storage):
    default_credentials()
    return pop_core_site()


def test_device_config_renders_bootstrap_and_full(api_client, site):
    device = Device.objects.get(name="lon-01-er1")
    response = api_client.get(f"/api/devices/{device.pk}/config/?kind=bootstrap")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kind"] == "bootstrap" and body["ok"] is True
    assert body["size"] == len(body["text"].encode())
    assert "crypto key generate rsa modulus 2048" in body["text"]
    assert "ip route vrf Mgmt-vrf 0.0.0.0 0.0.0.0 127.77.0.1" in body["text"]

    raw = api_client.get(f"/api/devices/{device.pk}/config/?kind=full&raw=1")
    assert raw.status_code == 200
    assert raw["Content-Type"].startswith("text/plain")
    assert raw.content.decode().startswith("hostname lon-01-er1\n")
    assert ConfigVersion.objects.count() == 0  # reading renders, it does not store


def test_device_config_rejects_unknown_kind(api_client, site):
    device = Device.objects.get(name="lon-01-er1")
    response = api_client.get(f"/api/devices/{device.pk}/config/?kind=everything")
    assert response.status_code == 400
    assert "kind" in response.json()["message"]


def test_site_render_then_versions_and_diff(api_client, site):
    response = api_client.post(f"/api/sites/{site.pk}/render/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] == 8 and body["lint_errors"] == 0 and body["problems"] == {}
    again = api_client.post(f"/api/sites/{site.pk}/render/").json()
    assert again["changed"] == 0

    # An override of one partial changes the full configs: new versions, visible in a diff.
    create = api_client.post(
        "/api/configs/templates/",
        {"path": "cisco_iosxe/partials/ntp.j2", "text": "ntp server vrf Mgmt-vrf 192.0.2.1\n"},
        format="json",
    )
    assert create.status_code == 201, create.content
    third = api_client.post(f"/api/sites/{site.pk}/render/").json()
    assert third["changed"] == 2  # the full configs of the two IOS-XE routers

    device = Device.objects.get(name="lon-01-er1")
    listing = api_client.get(f"/api/config-versions/?device_id={device.pk}&kind=full").json()
    assert listing["count"] == 2
    new, old = listing["results"]
    assert new["author"] == "engineer"
    diff = api_client.get(f"/api/config-versions/{new['id']}/diff/?against={old['id']}")
    assert diff.status_code == 200
    text = diff.json()["diff"]
    assert "+ntp server vrf Mgmt-vrf 192.0.2.1" in text
    assert "-ntp server vrf Mgmt-vrf 192.0.2.123" in text
    detail = api_client.get(f"/api/config-versions/{new['id']}/").json()
    assert "ntp server vrf Mgmt-vrf 192.0.2.1\n" in detail["text"], detail["text"][-900:]


def test_template_override_with_a_syntax_error_is_refused(api_client):
    response = api_client.post(
        "/api/configs/templates/",
        {"path": "cisco_iosxe/edge.j2", "text": "{% if %}"},
        format="json",
    )
    assert response.status_code == 400
    assert "text" in str(response.json()["extra"])
    assert not ConfigTemplate.objects.exists()


def test_diff_needs_against(api_client, site):
    api_client.post(f"/api/sites/{site.pk}/render/")
    version = ConfigVersion.objects.first()
    response = api_client.get(f"/api/config-versions/{version.pk}/diff/")
    assert response.status_code == 400


HUGE = 10**30


@pytest.mark.parametrize(
    ("query", "param"),
    [
        (f"device_id={HUGE}", "device_id"),
        (f"site_id={HUGE}", "site_id"),
        ("site_id=1.5", "site_id"),
        ("device_id=²", "device_id"),
    ],
)
def test_config_versions_refuse_an_id_filter_that_is_not_an_id(api_client, query, param):
    response = api_client.get(f"/api/config-versions/?{query}")
    assert response.status_code == 400, response.content
    assert list(response.json()["extra"]["fields"]) == [param]


@pytest.mark.parametrize("against", ["²", "¹²", str(HUGE), "0", "abc"])
def test_diff_refuses_an_against_that_is_not_an_id(api_client, site, against):
    api_client.post(f"/api/sites/{site.pk}/render/")
    version = ConfigVersion.objects.first()
    response = api_client.get(f"/api/config-versions/{version.pk}/diff/", {"against": against})
    assert response.status_code == 400, response.content
    assert list(response.json()["extra"]["fields"]) == ["against"]
