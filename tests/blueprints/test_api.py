"""The blueprints API: list, upload, plan, instantiate."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

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
    shipped = Blueprint.objects.get(name="my-branch").version
    newer = edited.replace(f"version: {shipped}\n", f"version: {shipped + 1}\n")
    response = api_client.post(
        "/api/blueprints/", data=newer.encode(), content_type="application/yaml"
    )
    assert response.status_code == 201, response.json()
    assert Blueprint.objects.get(name="my-branch").version == shipped + 1


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


@pytest.mark.parametrize("content_type", ["application/yaml", "text/yaml"])
def test_upload_that_is_not_utf8_is_400(api_client, content_type):
    response = api_client.post("/api/blueprints/", data=b"\xff\xfe", content_type=content_type)
    assert response.status_code == 400, response.content
    assert response.json()["extra"]["errors"] == ["line 1: not UTF-8 text: byte 0xff at offset 0"]
    assert not Blueprint.objects.filter(builtin=False).exists()


def test_file_upload_that_is_not_utf8_is_400_not_replaced_characters(api_client):
    upload = SimpleUploadedFile("x.yaml", b"name: x\n\xff", content_type="application/yaml")
    response = api_client.post("/api/blueprints/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["extra"]["errors"] == ["line 2: not UTF-8 text: byte 0xff at offset 8"]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("name: x\ndescription: 'a\x00'\n", "line 2, column 16: character #x0000 is not allowed"),
        ("[" * 5000, "(document): nested too deeply"),
        ("a: &a [*a]\n", "line 1: an alias refers to the list or mapping it is part of"),
    ],
)
def test_upload_that_yaml_cannot_read_is_400(api_client, source, error):
    response = api_client.post("/api/blueprints/", {"source": source}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["extra"]["errors"][0].startswith(error)


def _edited(name: str, old: str, new: str) -> str:
    source = (LIBRARY / f"{name}.yaml").read_text()
    assert old in source
    return source.replace(f"name: {name}\n", f"name: my-{name}\n", 1).replace(old, new, 1)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (
            _edited("branch-dual", "role: branch", "role: '{name.__class__}'"),
            "slots[0].role: unknown placeholder {name.__class__}",
        ),
        (
            _edited("branch-dual", '"^[A-Z]{2,5}-[0-9]{2,3}$"', "'('"),
            "parameters.name.pattern: not a regular expression",
        ),
        (
            _edited("branch-dual", "count: 2", "count: 1000000000000"),
            "slots[0].count: 1000000000000 is not valid",
        ),
    ],
)
def test_upload_with_a_dangerous_value_is_400(api_client, source, error):
    response = api_client.post("/api/blueprints/", {"source": source}, format="json")
    assert response.status_code == 400, response.content
    assert any(e.startswith(error) for e in response.json()["extra"]["errors"]), response.json()


def test_a_pattern_that_backtracks_without_end_is_a_400_not_a_hung_worker(api_client):
    # (A|AA)+ tries every way of splitting a run of A's: Python's re takes minutes on this
    source = _edited("branch-dual", '"^[A-Z]{2,5}-[0-9]{2,3}$"', "'(A|AA)+-[0-9]{2}'")
    assert api_client.post("/api/blueprints/", {"source": source}, format="json").status_code == 201
    response = api_client.post(
        "/api/blueprints/my-branch-dual/plan/", {"params": {"name": "A" * 60}}, format="json"
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["extra"]["errors"]
    assert error.startswith("params.name: the pattern (A|AA)+-[0-9]{2} took longer than"), error
    response = api_client.post(
        "/api/blueprints/my-branch-dual/plan/", {"params": {"name": "AAA-07"}}, format="json"
    )
    assert response.status_code == 200, response.content


MTU_PARAM = "core_mtu: {type: integer, default: 9192, minimum: 1500, maximum: 9192}"


@pytest.mark.parametrize(
    ("blueprint", "old", "new", "error"),
    [
        (
            "branch-dual",
            'description: "Site name, e.g. MAN-07"',
            'default: "man-07", description: "Site name"',
            "parameters.name.default: 'man-07' does not match the pattern",
        ),
        (
            "branch-dual",
            '"^[A-Z]{2,5}-[0-9]{2,3}$"',
            f"'{'[A-Z]' * 120}'",
            "parameters.name.pattern: longer than 500 characters",
        ),
        (
            "pop-core",
            MTU_PARAM,
            MTU_PARAM.replace("minimum: 1500, maximum: 9192", "minimum: 9192, maximum: 1500"),
            "parameters.core_mtu: minimum 9192 is above maximum 1500: no value can be given",
        ),
        (
            "pop-core",
            MTU_PARAM,
            MTU_PARAM.replace("default: 9192", "default: 1400"),
            "parameters.core_mtu.default: 1400 is outside 1500..9192",
        ),
    ],
)
def test_a_parameter_that_no_value_could_pass_is_refused_at_upload(
    api_client, blueprint, old, new, error
):
    response = api_client.post(
        "/api/blueprints/", {"source": _edited(blueprint, old, new)}, format="json"
    )
    assert response.status_code == 400, response.content
    assert error in response.json()["extra"]["errors"], response.json()


@pytest.mark.parametrize(
    ("blueprint", "param"), [("pop-core", "upstream_asn"), ("branch-dual", "wan_provider_asn")]
)
@pytest.mark.parametrize("asn", [0, -5, 4294967296])
def test_a_shipped_blueprints_asn_parameter_takes_only_an_asn(api_client, blueprint, param, asn):
    response = api_client.post(
        f"/api/blueprints/{blueprint}/plan/",
        {"params": {"name": "MAN-07", param: asn}},
        format="json",
    )
    assert response.status_code == 400, response.content
    [error] = response.json()["extra"]["errors"]
    assert error.startswith(f"params.{param}: {asn} is "), error


def test_a_slot_count_from_a_parameter_is_bounded(api_client):
    source = _edited("aggregation", "maximum: 48, ", "")
    assert api_client.post("/api/blueprints/", {"source": source}, format="json").status_code == 201
    response = api_client.post(
        "/api/blueprints/my-aggregation/plan/",
        {"params": {"name": "FRA-01", "edge_count": 10**12}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["extra"]["errors"] == [
        "slots[1].count: 1000000000000 devices; a slot has at most 1000"
    ]


def test_a_device_type_that_does_not_exist_is_400(api_client):
    source = _edited("branch-dual", "device_type: opengear-cm7116-2", "device_type: nope")
    assert api_client.post("/api/blueprints/", {"source": source}, format="json").status_code == 201
    response = api_client.post(
        "/api/blueprints/my-branch-dual/plan/", {"params": {"name": "MAN-07"}}, format="json"
    )
    assert response.status_code == 400
    assert 'slots: device type "nope" does not exist' in response.json()["extra"]["errors"]


def test_a_huge_refused_value_is_quoted_short(api_client):
    response = api_client.post(
        "/api/blueprints/branch-dual/plan/", {"params": {"name": "X" * 100_000}}, format="json"
    )
    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert error == (
        f"params.name: '{'X' * 59}… (100002 characters) does not match ^[A-Z]{{2,5}}-[0-9]{{2,3}}$"
    )
