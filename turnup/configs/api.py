"""REST API of configs: serializers and thin viewsets."""

urlpatterns: list = []
