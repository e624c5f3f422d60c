from django.apps import AppConfig


class DcimConfig(AppConfig):
    name = "turnup.dcim"
    label = "dcim"
    default_auto_field = "django.db.models.BigAutoField"
