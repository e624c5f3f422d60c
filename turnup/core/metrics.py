"""Prometheus metrics. Every app declares its metrics here, once."""

from prometheus_client import Counter, Histogram

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
