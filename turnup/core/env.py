"""Settings read from the environment: declared once, parsed strictly.

Every variable turnup reads is declared in ``SETTINGS`` with its default and a parser.
A malformed value, or a ``TURNUP_*`` variable nobody declared (usually a typo), stops
the process at start with a message that names the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A variable in the environment is malformed or unknown."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"{name}: {reason}")


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean (use true/false, 1/0, yes/no)")


def parse_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value

    return parse


def parse_int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def parse_days(value: str) -> int:
    number = parse_int(value)
    if number < 0:
        raise ValueError(f"{value!r} is not 0 or more days")
    return number


def parse_positive_int(value: str) -> int:
    number = parse_int(value)
    if number < 1:
        raise ValueError(f"{value!r} is less than 1")
    return number


def parse_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number of seconds") from None
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{value!r} is not 0 or more seconds")
    return seconds


def parse_url(*schemes: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not value:
            return ""
        parsed = urlparse(value)
        if parsed.scheme not in schemes:
            raise ValueError(
                f"scheme {parsed.scheme or '(none)'!r} is not supported (use {', '.join(schemes)})"
            )
        if parsed.scheme not in ("sqlite", "sqla+sqlite", "db+sqlite") and not parsed.hostname:
            raise ValueError(f"{value!r} has no host")
        return value

    return parse


HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


def parse_hosts(value: str) -> list[str]:
    hosts = parse_list(value)
    for host in hosts:
        if not HOST_PORT.match(host):
            raise ValueError(f"{host!r} is not host:port")
    return hosts


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default (as text) and what it means."""

    name: str
    default: str
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False


DATABASE_SCHEMES = ("sqlite", "postgres", "postgresql", "pgsql")
BROKER_SCHEMES = ("redis", "rediss", "amqp", "pyamqp", "sqla+sqlite", "sqla+postgresql")
RESULT_SCHEMES = ("redis", "rediss", "db+sqlite", "db+postgresql")

