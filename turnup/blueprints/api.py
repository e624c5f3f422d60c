"""REST API of blueprints: serializers and thin viewsets."""

urlpatterns: list = []
