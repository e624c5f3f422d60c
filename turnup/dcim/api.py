"""REST API of dcim: serializers and thin viewsets."""

urlpatterns: list = []
