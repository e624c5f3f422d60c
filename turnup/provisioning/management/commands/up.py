"""``turnup up LON-01``: turn a site's routers up and follow it live.

turnup up LON-01                  start (the site must be approved) and show progress per router
turnup up LON-01 --approve        move a planned/designed site to approved first (checks apply)
turnup up LON-01 --overwrite      replace routers that are not in factory state
turnup up LON-01 --no-wait        print the run id and return
turnup up --run 12                follow an existing run
turnup up DEMO-01 --approve --if-new --wait-console 60   (what `make run` does for the demo)

Exit status: 0 when the run succeeded, 1 when it failed or was cancelled, 2 when it could
not start (the message says why: failed checks list their findings), 3 when ``--timeout``
passed while the run went on (it still does: follow it again with ``--run``).
"""

from __future__ import annotations

import math
import time

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from turnup.core.errors import ApplicationError
from turnup.dcim.models import Site
from turnup.dcim.services import site_transition
from turnup.provisioning.models import Run, RunStatus
from turnup.provisioning.selectors import run_progress
from turnup.provisioning.services import run_start

FINDINGS_SHOWN = 10  # a router's missing statements listed (the run's archive step has them all)
STYLES = {"done": "green", "failed": "red", "running": "yellow", "skipped": "dim", "pending": ""}


def _size(n: int) -> str:
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} B"


def progress_table(run: Run) -> Table:
    table = Table(title=f"run {run.pk} · {run.site.name} · {run.status}", expand=False)
    for column in ("router", "stage", "step", "status", "bytes", "elapsed", "detail"):
        table.add_column(column, no_wrap=column != "detail")
    for item in run_progress(run=run):
        detail = item.reason and f"{item.reason}: {item.message}" or item.message
        if not detail and item.log_tail and item.status == "running":
            detail = item.log_tail[-1]
        table.add_row(
            item.device,
            str(item.stage),
            f"{item.step} ({item.steps_done}/{item.steps_total})",
            f"[{STYLES.get(item.status, '')}]{item.status}[/]",
            f"{_size(item.bytes_pushed)} / {_size(item.bytes_total)}",
            f"{item.elapsed:.1f} s",
            (detail or "")[:80],
        )
    return table


