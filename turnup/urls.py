"""URL map: health and metrics, the REST API (one include per app), the admin, the pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from turnup.core import views as core_views
from turnup.core.api import not_found

API_APPS = (
    "core",
    "dcim",
    "ipam",
    "routing",
    "blueprints",
    "designs",
    "checks",
    "configs",
    "provisioning",
    "events",
)

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *[path("api/", include(f"turnup.{app}.api")) for app in API_APPS],
    path("admin/", admin.site.urls),
    path("", include("turnup.web.urls")),
]

# a path under /api/ that no route matches answers the API's JSON error shape
handler404 = not_found
