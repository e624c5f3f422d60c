"""``turnup site create --blueprint pop-core --set name=LON-01 … [--dry-run] [--apply]`` (or
``--file my-blueprint.yaml``) and
``turnup site check LON-01``.

``create`` builds a new site at once; for a site that exists it prints the plan (create /
change / leave) and applies it only with ``--apply``. ``check`` prints the preflight findings
and exits 1 when any is an error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from turnup.blueprints.design import BlueprintInvalid, source_text
from turnup.blueprints.planner import Plan
from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_create, blueprint_instantiate, blueprint_plan
from turnup.checks.selectors import site_findings
from turnup.core.errors import ApplicationError
from turnup.dcim.models import Site

ACTION_STYLE = {"create": "green", "change": "yellow", "leave": "dim"}
SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def parse_sets(values: list[list[str]] | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for group in values or []:
        for item in group:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"--set {item!r}: use name=value")
            if key.strip() in params and params[key.strip()] != value:
                raise CommandError(
                    f"--set {key.strip()}: given twice ({params[key.strip()]!r} and {value!r})"
                )
            params[key.strip()] = value
    return params


def plan_table(plan: Plan, *, show_leave: bool = True) -> Table:
    table = Table(title=f"{plan.site} from {plan.blueprint} v{plan.version}", show_lines=False)
    table.add_column("action")
    table.add_column("kind")
    table.add_column("object")
    table.add_column("detail")
    for item in plan.items:
        if item.action == "leave" and not show_leave:
            continue
        detail = item.detail
        if item.changes:
            detail = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in item.changes.items())
        style = ACTION_STYLE[item.action]
        table.add_row(f"[{style}]{item.action}[/]", item.kind, item.name, detail)
    counts = plan.counts
    table.caption = (
        f"{counts['create']} to create, {counts['change']} to change, {counts['leave']} left as is"
    )
    return table


def findings_table(site: Site, findings) -> Table:
    table = Table(title=f"Preflight checks of {site.name}")
    table.add_column("severity")
    table.add_column("rule")
    table.add_column("object")
    table.add_column("message")
    for item in findings:
        style = SEVERITY_STYLE[item.severity]
        table.add_row(f"[{style}]{item.severity}[/]", item.rule, item.object_name, item.message)
    return table


class Command(BaseCommand):
    help = "Create a site from a blueprint, or run its preflight checks."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create or update a site from a blueprint")
        source = create.add_mutually_exclusive_group(required=True)
        source.add_argument("--blueprint", "-b", help="a stored or shipped blueprint's name")
        source.add_argument(
            "--file", "-f", help="a blueprint YAML file (stored first, like an upload)"
        )
        create.add_argument(
            "--set", "-s", action="append", nargs="+", dest="sets", metavar="NAME=VALUE"
        )
        mode = create.add_mutually_exclusive_group()
        mode.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
        mode.add_argument("--apply", action="store_true", help="apply changes to an existing site")
        create.add_argument("--json", action="store_true", help="print the plan as JSON")
        create.add_argument("--changes-only", action="store_true", help="hide 'leave' rows")
        check = sub.add_parser("check", help="run the preflight checks of a site")
        check.add_argument("site", help="site name or slug")
        check.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        self.console = Console(file=self.stdout, highlight=False, soft_wrap=False, width=160)
        if options["action"] == "create":
            return self._create(options)
        return self._check(options)

    def _create(self, options) -> None:
        params = parse_sets(options["sets"])
        if "name" not in params:
            raise CommandError("--set name=<SITE> is required")
        quiet = options["json"]
        try:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(file=sys.stderr),
                transient=True,
                disable=quiet,
            ) as progress:
                what = options["blueprint"] or options["file"]
                task = progress.add_task(f"loading blueprint {what}", total=3)
                if options["file"]:
                    try:
                        raw = Path(options["file"]).read_bytes()
                    except OSError as error:
                        raise CommandError(
                            f"cannot read {options['file']}: {error.strerror}"
                        ) from None
                    blueprint = blueprint_create(source=source_text(raw))
                else:
                    blueprint = blueprint_get(name=options["blueprint"])
                progress.update(task, advance=1, description=f"planning {params['name']}")
                plan = blueprint_plan(blueprint=blueprint, params=params)
                new_site = not Site.objects.filter(name=plan.site).exists()
                apply = (
                    plan.has_changes and not options["dry_run"] and (options["apply"] or new_site)
                )
                if apply:
                    progress.update(task, advance=1, description="applying in one transaction")
                    plan = blueprint_instantiate(blueprint=blueprint, params=params, apply=True)
                progress.update(task, advance=1, description="done")
        except BlueprintInvalid as error:
            for problem in error.errors:
                self.stderr.write(f"  {problem}")
            raise CommandError(error.message) from None
        except ApplicationError as error:
            extra = json.dumps(error.extra) if error.extra else ""
            raise CommandError(f"{error.message} {extra}") from None
        if quiet:
            self.stdout.write(json.dumps(plan.as_dict(), indent=2, default=str))
            return
        self.console.print(plan_table(plan, show_leave=not options["changes_only"]))
        if plan.applied:
            self.console.print(
                f"[green]applied[/]: site {plan.site} is up to date with {plan.blueprint}"
            )
            site = Site.objects.get(name=plan.site)
            findings = site_findings(site=site)
            errors = sum(1 for f in findings if f.severity == "error")
            self.console.print(
                f"preflight: {errors} error(s), {len(findings) - errors} other finding(s) — "
                f"see `turnup site check {site.name}`"
            )
        elif not plan.has_changes:
            self.console.print(f"nothing to do: site {plan.site} already matches the blueprint")
        elif options["dry_run"]:
            self.console.print("dry run: nothing written")
        else:
            self.console.print(
                f"[yellow]site {plan.site} exists[/]: nothing written; run again with --apply "
                "to make these changes"
            )

    def _check(self, options) -> None:
        site = (
            Site.objects.filter(name=options["site"]).first()
            or Site.objects.filter(slug=options["site"]).first()
        )
        if site is None:
            raise CommandError(f"no site named {options['site']!r}")
        findings = site_findings(site=site)
        errors = sum(1 for f in findings if f.severity == "error")
        if options["json"]:
            self.stdout.write(json.dumps([f.as_dict() for f in findings], indent=2))
        elif findings:
            self.console.print(findings_table(site, findings))
        if not options["json"]:
            self.console.print(
                f"{site.name}: {errors} error(s), {len(findings) - errors} other finding(s)"
            )
        if errors:
            raise SystemExit(1)
