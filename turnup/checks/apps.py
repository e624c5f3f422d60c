from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "turnup.checks"
    label = "checks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from turnup.checks.services import preflight_guard
        from turnup.dcim.services import site_transition_guard_register

        site_transition_guard_register(preflight_guard)
