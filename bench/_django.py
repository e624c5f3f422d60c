"""Shared set-up for benchmarks: Django on a throw-away database, created and dropped here.

Benchmarks run against ``BENCH_DATABASE_URL`` (default: the local PostgreSQL), never against
the database of a running turnup: they create ``test_<name>`` from it and drop it afterwards,
so the default name is the benchmarks' own (``test_turnup_bench``), not ``test_test``, which
``make test`` creates from ``test``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/turnup_bench"
)
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("TURNUP_SECRETS_KEY", "bench-only")
os.environ.setdefault("TURNUP_DATA_DIR", str(ROOT / "var" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "turnup.settings")
os.environ["LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """Create ``test_<name>`` with all migrations applied; drop it afterwards."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def max_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
