"""The blueprints API: list, upload, plan, instantiate."""

from pathlib import Path

import pytest

from turnup.blueprints.models import Blueprint
from turnup.dcim.models import Device, Site

pytestmark = pytest.mark.django_db
LIBRARY = Path(__file__).resolve().parents[2] / "turnup" / "blueprints" / "library"


def test_list_has_the_shipped_blueprints(api_client):
    response = api_client.get("/api/blueprints/")
    assert response.status_code == 200
    names = {b["name"] for b in response.json()}
    assert names == {"pop-core", "branch-dual", "aggregation"}


def test_upload_json_and_yaml_and_versions(api_client):
    source = (
        (LIBRARY / "branch-dual.yaml").read_text().replace("name: branch-dual", "name: my-branch")
    )
    response = api_client.post("/api/blueprints/", {"source": source}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "my-branch"
    # the same again changes nothing; an older or equal version with other text is refused
    assert api_client.post("/api/blueprints/", {"source": source}, format="json").status_code == 201
    edited = source.replace("region: {type: string, default: europe}", "region: {type: string}")
    assert api_client.post("/api/blueprints/", {"source": edited}, format="json").status_code == 409
    newer = edited.replace("version: 1", "version: 2")
    response = api_client.post(
        "/api/blueprints/", data=newer.encode(), content_type="application/yaml"
    )
    assert response.status_code == 201, response.json()
    assert Blueprint.objects.get(name="my-branch").version == 2


def test_upload_invalid_gives_path_and_reason(api_client):
    source = (LIBRARY / "pop-core.yaml").read_text().replace("peer: core-2,", "peer: core-3,")
    response = api_client.post("/api/blueprints/", {"source": source}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["errors"] == ['slots[0].links[0].peer: no slot named "core-3"']


def test_plan_then_instantiate(api_client):
    response = api_client.post(
        "/api/blueprints/branch-dual/plan/", {"params": {"name": "MAN-07"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    plan = response.json()
    assert plan["applied"] is False and plan["counts"]["create"] > 10
    assert not Site.objects.filter(name="MAN-07").exists()
    response = api_client.post(
        "/api/blueprints/branch-dual/instantiate/", {"params": {"name": "MAN-07"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["applied"] is True
    assert Device.objects.filter(site__name="MAN-07").count() == 3
    again = api_client.post(
        "/api/blueprints/branch-dual/instantiate/", {"params": {"name": "MAN-07"}}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["counts"]["create"] == 0 and again.json()["counts"]["change"] == 0
    instances = api_client.get("/api/blueprints/instances/").json()["results"]
    assert instances[0]["variables"]["domain_name"] == "man-07.branch.example.net"


def test_bad_params_are_400_with_paths(api_client):
    response = api_client.post(
        "/api/blueprints/aggregation/plan/",
        {"params": {"name": "FRA-01", "edge_count": "many"}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["extra"]["errors"] == ["params.edge_count: 'many' is not an integer"]


def test_unknown_blueprint_is_404(api_client):
    response = api_client.post("/api/blueprints/nope/plan/", {"params": {}}, format="json")
    assert response.status_code == 404


def test_library_sync_refreshes_a_corrected_shipped_file_but_not_uploads():
    from turnup.blueprints.services import blueprint_library_sync

    blueprint_library_sync()
    Blueprint.objects.filter(name="pop-core").update(source="old text")
    blueprint_library_sync()
    assert Blueprint.objects.get(name="pop-core").source == (LIBRARY / "pop-core.yaml").read_text()
    Blueprint.objects.filter(name="pop-core").update(builtin=False, source="my own")
    blueprint_library_sync()
    assert Blueprint.objects.get(name="pop-core").source == "my own"


def test_upload_as_a_file(api_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    source = (LIBRARY / "aggregation.yaml").read_text().replace("name: aggregation", "name: my-agg")
    upload = SimpleUploadedFile("my-agg.yaml", source.encode(), content_type="application/yaml")
    response = api_client.post("/api/blueprints/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.json()
    assert api_client.get("/api/blueprints/my-agg/").json()["source"] == source
