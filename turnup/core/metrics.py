"""Prometheus metrics. Every app declares its metrics here, once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.db import DatabaseError
from prometheus_client import REGISTRY, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

log = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "turnup_http_request_seconds",
    "HTTP request latency by method, route and status.",
    ["method", "route", "status"],
)
EVENTS_PENDING = Gauge(
    "turnup_events_outbox_pending",
    "Events recorded but not yet published to Kafka (read from the database at each scrape; "
    "a number that keeps growing means no events worker, or a broker that refuses them).",
)


class TurnupCollector:
    """Turn-ups as the database records them, read at each scrape: every web process tells
    the same numbers, whichever worker did the work, and a worker's restart loses none.
    ``set_source`` gives it the read (``provisioning.selectors.turnup_totals``); a database
    that is away leaves these families out and ``/metrics`` still answers."""

    def __init__(self) -> None:
        self.source: Callable[[], Any] | None = None

    def set_source(self, source: Callable[[], Any]) -> None:
        self.source = source

    def describe(self) -> Iterator[Metric]:
        return iter(self._families())

    def collect(self) -> Iterator[Metric]:
        if self.source is None:
            return iter(())
        try:
            totals = self.source()
        except DatabaseError as error:
            log.warning("metrics: turn-up totals not read: %s", error)
            return iter(())
        return iter(self._families(totals))

    @staticmethod
    def _families(totals: Any = None) -> list[Metric]:
        runs = GaugeMetricFamily(
            "turnup_runs", "Turn-up runs on record, by status.", labels=["status"]
        )
        steps = GaugeMetricFamily(
            "turnup_steps",
            "Router steps of every run on record, by step and status (a retry takes a failed "
            "step back to pending).",
            labels=["step", "status"],
        )
        failures = GaugeMetricFamily(
            "turnup_step_failures",
            "Failed router steps, by step and the failure's reason (line_busy, no_answer, "
            "auth_failed, ...).",
            labels=["step", "reason"],
        )
        seconds = HistogramMetricFamily(
            "turnup_step_seconds",
            "How long the router steps that are done took, by step.",
            labels=["step"],
        )
        lines = GaugeMetricFamily(
            "turnup_console_lines_held",
            "Console lines a turn-up session holds now, by console server.",
            labels=["server"],
        )
        if totals is not None:
            for status, n in totals.runs.items():
                runs.add_metric([status], n)
            for (step, status), n in totals.steps.items():
                steps.add_metric([step, status], n)
            for (step, reason), n in totals.failures.items():
                failures.add_metric([step, reason], n)
            for step, done in totals.seconds.items():
                bounds = zip(totals.buckets, done.buckets, strict=True)
                buckets = [(floatToGoString(bound), n) for bound, n in bounds]
                buckets.append(("+Inf", done.count))
                seconds.add_metric([step], buckets, sum_value=done.total)
            for server, n in totals.lines_held.items():
                lines.add_metric([server], n)
        return [runs, steps, failures, seconds, lines]


TURNUPS = TurnupCollector()
REGISTRY.register(TURNUPS)
