"""The shared API base: bulk writes all-or-nothing, brief mode, change log with actor and
request id, constant query counts."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from turnup.core.models import ObjectChange

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.core.plumbing_urls")]
URL = "/api/test/groups/"


def test_bulk_create_writes_all_and_logs_each(api_client):
    response = api_client.post(
        URL, [{"name": f"g{i}"} for i in range(5)], format="json", HTTP_X_REQUEST_ID="req-1"
    )
    assert response.status_code == 201, response.json()
    assert [g["name"] for g in response.json()] == [f"g{i}" for i in range(5)]
    changes = ObjectChange.objects.filter(request_id="req-1")
    assert changes.count() == 5
    assert {c.user_name for c in changes} == {"engineer"}
    assert {c.action for c in changes} == {"create"}
    assert changes.first().postchange_data["name"].startswith("g")


def test_bulk_create_is_all_or_nothing_and_names_the_item(api_client):
    Group.objects.create(name="taken")
    response = api_client.post(
        URL, [{"name": "ok-1"}, {"name": ""}, {"name": "ok-2"}], format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["extra"]["items"]) == ["1"]
    assert "name" in response.json()["extra"]["items"]["1"]
    response = api_client.post(URL, [{"name": "new"}, {"name": "taken"}], format="json")
    assert response.status_code == 400
    assert list(response.json()["extra"]["items"]) == ["1"]
    response = api_client.post(URL, [{"name": "twice"}, {"name": "twice"}], format="json")
    assert response.status_code == 400
    assert "1" in response.json()["extra"]["items"]
    assert Group.objects.count() == 1
    assert not ObjectChange.objects.exists()


def test_bulk_update_and_delete(api_client):
    groups = [Group.objects.create(name=f"g{i}") for i in range(3)]
    response = api_client.patch(
        URL, [{"id": g.id, "name": f"renamed-{g.id}"} for g in groups], format="json"
    )
    assert response.status_code == 200, response.json()
    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(
        f"renamed-{g.id}" for g in groups
    )
    update = ObjectChange.objects.filter(action="update").first()
    assert update.prechange_data["name"].startswith("g")
    assert update.postchange_data["name"].startswith("renamed-")

    response = api_client.delete(URL, [{"id": groups[0].id}, {"id": 999999}], format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["items"] == {"1": {"id": ["no object with id 999999"]}}
    assert Group.objects.count() == 3
    response = api_client.delete(URL, [{"id": g.id} for g in groups], format="json")
    assert response.status_code == 204
    assert not Group.objects.exists()
    assert ObjectChange.objects.filter(action="delete").count() == 3


def test_brief_mode_returns_brief_fields(api_client):
    Group.objects.create(name="core")
    row = api_client.get(URL + "?brief=1").json()["results"][0]
    assert set(row) == {"id", "display"}
    full = api_client.get(URL).json()["results"][0]
    assert full["url"].endswith(f"/api/test/groups/{full['id']}/")


def test_list_costs_the_same_queries_for_10_and_200_rows(api_client):
    def count_list():
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get(URL + "?limit=1000").status_code == 200
        return len(ctx.captured_queries)

    Group.objects.bulk_create(Group(name=f"a{i}") for i in range(10))
    small = count_list()
    Group.objects.bulk_create(Group(name=f"b{i}") for i in range(190))
    assert count_list() == small


def test_change_log_is_readable_through_the_api(api_client):
    api_client.post(URL, {"name": "edge"}, format="json")
    rows = api_client.get("/api/core/object-changes/?changed_object_type=auth.group").json()
    assert rows["count"] == 1
    assert rows["results"][0]["object_repr"] == "edge"
    assert rows["results"][0]["user_name"] == "engineer"


def test_anonymous_cannot_read_or_write(client):
    assert client.get(URL).status_code in (401, 403)
    assert client.post(URL, {"name": "x"}).status_code in (401, 403)
    assert not Group.objects.exists()


def test_big_batches_are_logged_completely(api_client):
    """Batches past the COPY threshold (PostgreSQL) are logged like small ones."""
    from turnup.core.changelog import COPY_THRESHOLD

    size = COPY_THRESHOLD + 5
    response = api_client.post(
        URL, [{"name": f"big{i}"} for i in range(size)], format="json", HTTP_X_REQUEST_ID="big"
    )
    assert response.status_code == 201
    changes = ObjectChange.objects.filter(request_id="big")
    assert changes.count() == size
    assert set(changes.values_list("user_name", flat=True)) == {"engineer"}
    row = changes.get(object_repr="big7")
    assert row.postchange_data["name"] == "big7"
    assert row.prechange_data is None
    assert row.changed_object_id == Group.objects.get(name="big7").pk
