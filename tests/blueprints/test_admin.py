"""The blueprint admin validates the YAML it is given."""

from pathlib import Path

import pytest

from turnup.blueprints.models import Blueprint

pytestmark = pytest.mark.django_db
LIBRARY = Path(__file__).resolve().parents[2] / "turnup" / "blueprints" / "library"


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.net", "pw-root-1")
    client.force_login(user)
    return client


def test_add_validates_and_stores(admin_client):
    source = (LIBRARY / "branch-dual.yaml").read_text()
    bad = source.replace("peer: router-2,", "peer: router-3,")
    response = admin_client.post("/admin/blueprints/blueprint/add/", {"source": bad})
    assert response.status_code == 200
    assert "no slot named &quot;router-3&quot;" in response.content.decode()
    assert not Blueprint.objects.exists()
    response = admin_client.post("/admin/blueprints/blueprint/add/", {"source": source})
    assert response.status_code == 302
    stored = Blueprint.objects.get()
    assert (stored.name, stored.version) == ("branch-dual", 2)
    assert stored.document["slots"][0]["name"] == "router"
    assert admin_client.get("/admin/blueprints/blueprint/").status_code == 200
    assert admin_client.get("/admin/blueprints/blueprintinstance/").status_code == 200


def test_plan_and_instantiate_from_the_admin(admin_client):
    from turnup.blueprints.services import blueprint_library_sync
    from turnup.core.models import ObjectChange
    from turnup.dcim.models import Site

    blueprint_library_sync()
    blueprint = Blueprint.objects.get(name="branch-dual")
    url = f"/admin/blueprints/blueprint/{blueprint.pk}/instantiate/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"params": "name=MAN-07\nregion=apac", "plan": "1"})
    assert response.status_code == 200
    assert "plan only, nothing written" in response.content.decode()
    assert not Site.objects.filter(name="MAN-07").exists()
    response = admin_client.post(url, {"params": "name=MAN-07\nregion=apac", "apply": "1"})
    assert "applied" in response.content.decode()
    assert Site.objects.get(name="MAN-07").region == "apac"
    assert ObjectChange.objects.filter(user_name="root", object_repr="MAN-07").exists()
    response = admin_client.post(url, {"params": "name=MAN-08\nnope=1", "plan": "1"})
    assert "params.nope: no parameter named" in response.content.decode()
