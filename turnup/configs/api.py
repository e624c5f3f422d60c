"""REST API of configs.

- ``GET  /api/devices/{id}/config/?kind=bootstrap|full[&raw=1]`` — rendered from the current
  design and linted (nothing stored); ``raw=1`` answers the text alone (text/plain).
- ``POST /api/sites/{id}/render/`` — render, lint and version every router of the site.
- ``GET  /api/config-versions/?device_id=&kind=&site_id=`` — versions, newest first;
  ``GET /api/config-versions/{id}/`` adds the stored text;
  ``GET /api/config-versions/{id}/diff/?against={id}`` — unified diff (``against`` = old).
- ``/api/configs/templates/`` — template overrides (CRUD, change-logged).
"""

from __future__ import annotations

import django_filters
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from turnup.configs.context import KINDS
from turnup.configs.models import ConfigTemplate, ConfigVersion
from turnup.configs.selectors import (
    config_version_diff,
    config_version_list,
    config_version_text,
    device_render,
)
from turnup.configs.services import site_render
from turnup.core.api import BriefModelSerializer, BulkRouter, TurnupModelViewSet
from turnup.core.context import bind_actor, unbind_actor
from turnup.core.errors import ApplicationError
from turnup.core.filters import SearchFilterSet, ids
from turnup.core.validation import id_value
from turnup.dcim.models import Device, Site


class FindingSerializer(serializers.Serializer):
    severity = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    object_name = serializers.CharField()
    message = serializers.CharField()
    rule = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)


class RenderedConfigSerializer(serializers.Serializer):
    device_id = serializers.IntegerField()
    hostname = serializers.CharField()
    platform = serializers.CharField()
    kind = serializers.CharField()
    template = serializers.CharField()
    size = serializers.IntegerField()
    lines = serializers.IntegerField()
    sha256 = serializers.CharField()
    ok = serializers.BooleanField()
    findings = FindingSerializer(many=True)
    text = serializers.CharField()


def _kind(request) -> str:
    kind = request.query_params.get("kind", "full")
    if kind not in KINDS:
        raise ApplicationError(
            f"kind must be one of {', '.join(KINDS)}", extra={"fields": {"kind": [kind]}}
        )
    return kind


@extend_schema(
    parameters=[
        OpenApiParameter("kind", str, enum=list(KINDS)),
        OpenApiParameter("raw", bool),
    ],
    responses=RenderedConfigSerializer,
)
@api_view(["GET"])
def device_config(request, pk: int):
    """The device's config of ``kind``, rendered from the current design and linted."""
    device = get_object_or_404(Device.objects.select_related("site"), pk=pk)
    config = device_render(device=device)[_kind(request)]
    if request.query_params.get("raw", "").lower() in ("1", "true", "yes"):
        response = HttpResponse(config.text, content_type="text/plain; charset=utf-8")
        response["X-Config-SHA256"] = config.sha256
        return response
    return Response(RenderedConfigSerializer(config).data)


class VersionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    created = serializers.BooleanField()


@extend_schema(request=None, responses={200: dict})
@api_view(["POST"])
def site_render_view(request, pk: int):
    """Render, lint and version every router of the site; answers what changed."""
    site = get_object_or_404(Site, pk=pk)
    token = bind_actor(request.user)
    try:
        result = site_render(site=site)
    finally:
        unbind_actor(token)
    versions = {(v.device_id, v.kind): (v, created) for v, created in result.versions}
    configs = []
    for config in result.configs:
        version, created = versions.get((config.device_id, config.kind), (None, False))
        configs.append(
            {
                "device_id": config.device_id,
                "hostname": config.hostname,
                "kind": config.kind,
                "template": config.template,
                "size": config.size,
                "sha256": config.sha256,
                "ok": config.ok,
                "findings": [f.as_dict() for f in config.findings],
                "version_id": version.pk if version else None,
                "new_version": created,
            }
        )
    return Response(
        {
            "site": {"id": site.pk, "name": site.name},
            "configs": configs,
            "changed": result.changed,
            "lint_errors": result.lint_errors,
            "problems": result.problems,
        }
    )


class ConfigVersionSerializer(serializers.ModelSerializer):
    lint_errors = serializers.IntegerField(read_only=True)

    class Meta:
        model = ConfigVersion
        fields = (
            "id",
            "device",
            "hostname",
            "kind",
            "sha256",
            "size",
            "lines",
            "author",
            "created",
            "design_change_id",
            "template",
            "storage_path",
            "lint_errors",
            "findings",
        )


class ConfigVersionDetailSerializer(ConfigVersionSerializer):
    text = serializers.SerializerMethodField()

    class Meta(ConfigVersionSerializer.Meta):
        fields = (*ConfigVersionSerializer.Meta.fields, "text")

    def get_text(self, obj) -> str:
        return config_version_text(version=obj)


class ConfigVersionFilterSet(django_filters.FilterSet):
    device_id = ids("device_id")
    site_id = ids("device__site_id")
    kind = django_filters.ChoiceFilter(choices=ConfigVersion.Kind.choices)

    class Meta:
        model = ConfigVersion
        fields = ("device_id", "site_id", "kind", "sha256")


class ConfigVersionViewSet(viewsets.ReadOnlyModelViewSet):
    """Rendered config versions, newest first."""

    queryset = config_version_list()
    serializer_class = ConfigVersionSerializer
    filterset_class = ConfigVersionFilterSet

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ConfigVersionDetailSerializer
        return ConfigVersionSerializer

    @extend_schema(
        parameters=[OpenApiParameter("against", int, required=True)], responses={200: dict}
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """Unified diff from version ``against`` (old) to this one."""
        version = self.get_object()
        try:
            against_id = id_value(request.query_params.get("against", ""))
        except ValueError as error:
            raise ApplicationError(
                "against: the id of the version to compare with",
                extra={"fields": {"against": [f"required, {error}"]}},
            ) from None
        against = get_object_or_404(ConfigVersion, pk=against_id)
        diff = config_version_diff(version=version, against=against)
        return Response({"version": version.pk, "against": against.pk, "diff": diff})


class ConfigTemplateSerializer(BriefModelSerializer):
    text = serializers.CharField(trim_whitespace=False)

    class Meta:
        model = ConfigTemplate
        fields = ("id", "url", "display", "path", "text", "enabled", "description", "updated")
        brief_fields = ("id", "url", "display", "path")


class ConfigTemplateFilterSet(SearchFilterSet):
    class Meta:
        model = ConfigTemplate
        fields = ("path", "enabled")
        search_fields = ("path", "description")


class ConfigTemplateViewSet(TurnupModelViewSet):
    """Template overrides; the shipped template at the same path is the fallback."""

    queryset = ConfigTemplate.objects.all()
    serializer_class = ConfigTemplateSerializer
    filterset_class = ConfigTemplateFilterSet


router = BulkRouter()
router.register("configs/templates", ConfigTemplateViewSet)
router.register("config-versions", ConfigVersionViewSet, basename="configs-configversion")

urlpatterns = [
    path("devices/<int:pk>/config/", device_config, name="configs-device-config"),
    path("sites/<int:pk>/render/", site_render_view, name="configs-site-render"),
    *router.urls,
]
