"""The blueprint admin answers odd input with a form error naming the field and the reason:
a second blueprint of the same name, template variables that are not a JSON object (or that
PostgreSQL cannot store), a parameter given twice."""

from pathlib import Path

import pytest

from tests import factories as f
from turnup.blueprints.models import Blueprint, BlueprintInstance

pytestmark = pytest.mark.django_db
LIBRARY = Path(__file__).resolve().parents[2] / "turnup" / "blueprints" / "library"


@pytest.fixture
def instance():
    from turnup.blueprints.services import blueprint_create

    blueprint = blueprint_create(source=(LIBRARY / "branch-dual.yaml").read_text())
    return BlueprintInstance.objects.create(
        site=f.SiteFactory(),
        blueprint=blueprint,
        blueprint_version=blueprint.version,
        params={"name": "MAN-07"},
        variables={"banner": "hello"},
    )


def test_a_second_blueprint_of_the_same_name_is_a_form_error(admin_client):
    source = (LIBRARY / "branch-dual.yaml").read_text()
    assert (
        admin_client.post("/admin/blueprints/blueprint/add/", {"source": source}).status_code == 302
    )
    response = admin_client.post("/admin/blueprints/blueprint/add/", {"source": source})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source"] == [
        "name: a blueprint named 'branch-dual' already exists; change it from its own page"
    ]
    assert Blueprint.objects.count() == 1


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("[1, 2]", 'Enter a JSON object ({"name": value, …}), not a list.'),
        ('"text"', 'Enter a JSON object ({"name": value, …}), not a string.'),
        ("5", 'Enter a JSON object ({"name": value, …}), not a number.'),
        ("null", 'Enter a JSON object ({"name": value, …}), not null.'),
        ('{"a": NaN}', "NaN is not a number JSON allows; use a finite number."),
        ('{"a": {"b": -Infinity}}', "-Infinity is not a number JSON allows; use a finite number."),
        ('{"a": [1e400]}', "a[0]: inf is not a finite number."),
        ('{"a": "x\\u0000y"}', "a: NUL characters are not allowed."),
        ('{"\\u0000": 1}', "(top): a name holds a NUL character."),
        ("[" * 100_000, "Enter a valid JSON object."),
        ('{"a": ' * 60 + "1" + "}" * 60, f"{'.'.join('a' * 51)}: nested deeper than 50 levels."),
        ("{", "Enter a valid JSON object."),
    ],
)
def test_template_variables_must_be_a_json_object_postgresql_stores(
    admin_client, instance, typed, error
):
    url = f"/admin/blueprints/blueprintinstance/{instance.pk}/change/"
    response = admin_client.post(url, {"variables": typed})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["variables"] == [error]
    instance.refresh_from_db()
    assert instance.variables == {"banner": "hello"}


def test_template_variables_are_saved_and_blank_is_empty(admin_client, instance):
    url = f"/admin/blueprints/blueprintinstance/{instance.pk}/change/"
    response = admin_client.post(url, {"variables": '{"banner": "hi ☃", "n": [1, 2.5]}'})
    assert response.status_code == 302
    instance.refresh_from_db()
    assert instance.variables == {"banner": "hi ☃", "n": [1, 2.5]}
    assert admin_client.post(url, {"variables": ""}).status_code == 302
    instance.refresh_from_db()
    assert instance.variables == {}


def test_a_blueprint_instance_is_not_added_by_hand(admin_client, instance):
    assert admin_client.get("/admin/blueprints/blueprintinstance/add/").status_code == 403
    response = admin_client.post("/admin/blueprints/blueprintinstance/add/", {"variables": "{}"})
    assert response.status_code == 403
    assert BlueprintInstance.objects.count() == 1


def test_a_parameter_given_twice_is_refused(admin_client):
    from turnup.blueprints.services import blueprint_library_sync

    blueprint_library_sync()
    blueprint = Blueprint.objects.get(name="branch-dual")
    url = f"/admin/blueprints/blueprint/{blueprint.pk}/instantiate/"
    response = admin_client.post(url, {"params": "name=MAN-07\n\nname=MAN-08", "plan": "1"})
    assert response.status_code == 200
    assert response.context["form"].errors["params"] == ["line 3: name is already given on line 1"]


def test_a_changed_blueprint_needs_a_higher_version_as_in_the_api(admin_client, instance):
    blueprint = instance.blueprint
    url = f"/admin/blueprints/blueprint/{blueprint.pk}/change/"
    edited = blueprint.source.replace(
        "region: {type: string, default: europe}", "region: {type: string}"
    )
    response = admin_client.post(url, {"source": edited})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source"] == [
        f"version: {blueprint.version} — a changed blueprint needs a version above "
        f"{blueprint.version}"
    ]
    newer = edited.replace(f"version: {blueprint.version}\n", f"version: {blueprint.version + 1}\n")
    assert admin_client.post(url, {"source": newer}).status_code == 302
    blueprint.refresh_from_db()
    assert blueprint.version == instance.blueprint_version + 1
