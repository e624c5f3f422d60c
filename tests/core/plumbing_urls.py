"""A throw-away API over auth Group, to test the shared viewset without any app's models."""

from django.contrib.auth.models import Group
from django.urls import include, path

from turnup.core.api import BriefModelSerializer, BulkRouter, TurnupModelViewSet


class GroupSerializer(BriefModelSerializer):
    class Meta:
        model = Group
        fields = ("id", "url", "display", "name")
        brief_fields = ("id", "display")


class GroupViewSet(TurnupModelViewSet):
    queryset = Group.objects.order_by("id")
    serializer_class = GroupSerializer


router = BulkRouter()
router.register("test/groups", GroupViewSet)
urlpatterns = [path("api/", include(router.urls)), path("", include("turnup.urls"))]
