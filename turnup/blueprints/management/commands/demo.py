"""``turnup demo``: the demo site ``DEMO-01`` (blueprint ``pop-core``) and a default
credential profile matching the lab's simulated devices — idempotent, so ``make run`` can
call it every time."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate, blueprint_library_sync
from turnup.core.errors import ApplicationError
from turnup.dcim.models import CredentialProfile, Site
from turnup.dcim.services import credential_profile_create

DEMO_SITE = "DEMO-01"
DEMO_PROFILE = {
    "name": "lab-default",
    "description": "Demo credentials of the built-in lab (not for real devices)",
    "is_default": True,
    "console_username": "admin",
    "console_password": "admin",
    "local_username": "turnup",
    "local_password": "turnup-lab-1",
    "junos_root_password": "turnup-root-1",
    "enable_secret": "turnup-enable-1",
    "snmp_username": "turnup",
    "snmp_auth_key": "turnup-auth-key-1",
    "snmp_priv_key": "turnup-priv-key-1",
}


class Command(BaseCommand):
    help = "Create the demo site DEMO-01 from the pop-core blueprint (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--site", default=DEMO_SITE)

    def handle(self, *args, **options):
        blueprint_library_sync()
        if not CredentialProfile.objects.filter(is_default=True).exists():
            if not CredentialProfile.objects.filter(name=DEMO_PROFILE["name"]).exists():
                credential_profile_create(**DEMO_PROFILE)
        if Site.objects.filter(name=options["site"]).exists():
            # the demo site may have been edited since: never undo someone's changes
            self.stdout.write(f"demo: site {options['site']} exists, left as is")
            return
        try:
            plan = blueprint_instantiate(
                blueprint=blueprint_get(name="pop-core"), params={"name": options["site"]}
            )
        except ApplicationError as error:  # e.g. a name the blueprint's pattern refuses
            raise CommandError(f"--site {options['site']!r}: {error.message}") from None
        self.stdout.write(
            f"demo: site {plan.site} built from pop-core ({plan.counts['create']} objects)"
        )
