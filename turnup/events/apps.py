from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "turnup.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def run_processes(self) -> list:
        """What ``turnup run`` (``make run``) adds: the Faust worker, when a Kafka broker is
        set (without one, events wait in the outbox)."""
        import sys

        from django.conf import settings

        from turnup.core.management.commands.run import Process

        if not settings.KAFKA_BOOTSTRAP_SERVERS:
            return []
        return [Process("events", [sys.executable, "-m", "turnup.cli", "events"])]
