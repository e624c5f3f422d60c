from django.apps import AppConfig


class DcimConfig(AppConfig):
    name = "turnup.dcim"
    label = "dcim"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from turnup.core.changelog import changelog_guard_register
        from turnup.dcim.services import site_design_freeze_check

        changelog_guard_register(site_design_freeze_check)