class Command(BaseCommand):
    help = "Turn a site's routers up (bootstrap over the console, then management) and follow it."

    def add_arguments(self, parser):
        parser.add_argument("site", nargs="?", help="site name or slug")
        parser.add_argument("--run", type=int, help="follow this run instead of starting one")
        parser.add_argument("--approve", action="store_true", help="approve the site first")
        parser.add_argument("--overwrite", action="store_true")
        parser.add_argument("--no-wait", action="store_true")
        parser.add_argument(
            "--timeout",
            type=float,
            default=3600.0,
            metavar="SECONDS",
            help="stop following the run after this long (the run goes on; exit status 3)",
        )
        parser.add_argument(
            "--if-new", action="store_true", help="do nothing if the site was turned up before"
        )
        parser.add_argument(
            "--wait-console",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="first wait until the site's console servers accept connections",
        )

    def handle(self, *args, site=None, run=None, approve=False, overwrite=False, **options):
        console = Console(file=self.stdout._out, force_terminal=None)
        if not (math.isfinite(options["timeout"]) and options["timeout"] > 0):
            raise CommandError(f"--timeout {options['timeout']}: give a number of seconds above 0")
        if not (math.isfinite(options["wait_console"]) and options["wait_console"] >= 0):
            raise CommandError(
                f"--wait-console {options['wait_console']}: give a number of seconds, 0 or more"
            )
        if run is not None:
            the_run = Run.objects.filter(pk=run).select_related("site").first()
            if the_run is None:
                raise CommandError(f"no run {run}")
        else:
            if not site:
                raise CommandError("give a site (or --run ID)")
            found = Site.objects.filter(name=site).first() or Site.objects.filter(slug=site).first()
            if found is None:
                raise CommandError(f"no site {site!r}")
            if options["if_new"] and Run.objects.filter(site=found).exists():
                self.stdout.write(
                    f"{found.name} was turned up before (see its runs); nothing to do"
                )
                return
            if options["wait_console"]:
                self._wait_console(found, options["wait_console"])
            try:
                if approve:
                    for status in ("designed", "approved"):
                        found.refresh_from_db()
                        if found.status in ("planned", "designed") and found.status != status:
                            site_transition(site=found, to_status=status)
                the_run = run_start(site=found, overwrite=overwrite)
            except ApplicationError as error:
                self.stderr.write(f"cannot turn {found.name} up: {error.message}")
                for problem in error.extra.get("problems", [])[1:]:
                    self.stderr.write(f"  {problem}")
                raise SystemExit(2) from None
            console.print(f"run {the_run.pk} started for {found.name}")
        if options["no_wait"]:
            self.stdout.write(str(the_run.pk))
            return
        deadline = time.monotonic() + options["timeout"]
        if not console.is_terminal:
            the_run = self._follow_plain(the_run, deadline)
        else:
            the_run = self._follow_live(the_run, deadline, console)
        self._result(the_run, console)

    def _wait_console(self, site: Site, seconds: float) -> None:
        import socket

        from turnup.dcim.selectors import site_console_paths

        deadline = time.monotonic() + seconds
        for path in site_console_paths(site=site).values():
            while True:
                try:
                    socket.create_connection((path.host, path.port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        self.stderr.write(f"console server {path.host}:{path.port} not answering")
                        return
                    time.sleep(0.5)

    def _follow_plain(self, the_run: Run, deadline: float) -> Run:
        seen: dict[str, tuple] = {}
        while True:
            the_run = Run.objects.select_related("site").get(pk=the_run.pk)
            for item in run_progress(run=the_run):
                key = (item.step, item.status)
                if seen.get(item.device) != key:
                    seen[item.device] = key
                    detail = f" {item.reason}: {item.message}" if item.reason else ""
                    self.stdout.write(
                        f"{item.device}: {item.step} {item.status} "
                        f"({item.bytes_pushed}/{item.bytes_total} B, {item.elapsed:.1f} s){detail}"
                    )
            if the_run.is_finished or time.monotonic() > deadline:
                return the_run
            time.sleep(1.0)

    def _follow_live(self, the_run: Run, deadline: float, console: Console) -> Run:
        with Live(progress_table(the_run), console=console, refresh_per_second=2) as live:
            while True:
                the_run = Run.objects.select_related("site").get(pk=the_run.pk)
                live.update(progress_table(the_run))
                if the_run.is_finished or time.monotonic() > deadline:
                    return the_run
                time.sleep(0.5)

    def _result(self, the_run: Run, console: Console) -> None:
        if not the_run.is_finished:
            self.stderr.write(
                f"run {the_run.pk} is still {the_run.status} after --timeout; it goes on: "
                f"follow it with `turnup up --run {the_run.pk}`"
            )
            raise SystemExit(3)
        findings = the_run.summary.get("findings") or {}
        for name, missing in sorted(findings.items()):
            self.stderr.write(
                f"{name}: {len(missing)} rendered statement(s) not in its running config"
            )
            for statement in missing[:FINDINGS_SHOWN]:
                self.stderr.write(f"  {statement}")
        if the_run.status == RunStatus.SUCCEEDED:
            console.print(
                f"[green]{the_run.site.name} is live[/] ({the_run.summary.get('seconds')} s)"
            )
            return
        failed = the_run.summary.get("failed") or []
        devices = the_run.summary.get("devices", {})
        self.stderr.write(
            f"run {the_run.pk} {the_run.status}: {len(failed)} router(s) not turned up"
        )
        for name in failed:
            entry = devices.get(name, {})
            what = " ".join(str(entry.get(k, "")) for k in ("step", "reason", "message"))
            self.stderr.write(f"  {name}: {what}")
        raise SystemExit(1)
