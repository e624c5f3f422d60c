"""``turnup render LON-01 [--out DIR] [--no-store]``: render, lint and version every router of a
site, with a progress bar; writes the texts to DIR when given. Exit status 1 when a config has
lint errors or a router could not be rendered."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from turnup.configs.context import KINDS, PLATFORM_JUNOS
from turnup.configs.selectors import RenderedConfig, rendered_device_count
from turnup.configs.services import site_render
from turnup.core.context import bind_system_actor, unbind_actor
from turnup.core.errors import ApplicationError
from turnup.dcim.models import Site


class Command(BaseCommand):
    help = "Render, lint and version the day-0 configs (bootstrap and full) of a site."

    def add_arguments(self, parser):
        parser.add_argument("site", help="Site name or slug, e.g. LON-01")
        parser.add_argument("--out", type=Path, help="Also write every config to this folder")
        parser.add_argument(
            "--no-store", action="store_true", help="Render and lint only; store no version"
        )

    def handle(self, *args, site: str, out: Path | None, no_store: bool, **options):
        found = Site.objects.filter(Q(name=site) | Q(slug=site)).first()
        if found is None:
            raise CommandError(f"no site named {site!r}")
        console = Console(file=self.stdout._out, stderr=False)
        total = rendered_device_count(site=found) * len(KINDS)
        if out is not None:
            try:
                out.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise CommandError(f"--out {out}: {error.strerror}") from None
        token = bind_system_actor("turnup render")
        try:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress:
                task = progress.add_task(f"render {found.name}", total=total)

                def advance(config: RenderedConfig) -> None:
                    progress.update(task, advance=1, description=f"{config.hostname} {config.kind}")
                    if out is not None:
                        suffix = "set" if config.platform == PLATFORM_JUNOS else "cfg"
                        path = out / f"{config.hostname}.{config.kind}.{suffix}"
                        try:
                            path.write_text(config.text)
                        except OSError as error:
                            raise CommandError(f"cannot write {path}: {error.strerror}") from None

                result = site_render(site=found, store=not no_store, progress=advance)
                progress.update(task, description=f"render {found.name}")
        except ApplicationError as error:
            raise CommandError(error.message) from None
        finally:
            unbind_actor(token)

        table = Table(title=f"{found.name}: day-0 configs")
        for column in ("router", "platform", "bootstrap bytes", "full bytes", "lint", "version"):
            table.add_column(column)
        versions = {(v.device_id, v.kind): created for v, created in result.versions}
        by_device: dict[str, dict[str, RenderedConfig]] = {}
        for config in result.configs:
            by_device.setdefault(config.hostname, {})[config.kind] = config
        for hostname, configs in sorted(by_device.items()):
            boot, full = configs["bootstrap"], configs["full"]
            errors = sum(1 for c in configs.values() for f in c.findings if f.severity == "error")
            new = [k for k, c in configs.items() if versions.get((c.device_id, k))]
            table.add_row(
                hostname,
                full.platform,
                str(boot.size),
                str(full.size),
                "ok" if not errors else f"[red]{errors} error(s)",
                ("new: " + ", ".join(new)) if new else ("unchanged" if not no_store else "-"),
            )
        console.print(table)
        for config in result.configs:
            for finding in config.findings:
                console.print(
                    f"[red]{finding.severity}[/] {config.hostname} {config.kind} "
                    f"line {finding.line or '-'}: {finding.object_name}: {finding.message}"
                )
        for name, problem in sorted(result.problems.items()):
            console.print(f"[red]not rendered[/] {name}: {problem}")
        console.print(
            f"{len(result.configs)} configs, {result.changed} new version(s), "
            f"{result.lint_errors} lint error(s), {len(result.problems)} router(s) not rendered"
        )
        if result.lint_errors or result.problems:
            raise SystemExit(1)
