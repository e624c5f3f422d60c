"""REST API of ipam: serializers and thin viewsets."""

urlpatterns: list = []
