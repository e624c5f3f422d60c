"""``turnup events``: the Faust worker of the event bus — it applies other systems' messages
(hardware delivered, site ready) and publishes turnup's events from the outbox.

turnup events                 run the worker (KAFKA_BOOTSTRAP_SERVERS must be set)
turnup events --loglevel info
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the Faust worker: consume the inbound topics, publish the outbox to Kafka."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--loglevel", default="info", choices=["debug", "info", "warn", "error"]
        )

    def handle(self, *args, loglevel: str, **options) -> None:
        if not settings.KAFKA_BOOTSTRAP_SERVERS:
            raise CommandError(
                "KAFKA_BOOTSTRAP_SERVERS is empty: set it to the Kafka brokers "
                "(host:port,host:port). Until then events wait in the outbox."
            )
        from turnup.events.agents import app

        # --without-web: the worker's web view would listen on every address (the app's
        # web_enabled=False is overridden by the worker command's default)
        sys.argv = [f"{sys.argv[0]} events", "worker", "--loglevel", loglevel, "--without-web"]
        app.main()
