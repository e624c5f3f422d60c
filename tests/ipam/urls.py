"""The ipam API with dcim's and the change log, without the other apps' URLs."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("turnup.core.api")),
    path("api/", include("turnup.dcim.api")),
    path("api/", include("turnup.ipam.api")),
]
