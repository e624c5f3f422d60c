from django.apps import AppConfig


class BlueprintsConfig(AppConfig):
    name = "turnup.blueprints"
    label = "blueprints"
    default_auto_field = "django.db.models.BigAutoField"
