from django.apps import AppConfig


class DesignsConfig(AppConfig):
    """Whole-site design documents: one YAML file in, one YAML file out."""

    name = "turnup.designs"
    label = "designs"
