"""Liveness and readiness: is the process up, can it reach its database and broker?"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from kombu import Connection


def check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "vendor": connection.vendor}


def check_broker(url: str | None = None, timeout: float = 2.0) -> dict[str, Any]:
    url = url or settings.CELERY_BROKER_URL
    transport = url.split("://", 1)[0]
    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "transport": transport, "error": f"{type(error).__name__}: {error}"}
    return {"ok": True, "transport": transport}


def readiness() -> tuple[bool, dict[str, Any]]:
    checks = {"database": check_database(), "broker": check_broker()}
    ready = all(check["ok"] for check in checks.values())
    failing = [name for name, check in checks.items() if not check["ok"]]
    return ready, {
        "status": "ready" if ready else "unavailable",
        "failing": failing,
        "checks": checks,
    }
