"""The dcim API and the change log alone, so these tests do not depend on other apps' URLs."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("turnup.core.api")),
    path("api/", include("turnup.dcim.api")),
]
