"""The ipam admin: a page for every model; prefix writes keep the hierarchy and the change
log like the services."""

import pytest
from django.contrib.auth import get_user_model

from tests import factories as f
from turnup.core.models import ObjectChange
from turnup.ipam import services
from turnup.ipam.models import Prefix

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dcim.admin_urls")]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.net", "pw-boss-1")
    client.force_login(user)
    return client


def test_every_ipam_model_has_an_admin_page(admin_client):
    services.prefix_create(prefix="10.0.0.0/24")
    services.ip_address_create(address="10.0.0.1/24")
    f.VLANFactory()
    f.ASNFactory()
    f.ASNRangeFactory()
    f.VRFFactory()
    for model in ("vrf", "prefix", "ipaddress", "asnrange", "asn", "vlangroup", "vlan"):
        assert admin_client.get(f"/admin/ipam/{model}/").status_code == 200, model
        assert admin_client.get(f"/admin/ipam/{model}/add/").status_code == 200, model


def _form(**fields):
    return {"prefix": "", "name": "", "status": "active", "role": "", "description": "", **fields}


def test_admin_prefix_add_change_delete_keeps_the_hierarchy(admin_client):
    top = services.prefix_create(prefix="10.0.0.0/16")
    response = admin_client.post("/admin/ipam/prefix/add/", _form(prefix="10.0.1.0/24"))
    assert response.status_code == 302, response.content.decode()[:2000]
    child = Prefix.objects.get(prefix="10.0.1.0/24")
    assert (child.parent_id, child.depth) == (top.pk, 1)
    duplicate = admin_client.post("/admin/ipam/prefix/add/", _form(prefix="10.0.1.0/24"))
    assert duplicate.status_code == 200
    assert "already exists" in duplicate.content.decode()
    response = admin_client.post(f"/admin/ipam/prefix/{top.pk}/change/", _form(prefix="10.0.0.0/8"))
    assert response.status_code == 302
    assert Prefix.objects.get(pk=top.pk).prefix == "10.0.0.0/8"
    response = admin_client.post(f"/admin/ipam/prefix/{top.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.parent_id, child.depth) == (None, 0)
    logged = ObjectChange.objects.filter(user_name="boss").values_list("action", flat=True)
    assert sorted(logged) == ["create", "delete", "update"]
