"""``turnup design export LON-01 [-o FILE]`` / ``turnup design import FILE``."""

import sys
from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from turnup.core.context import bind_system_actor
from turnup.core.errors import ApplicationError
from turnup.dcim.models import Site
from turnup.designs.selectors import site_document_export
from turnup.designs.services import site_document_import


class Command(BaseCommand):
    help = "Export a site's whole design as one YAML document, or create a site from one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="write a site's design as YAML")
        export.add_argument("site", help="site name or slug")
        export.add_argument("-o", "--output", help="file to write (default: standard output)")
        load = sub.add_parser("import", help="create a site from a design document")
        load.add_argument("file", help="YAML file, or - for standard input")

    def handle(self, *args, action: str, **options):
        bind_system_actor("turnup design")
        if action == "export":
            site = Site.objects.filter(name=options["site"]).first() or (
                Site.objects.filter(slug=options["site"]).first()
            )
            if site is None:
                raise CommandError(f"no site named {options['site']!r}")
            text = yaml.safe_dump(site_document_export(site=site), sort_keys=False)
            if options["output"]:
                try:
                    with open(options["output"], "w", encoding="utf-8") as handle:
                        handle.write(text)
                except OSError as error:
                    raise CommandError(
                        f"cannot write {options['output']}: {error.strerror}"
                    ) from None
            else:
                self.stdout.write(text, ending="")
            return
        source = options["file"]
        try:  # bytes: the service decodes them, and names a byte that is not UTF-8
            text = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {source}: {error.strerror}") from None
        try:
            site = site_document_import(text=text)
        except ApplicationError as error:
            for problem in error.extra.get("errors", []):
                self.stderr.write(
                    f"{source}:{problem['line']}: {problem['path']}: {problem['reason']}"
                )
            raise CommandError(error.message) from None
        self.stdout.write(
            self.style.SUCCESS(f"created site {site.name} ({site.devices.count()} devices)")
        )
