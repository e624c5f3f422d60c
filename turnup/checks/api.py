"""REST API of checks: serializers and thin viewsets."""

urlpatterns: list = []
