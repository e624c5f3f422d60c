"""Decide which services the test run uses; print shell ``export`` lines for ``make test``.

PostgreSQL and Redis are used when they answer at ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``
(defaults: the machines' local ones). When they do not, the run falls back to SQLite and
the embedded broker and says so — unless ``TURNUP_REQUIRE_SERVICES=1``, which makes an
unreachable service a failure.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from urllib.parse import urlparse

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
TRUE = {"1", "true", "yes", "on"}


def reachable(url: str, default_port: int) -> str | None:
    """None when something accepts a connection at the URL's host:port, else the reason."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as error:
        return f"{host}:{port}: {error}"


def main() -> int:
    required = os.environ.get("TURNUP_REQUIRE_SERVICES", "").lower() in TRUE
    database = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE)
    redis = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS)
    exports: dict[str, str] = {}
    problems = []
    for name, url, port, var in (
        ("PostgreSQL", database, 5432, "DATABASE_URL"),
        ("Redis", redis, 6379, "REDIS_URL"),
    ):
        reason = reachable(url, port)
        if reason is None:
            exports[var] = url
            exports[f"TEST_HAS_{name.upper()}"] = "1"
            print(f"tests: using {name} at {url}", file=sys.stderr)
        else:
            exports[var] = ""
            problems.append(f"{name} unreachable ({reason})")
    if problems and required:
        print("tests: TURNUP_REQUIRE_SERVICES=1 but " + "; ".join(problems), file=sys.stderr)
        return 1
    for problem in problems:
        print(f"tests: NOTICE {problem}: falling back to the embedded default", file=sys.stderr)
    for var, value in exports.items():
        print(f"export {var}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
