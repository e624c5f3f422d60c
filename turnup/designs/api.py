"""REST: a site's whole design as one YAML document, out and in.

``GET /api/designs/{site slug}/`` answers the document (YAML; JSON with ``?format=json``);
``POST /api/designs/`` with a YAML body (``Content-Type: application/yaml``) creates the site.
"""

from __future__ import annotations

import yaml
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, renderers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from turnup.core.context import bind_actor, unbind_actor
from turnup.dcim.models import Site
from turnup.designs.selectors import site_document_export
from turnup.designs.services import site_document_import


class YAMLRenderer(renderers.BaseRenderer):
    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


class PlainTextParser(parsers.BaseParser):
    """Takes the request body as it is: the service decodes and parses it (by line), so a body
    that is not UTF-8 or not YAML answers 400 naming the line and the reason."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class SiteDesignView(APIView):
    renderer_classes = [YAMLRenderer, renderers.JSONRenderer]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="A site's design document")
    def get(self, request, slug: str):
        site = get_object_or_404(Site, slug=slug)
        response = Response(site_document_export(site=site))
        if request.accepted_renderer.format == "yaml":
            response["Content-Disposition"] = f'attachment; filename="{site.slug}.yaml"'
        return response


class SiteDesignImportView(APIView):
    parser_classes = [PlainTextParser]
    renderer_classes = [renderers.JSONRenderer]

    @extend_schema(
        request={"application/yaml": OpenApiTypes.STR},
        responses={201: OpenApiTypes.OBJECT},
        summary="Create a site from a design document",
    )
    def post(self, request):
        body = request.data  # bytes; an empty body arrives as an empty dict
        token = bind_actor(request.user)
        try:
            site = site_document_import(text=body if isinstance(body, bytes) else b"")
        finally:
            unbind_actor(token)
        return Response(
            {"id": site.pk, "name": site.name, "slug": site.slug}, status=status.HTTP_201_CREATED
        )


urlpatterns = [
    path("designs/", SiteDesignImportView.as_view(), name="designs-import"),
    path("designs/<slug:slug>/", SiteDesignView.as_view(), name="designs-export"),
]
