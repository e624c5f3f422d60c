import json

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from turnup.core.errors import ApplicationError, ConflictError


class Boom(APIView):
    raises: Exception | None = None

    def post(self, request):
        raise self.raises


class Named(serializers.Serializer):
    name = serializers.CharField(max_length=5)


class Validating(APIView):
    def post(self, request):
        Named(data=request.data).is_valid(raise_exception=True)


def call(view, data=None, user=True):
    request = APIRequestFactory().post("/x", data or {}, format="json")
    if user:
        from django.contrib.auth.models import AnonymousUser, User

        force_authenticate(request, user=User(username="u", id=1) if user else AnonymousUser())
    return view(request)


@pytest.mark.parametrize(
    ("error", "status", "message", "extra"),
    [
        (
            ApplicationError("bad plan", extra={"field": "slots"}),
            400,
            "bad plan",
            {"field": "slots"},
        ),
        (ConflictError("pool 10.0.0.0/30 is exhausted"), 409, "pool 10.0.0.0/30 is exhausted", {}),
        (
            DjangoValidationError({"serial": ["already used"]}),
            400,
            "Validation error",
            {"fields": {"serial": ["already used"]}},
        ),
    ],
)
def test_errors_share_one_json_shape(error, status, message, extra):
    response = call(Boom.as_view(raises=error))
    assert response.status_code == status
    assert response.data == {"message": message, "extra": extra}


def test_serializer_errors_name_the_field():
    response = call(Validating.as_view(), {"name": "far-too-long"})
    assert response.status_code == 400
    assert response.data["message"] == "Validation error"
    assert "name" in response.data["extra"]["fields"]


@pytest.mark.django_db
def test_anonymous_gets_the_same_shape(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code in (401, 403)
    assert set(json.loads(response.content)) == {"message", "extra"}


@pytest.mark.django_db
def test_openapi_schema_builds_with_unique_operation_ids(api_client):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    operation_ids = [
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(operation_ids) > 50
    duplicates = {op for op in operation_ids if operation_ids.count(op) > 1}
    assert duplicates == set()
    assert "dcim_devices_bulk_update" in operation_ids
