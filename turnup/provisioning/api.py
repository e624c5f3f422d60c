"""REST API of provisioning: serializers and thin views.

POST /api/sites/{id}/turnup/        {"overwrite": false} → 202 {"run_id": …}; 409 + findings
GET  /api/runs/?site_id=            runs, newest first
GET  /api/runs/{id}/                a run with its steps and per-device progress
POST /api/runs/{id}/cancel/         stop at a safe point
POST /api/runs/{id}/retry-failed/   turn the failed routers up again
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from turnup.core.validation import BIGINT_MAX
from turnup.dcim.models import Site
from turnup.provisioning import selectors, services
from turnup.provisioning.models import Run, Step


class StepSerializer(serializers.ModelSerializer):
    device_name = serializers.CharField(source="device.name", read_only=True)

    class Meta:
        model = Step
        fields = [
            "id",
            "device",
            "device_name",
            "stage",
            "order",
            "name",
            "status",
            "attempts",
            "started",
            "finished",
            "seconds",
            "time_limit",
            "bytes_pushed",
            "bytes_total",
            "reason",
            "message",
            "log",
            "phases",
            "result",
        ]
        read_only_fields = fields


class RunSerializer(serializers.ModelSerializer):
    site_name = serializers.CharField(source="site.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", default="")

    class Meta:
        model = Run
        fields = [
            "id",
            "site",
            "site_name",
            "status",
            "requested_by",
            "overwrite",
            "cancel_requested",
            "created",
            "started",
            "finished",
            "graphs",
            "summary",
        ]
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    steps = StepSerializer(many=True, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "progress", "steps"]
        read_only_fields = fields

    def get_progress(self, run: Run) -> list[dict]:
        return selectors.run_progress_dict(run=run)


class TurnupStartSerializer(serializers.Serializer):
    overwrite = serializers.BooleanField(default=False)


class RunListQuerySerializer(serializers.Serializer):
    site_id = serializers.IntegerField(required=False, min_value=1, max_value=BIGINT_MAX)


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if self.action == "list":
            query = RunListQuerySerializer(data=self.request.query_params)
            query.is_valid(raise_exception=True)
            return selectors.run_list(site_id=query.validated_data.get("site_id"))
        return selectors.run_with_steps()

    def get_serializer_class(self):
        return RunSerializer if self.action == "list" else RunDetailSerializer

    @extend_schema(
        parameters=[OpenApiParameter("site_id", int, description="only this site's runs")]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: RunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = services.run_cancel(run=self.get_object())
        return Response(RunSerializer(run).data)

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        run = services.run_retry_failed(run=self.get_object())
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class SiteTurnupView(APIView):
    """Start turning a site up; 409 with the preflight findings when its checks fail."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=TurnupStartSerializer, responses={202: dict})
    def post(self, request, pk: int):
        site = get_object_or_404(Site, pk=pk)
        data = TurnupStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.run_start(
            site=site,
            overwrite=data.validated_data["overwrite"],
            requested_by=request.user if request.user.is_authenticated else None,
        )
        return Response(
            {"run_id": run.pk, "status": run.status, "url": f"/api/runs/{run.pk}/"},
            status=status.HTTP_202_ACCEPTED,
        )


router = SimpleRouter()
router.register("runs", RunViewSet, basename="provisioning-run")

urlpatterns = [
    path("sites/<int:pk>/turnup/", SiteTurnupView.as_view(), name="site-turnup"),
    *router.urls,
]
