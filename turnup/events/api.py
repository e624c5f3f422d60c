"""REST API of events: serializers and thin viewsets."""

urlpatterns: list = []
