"""``turnup run``: the web app, a worker (and the lab) as one foreground command.

One Ctrl-C (SIGINT) or SIGTERM stops them all; if one of them dies, the others are
stopped too and the command exits non-zero, so a supervisor sees the failure.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 10


@dataclass(frozen=True)
class Process:
    name: str
    argv: list[str]
    oneshot: bool = False  # a job that ends by itself (its exit stops nothing else)


def processes(*, bind: str, concurrency: int, extra: list[Process]) -> list[Process]:
    python = sys.executable
    return [
        Process(
            "web",
            [
                python,
                "-m",
                "gunicorn",
                "turnup.wsgi",
                "--bind",
                bind,
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "16",
                "--timeout",
                "120",
                "--access-logfile",
                "-",
            ],
        ),
        Process(
            "worker",
            [
                python,
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
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        ),
        *extra,
    ]


class Command(BaseCommand):
    help = "Start the web app on 127.0.0.1:8000 and a Celery worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000")

    def extra_processes(self) -> list[Process]:
        """Processes other apps add to the foreground set (the lab, the event agents): every
        installed app config with a ``run_processes()`` method contributes (core imports no
        app)."""
        from django.apps import apps

        extra: list[Process] = []
        for config in apps.get_app_configs():
            if hasattr(config, "run_processes"):
                extra.extend(config.run_processes())
        return extra

    def handle(self, *args, bind: str, **options):
        plan = processes(
            bind=bind, concurrency=settings.CELERY_WORKER_CONCURRENCY, extra=self.extra_processes()
        )
        running: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(signum, frame):  # noqa: ARG001
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for proc in plan:
            running[proc.name] = subprocess.Popen(proc.argv, start_new_session=True)
            self.stdout.write(f"started {proc.name} (pid {running[proc.name].pid})")
        self.stdout.write(self.style.SUCCESS(f"turnup is up on http://{bind}/ — Ctrl-C stops it."))

        failed = None
        oneshots = {proc.name for proc in plan if proc.oneshot}
        while not stopping and failed is None:
            for name, popen in running.items():
                if popen.poll() is not None:
                    if name in oneshots:
                        oneshots.discard(name)
                        self.stdout.write(f"{name} finished (exit code {popen.returncode})")
                        continue
                    if name not in {proc.name for proc in plan if proc.oneshot}:
                        failed = name
                        break
            time.sleep(0.2)

        for popen in running.values():
            if popen.poll() is None:
                popen.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for popen in running.values():
            try:
                popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait()
        if failed:
            self.stderr.write(
                f"{failed} exited with code {running[failed].returncode}; stopped the rest."
            )
            raise SystemExit(1)
        self.stdout.write("stopped.")
