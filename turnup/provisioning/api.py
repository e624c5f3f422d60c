"""REST API of provisioning: serializers and thin viewsets."""

urlpatterns: list = []
