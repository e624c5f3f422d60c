"""``turnup events``: the Faust worker of the event bus — it applies other systems' messages
(hardware delivered, site ready) and publishes turnup's events from the outbox.

turnup events                 run the worker (KAFKA_BOOTSTRAP_SERVERS must be set)
turnup events --loglevel info
turnup events --prune [--days N]   delete published events and inbound records older than
                                   N days (EVENTS_RETENTION_DAYS), once, and exit
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MAX_RETENTION_DAYS = 36500  # a hundred years: a date that far back still exists


class Command(BaseCommand):
    help = "Run the Faust worker: consume the inbound topics, publish the outbox to Kafka."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--loglevel", default="info", choices=["debug", "info", "warn", "error"]
        )
        parser.add_argument(
            "--prune",
            action="store_true",
            help="delete what is older than the retention once (the worker does it hourly)",
        )
        parser.add_argument(
            "--days", type=int, default=None, help="with --prune: instead of the retention"
        )

    def handle(self, *args, loglevel: str, prune: bool, days: int | None, **options) -> None:
        if prune:
            from turnup.events.services import events_prune_expired

            if days is not None and days < 1:
                raise CommandError("--days must be 1 or more")
            if days is not None and days > MAX_RETENTION_DAYS:
                raise CommandError(f"--days must be {MAX_RETENTION_DAYS} or less")
            pruned = events_prune_expired(days=days)
            self.stdout.write(
                f"pruned {pruned['outbox']} published event(s) and "
                f"{pruned['inbound']} inbound record(s)"
            )
            return
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
