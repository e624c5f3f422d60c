"""Bad input answers 400 (or a JSON 404) naming what was wrong, never a 500: ids and numbers
the database cannot hold, bodies nested too deeply, paths no API route matches."""

import pytest

from tests import factories as f
from turnup.core import services as generic
from turnup.core.validation import BIGINT_MAX, id_value
from turnup.dcim.models import DeviceType

HUGE = 10**30


@pytest.mark.parametrize("value", [1, "42", BIGINT_MAX, str(BIGINT_MAX), "007"])
def test_id_value_accepts_whole_numbers_a_bigint_holds(value):
    assert id_value(value) == int(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "not a boolean"),
        (1.5, "not a decimal number"),
        (1.0, "not a decimal number"),
        (None, "not null"),
        ([1], "not a list"),
        ({"id": 1}, "not an object"),
        ("1.5", "digits 0-9"),
        ("²", "digits 0-9"),
        ("١٢", "digits 0-9"),
        (" 1", "digits 0-9"),
        ("", "digits 0-9"),
        (0, "between 1 and"),
        (-1, "between 1 and"),
        ("-1", "between 1 and"),
        (BIGINT_MAX + 1, "between 1 and"),
        (str(HUGE), "between 1 and"),
        ("9" * 5000, "between 1 and"),
    ],
)
def test_id_value_refuses_what_is_not_an_id_with_the_reason(value, reason):
    with pytest.raises(ValueError, match=reason):
        id_value(value)


@pytest.mark.django_db
def test_generic_services_take_a_model_with_a_field_called_model():
    manufacturer = f.ManufacturerFactory()
    created = generic.model_create(DeviceType, manufacturer=manufacturer, model="X1", slug="x1")
    updated = generic.model_update(created, model="X2")
    assert DeviceType.objects.get(pk=created.pk).model == updated.model == "X2"


@pytest.mark.parametrize(
    "path",
    [
        "/api/sites/abc/turnup/",
        "/api/sites/-1/render/",
        "/api/sites/abc/checks/",
        "/api/blueprints/instances/abc/",
        "/api/no-such-thing/",
    ],
)
def test_a_path_no_api_route_matches_answers_the_json_error_shape(api_client, path):
    response = api_client.post(path, {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not found.", "extra": {"path": path}}


def test_a_path_outside_the_api_keeps_the_html_404(api_client):
    response = api_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/dcim/sites/"),
        ("put", "/api/dcim/sites/"),
        ("patch", "/api/dcim/sites/"),
        ("delete", "/api/dcim/sites/"),
        ("post", "/api/blueprints/"),  # its own parser list
    ],
)
def test_a_body_nested_too_deeply_is_a_parse_error(api_client, method, path):
    body = "[" * 5000 + "]" * 5000
    response = getattr(api_client, method)(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "JSON parse error - the body is nested too deeply",
        "extra": {},
    }


@pytest.mark.parametrize("value", [str(HUGE), "0", "1.5", "²"])
def test_runs_refuse_a_site_id_that_is_not_an_id(api_client, value):
    response = api_client.get("/api/runs/", {"site_id": value})
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["site_id"]