SETTINGS: tuple[Setting, ...] = (
    Setting("DEBUG", "false", "Django debug pages. Never on in production.", parse_bool),
    Setting(
        "SECRET_KEY",
        "",
        "Django secret key. Required unless DEBUG is on; `make run` generates one in "
        "`var/secret-key`.",
        secret=True,
    ),
    Setting("ALLOWED_HOSTS", "127.0.0.1,localhost", "Host names the app answers.", parse_list),
    Setting(
        "TURNUP_DATA_DIR",
        "var",
        "Folder for the embedded defaults: SQLite files, configs archive, lab state.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "Database. Empty: SQLite file `$TURNUP_DATA_DIR/turnup.sqlite3`. "
        "Production: `postgresql://user:pass@host:5432/turnup`.",
        parse_url(*DATABASE_SCHEMES),
        secret=True,
    ),
    Setting(
        "REDIS_URL",
        "",
        "Redis for cache and locks, and the default broker/result backend when set. "
        "Empty: local memory cache, database locks.",
        parse_url("redis", "rediss"),
    ),
    Setting(
        "CELERY_BROKER_URL",
        "",
        "Celery broker. Empty: `REDIS_URL` when set, else the embedded SQLite broker "
        "`sqla+sqlite:///$TURNUP_DATA_DIR/celery-broker.sqlite3`.",
        parse_url(*BROKER_SCHEMES),
        secret=True,
    ),
    Setting(
        "CELERY_RESULT_BACKEND",
        "",
        "Celery result backend (chords need one). Empty: `REDIS_URL` db 1 when set, else "
        "`db+sqlite:///$TURNUP_DATA_DIR/celery-results.sqlite3`.",
        parse_url(*RESULT_SCHEMES),
        secret=True,
    ),
    Setting(
        "CELERY_TASK_ALWAYS_EAGER",
        "false",
        "Run tasks inline in the caller (debugging only; the graph still runs).",
        parse_bool,
    ),
    Setting(
        "KAFKA_BOOTSTRAP_SERVERS",
        "",
        "Kafka brokers (`host:port,host:port`) of the event bus (`turnup events`, the Faust "
        "worker). Empty: events wait in the outbox and `turnup events` refuses to start.",
        parse_hosts,
    ),
    Setting(
        "KAFKA_SESSION_TIMEOUT_SECONDS",
        "10",
        "Kafka consumer-group session timeout of the Faust worker: a worker that stops "
        "answering loses its partitions after this long.",
        parse_seconds,
    ),
    Setting(
        "EVENTS_RETENTION_DAYS",
        "14",
        "Days the event bus keeps published events and inbound message records; the worker "
        "deletes older ones when it starts and hourly (events not yet published are always "
        "kept). 0: keep all.",
        parse_days,
    ),
    Setting(
        "EVENTS_PRUNE_INTERVAL_SECONDS",
        "3600",
        "How often the events worker's leader deletes what is older than "
        "`EVENTS_RETENTION_DAYS` (it also does at start).",
        parse_positive_int,
    ),
    Setting(
        "S3_ENDPOINT_URL",
        "",
        "S3 API endpoint (MinIO, SeaweedFS, AWS). Empty: files under `$TURNUP_DATA_DIR/media`.",
        parse_url("http", "https"),
    ),
    Setting("S3_BUCKET", "turnup", "Bucket for config archives when S3 is on."),
    Setting("S3_ACCESS_KEY_ID", "", "S3 access key.", secret=True),
    Setting("S3_SECRET_ACCESS_KEY", "", "S3 secret key.", secret=True),
    Setting("S3_REGION", "us-east-1", "S3 region name."),
    Setting("SENTRY_DSN", "", "Sentry DSN. Empty: error reporting off.", secret=True),
    Setting("SENTRY_ENVIRONMENT", "production", "Environment name sent to Sentry."),
    Setting(
        "LOG_FORMAT", "text", "`text` or `json` (one object a line).", parse_choice("text", "json")
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        "Root log level.",
        parse_choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
    ),
    Setting(
        "TURNUP_ADMIN_PASSWORD",
        "",
        "Password for the first admin account `make run` creates. Empty: one is generated "
        "and printed once.",
        secret=True,
    ),
    Setting(
        "TURNUP_REQUIRE_SERVICES",
        "false",
        "Tests: an unreachable PostgreSQL/Redis is a failure, not a fallback to SQLite.",
        parse_bool,
    ),
    Setting(
        "TURNUP_SECRETS_KEY",
        "",
        "Key that encrypts the turn-up credentials at rest (Fernet key, or any long random "
        "text; comma-separated list to rotate: the first encrypts, all decrypt). Required "
        "unless DEBUG is on; `make run` generates one in `var/secrets-key`.",
        parse_list,
        secret=True,
    ),
    Setting(
        "TURNUP_WORKER_CONCURRENCY",
        "16",
        "Worker threads of the embedded worker (turn-up work waits on console lines).",
        parse_int,
    ),
    Setting(
        "TURNUP_LLDP_WAIT_SECONDS",
        "35",
        "How long a router's verification waits for LLDP to show the far end of a cable whose "
        "line is up and whose far end runs LLDP already (LLDP advertises every 30 s). 0: "
        "what LLDP shows at once is recorded.",
        parse_seconds,
    ),
    Setting(
        "TURNUP_IOS_RELOAD_TIMER",
        "false",
        "IOS-XE safety net: the console bootstrap ends with `reload in N` (nothing saved), and "
        "`confirm` cancels it before `write memory`; a router never verified reloads to its "
        "saved config by itself (a factory router comes back factory-fresh), as Junos's "
        "`commit confirmed` rolls back.",
        parse_bool,
    ),
    Setting(
        "TURNUP_DB_POOL_SIZE",
        "16",
        "PostgreSQL connections a process (web or worker) keeps in its pool at most; its "
        "threads share them. Size PostgreSQL's `max_connections` for processes × this.",
        parse_positive_int,
    ),
)

KNOWN = {setting.name for setting in SETTINGS}


def read_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parse every declared setting from ``environ``; raise ``SettingError`` on the first bad."""
    environ = os.environ if environ is None else environ
    unknown = sorted(name for name in environ if name.startswith("TURNUP_") and name not in KNOWN)
    if unknown:
        raise SettingError(unknown[0], "unknown setting (see the settings table in README.md)")
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.name, setting.default)
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as error:
            raise SettingError(setting.name, str(error)) from None
    return values


def derived_urls(values: Mapping[str, Any]) -> dict[str, str]:
    """Fill the database and Celery URLs that were left empty from the embedded defaults."""
    data_dir = Path(values["TURNUP_DATA_DIR"]).resolve()
    redis_url = values["REDIS_URL"]
    database = values["DATABASE_URL"] or f"sqlite:///{data_dir / 'turnup.sqlite3'}"
    if redis_url:
        broker = values["CELERY_BROKER_URL"] or _redis_db(redis_url, 0)
        results = values["CELERY_RESULT_BACKEND"] or _redis_db(redis_url, 1)
    else:
        broker = (
            values["CELERY_BROKER_URL"] or f"sqla+sqlite:///{data_dir / 'celery-broker.sqlite3'}"
        )
        results = (
            values["CELERY_RESULT_BACKEND"] or f"db+sqlite:///{data_dir / 'celery-results.sqlite3'}"
        )
    return {"DATABASE_URL": database, "CELERY_BROKER_URL": broker, "CELERY_RESULT_BACKEND": results}


def _redis_db(url: str, db: int) -> str:
    parsed = urlparse(url)
    return parsed._replace(path=f"/{db}").geturl()
