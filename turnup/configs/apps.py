from django.apps import AppConfig


class ConfigsConfig(AppConfig):
    name = "turnup.configs"
    label = "configs"
    default_auto_field = "django.db.models.BigAutoField"
