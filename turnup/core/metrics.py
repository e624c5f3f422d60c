"""Prometheus metrics. Every app declares its metrics here, once."""

from prometheus_client import Counter, Gauge, Histogram

REQUEST_LATENCY = Histogram(
    "turnup_http_request_seconds",
    "HTTP request latency by method, route and status.",
    ["method", "route", "status"],
)
TASKS = Counter(
    "turnup_tasks_total",
    "Background tasks finished, by task name and outcome.",
    ["task", "outcome"],
)
EVENTS_PENDING = Gauge(
    "turnup_events_outbox_pending",
    "Events recorded but not yet published to Kafka (read from the database at each scrape; "
    "a number that keeps growing means no events worker, or a broker that refuses them).",
)
