"""REST API of checks: ``GET /api/sites/{id}/checks/`` (the site's preflight findings) and
``GET /api/checks/rules/`` (the rules)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from turnup.checks.selectors import rule_list, site_check_report
from turnup.dcim.models import Site


class SiteChecksView(APIView):
    """The preflight findings of one site: ``passed`` is false when any is an error."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request, pk: int):
        site = get_object_or_404(Site, pk=pk)
        return Response(site_check_report(site=site))


class RuleListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(rule_list())


urlpatterns = [
    path("sites/<int:pk>/checks/", SiteChecksView.as_view(), name="site-checks"),
    path("dcim/sites/<int:pk>/checks/", SiteChecksView.as_view(), name="dcim-site-checks"),
    path("checks/rules/", RuleListView.as_view(), name="checks-rules"),
]
