from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "turnup.events"
    label = "events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db import DatabaseError

        from turnup.core.metrics import EVENTS_PENDING
        from turnup.events.selectors import outbox_pending_count

        def pending() -> float:
            try:
                return outbox_pending_count()
            except DatabaseError:  # the database is away: /metrics still answers
                return float("nan")

        EVENTS_PENDING.set_function(pending)

    def run_processes(self) -> list:
        """What ``turnup run`` (``make run``) adds: the Faust worker, when a Kafka broker is
        set (without one, events wait in the outbox)."""
        import sys

        from django.conf import settings

        from turnup.core.management.commands.run import Process

        if not settings.KAFKA_BOOTSTRAP_SERVERS:
            return []
        return [Process("events", [sys.executable, "-m", "turnup.cli", "events"])]
