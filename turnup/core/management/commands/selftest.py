import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from turnup.core.workflows import selftest_graph

MAX_WIDTH = 1000  # a diagnostic: enough to use every worker thread, not a load test


class Command(BaseCommand):
    help = "Send a diagnostic chord through the broker and wait for a worker to settle it."

    def add_arguments(self, parser):
        parser.add_argument("--width", type=int, default=4, help="parallel tasks in the chord")
        parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait")

    def handle(self, *args, width: int, timeout: float, **options):
        if not 1 <= width <= MAX_WIDTH:
            raise CommandError(f"--width must be from 1 to {MAX_WIDTH}")
        if not timeout > 0:
            raise CommandError("--timeout must be more than 0 seconds")
        result = selftest_graph(width)
        try:
            outcome = result.get(timeout=timeout)
        except Exception as error:
            raise CommandError(
                f"chord did not settle within {timeout:.0f}s on broker "
                f"{settings.CELERY_BROKER_URL.split('://')[0]}: {error}"
            ) from error
        if outcome["indexes"] != list(range(width)):
            raise CommandError(f"chord lost work: {outcome}")
        self.stdout.write(json.dumps(outcome))
