"""Helpers to run turnup's own commands as real processes in tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def turnup_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a child turnup process: embedded defaults under ``data_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TURNUP_", "CELERY_"))}
    env.update(
        TURNUP_DATA_DIR=str(data_dir),
        DATABASE_URL="",
        REDIS_URL="",
        SECRET_KEY="test-only-not-secret",
        TURNUP_SECRETS_KEY="test-only-not-secret",
        PYTHONPATH=str(ROOT),
    )
    env.update(overrides)
    return env


def shared_database_url() -> str:
    """The URL of this test run's database, for a child process to share it (PostgreSQL:
    an in-memory SQLite database cannot be shared)."""
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def turnup(*argv: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "turnup.cli", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_worker(env: dict[str, str], concurrency: int = 4) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "turnup",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
