"""Logging, metrics and error reporting shared by every process (web, worker, lab)."""

from __future__ import annotations

import json
import logging
from typing import Any

from turnup.core.context import current_request_id

SECRET_KEYS = ("password", "passwd", "secret", "token", "key", "authorization", "cookie")
MASK = "********"


class RequestIdFilter(logging.Filter):
    """Stamp every record with the id of the request (or task) it belongs to."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    formatter = (
        {"()": "turnup.core.observability.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "turnup.core.observability.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "WARNING"}},
    }


def scrub(data: Any) -> Any:
    """Replace the values of secret-looking keys, recursively, in dicts and lists."""
    if isinstance(data, dict):
        return {
            key: MASK if any(word in str(key).lower() for word in SECRET_KEYS) else scrub(value)
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [scrub(item) for item in data]
    return data


def _before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    return scrub(event)


def init_sentry(*, dsn: str, environment: str) -> None:
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        before_send=_before_send,
    )
