"""Middleware: a request id for logs and the change log, and Prometheus request metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from turnup.core.context import bind_actor, bind_request_id, unbind_actor, unbind_request_id
from turnup.core.metrics import REQUEST_LATENCY


class RequestIdMiddleware:
    """Take ``X-Request-ID`` from the client (nginx sets one) or make one; echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request.headers.get("X-Request-ID", "")[:64] or uuid.uuid4().hex
        token = bind_request_id(request.request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            return response
        finally:
            unbind_request_id(token)


class MetricsMiddleware:
    """Count requests and time them, labelled by the route (never by the raw path)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match else "unmatched"
        REQUEST_LATENCY.labels(request.method, route, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response


class ActorMiddleware:
    """Bind the logged-in user (session auth) as the actor for services and the change log.

    API requests with token auth are bound again by the API base view, after DRF
    authenticates them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = bind_actor(request.user)
        try:
            return self.get_response(request)
        finally:
            unbind_actor(token)
