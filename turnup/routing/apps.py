from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "turnup.routing"
    label = "routing"
    verbose_name = "Routing design"
    default_auto_field = "django.db.models.BigAutoField"
