"""REST API of blueprints.

- ``GET /api/blueprints/`` — the stored blueprints (the shipped ones are stored on first use)
- ``POST /api/blueprints/`` — upload a YAML blueprint: ``{"source": "<yaml>"}``, the raw
  YAML body (``Content-Type: application/yaml``) or a multipart file field ``file``
- ``GET /api/blueprints/{name}/`` — one blueprint with its source
- ``POST /api/blueprints/{name}/plan/`` — ``{"params": {...}}`` → the plan, nothing written
- ``POST /api/blueprints/{name}/instantiate/`` — ``{"params": {...}, "apply": true}`` → the
  plan, applied (``"apply": false`` is a dry run)
- ``GET /api/blueprints/instances/`` — which blueprint built which site, with its variables
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.response import Response

from turnup.blueprints.design import source_text
from turnup.blueprints.models import Blueprint, BlueprintInstance
from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import (
    blueprint_create,
    blueprint_instantiate,
    blueprint_library_sync,
    blueprint_plan,
)
from turnup.core.api import BriefModelSerializer
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.parsers import JSONParser


class YAMLParser(BaseParser):
    """A raw YAML body (the blueprint file as is); bytes that are not UTF-8 answer 400."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"source": source_text(stream.read())}


class TextYAMLParser(YAMLParser):
    media_type = "text/yaml"


class BlueprintSerializer(BriefModelSerializer):
    class Meta:
        model = Blueprint
        fields = ("id", "url", "display", "name", "version", "description", "builtin", "source")
        read_only_fields = ("name", "version", "description", "builtin")
        brief_fields = ("id", "url", "display", "name", "version")

    def get_url(self, obj) -> str | None:
        request = self.context.get("request")
        url = f"/api/blueprints/{obj.name}/"
        return request.build_absolute_uri(url) if request else url


class BlueprintInstanceSerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.name")
    blueprint = serializers.CharField(source="blueprint.name")

    class Meta:
        model = BlueprintInstance
        fields = ("id", "site", "blueprint", "blueprint_version", "params", "variables", "applied")


class PlanRequestSerializer(serializers.Serializer):
    params = serializers.DictField(default=dict)
    apply = serializers.BooleanField(default=True)


class BlueprintViewSet(viewsets.ViewSet):
    """Blueprints by name; writes go through the blueprint services."""

    lookup_field = "name"
    lookup_value_regex = r"[a-z][a-z0-9-]*"
    parser_classes = [JSONParser, YAMLParser, TextYAMLParser, FormParser, MultiPartParser]
    serializer_class = BlueprintSerializer

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._actor_token = bind_actor(request.user)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_actor_token", None)
        if token is not None:
            unbind_actor(token)
            self._actor_token = None
        return super().finalize_response(request, response, *args, **kwargs)

    def _context(self):
        return {
            "request": self.request,
            "brief": self.request.query_params.get("brief") in ("1", "true"),
        }

    def list(self, request):
        blueprint_library_sync()
        rows = Blueprint.objects.all()
        return Response(BlueprintSerializer(rows, many=True, context=self._context()).data)

    def retrieve(self, request, name: str):
        blueprint = blueprint_get(name=name)
        return Response(BlueprintSerializer(blueprint, context=self._context()).data)

    @extend_schema(request=BlueprintSerializer, responses={201: BlueprintSerializer})
    def create(self, request):
        source = request.data.get("source") if hasattr(request.data, "get") else None
        if source is None and hasattr(request, "FILES"):
            source = request.FILES.get("file")
        if hasattr(source, "read"):  # a multipart file upload
            source = source_text(source.read())
        if not isinstance(source, str) or not source.strip():
            return Response(
                {"message": "Validation error", "extra": {"fields": {"source": ["required"]}}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        blueprint = blueprint_create(source=source)
        data = BlueprintSerializer(blueprint, context=self._context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PlanRequestSerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def plan(self, request, name: str):
        body = PlanRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = blueprint_plan(
            blueprint=blueprint_get(name=name), params=body.validated_data["params"]
        )
        return Response(plan.as_dict())

    @extend_schema(request=PlanRequestSerializer, responses={200: dict, 201: dict})
    @action(detail=True, methods=["post"])
    def instantiate(self, request, name: str):
        body = PlanRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = blueprint_instantiate(
            blueprint=blueprint_get(name=name),
            params=body.validated_data["params"],
            apply=body.validated_data["apply"],
        )
        code = status.HTTP_201_CREATED if plan.applied and plan.counts["create"] else 200
        return Response(plan.as_dict(), status=code)


class BlueprintInstanceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = BlueprintInstance.objects.select_related("site", "blueprint")
    serializer_class = BlueprintInstanceSerializer


blueprint_list_view = BlueprintViewSet.as_view({"get": "list", "post": "create"})
blueprint_detail_view = BlueprintViewSet.as_view({"get": "retrieve"})
urlpatterns = [
    path(
        "blueprints/instances/",
        BlueprintInstanceViewSet.as_view({"get": "list"}),
        name="blueprints-blueprintinstance-list",
    ),
    path(
        "blueprints/instances/<int:pk>/",
        BlueprintInstanceViewSet.as_view({"get": "retrieve"}),
        name="blueprints-blueprintinstance-detail",
    ),
    path("blueprints/", blueprint_list_view, name="blueprints-blueprint-list"),
    path("blueprints/<slug:name>/", blueprint_detail_view, name="blueprints-blueprint-detail"),
    path(
        "blueprints/<slug:name>/plan/",
        BlueprintViewSet.as_view({"post": "plan"}),
        name="blueprints-blueprint-plan",
    ),
    path(
        "blueprints/<slug:name>/instantiate/",
        BlueprintViewSet.as_view({"post": "instantiate"}),
        name="blueprints-blueprint-instantiate",
    ),
]
