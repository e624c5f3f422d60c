from django.apps import AppConfig

DEMO_SITE = "DEMO-01"


class ProvisioningConfig(AppConfig):
    name = "turnup.provisioning"
    label = "provisioning"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from turnup.core.metrics import TURNUPS
        from turnup.provisioning.selectors import turnup_totals

        TURNUPS.set_source(turnup_totals)

    def run_processes(self) -> list:
        """What ``turnup run`` (``make run``) adds for the demo: the lab wired as DEMO-01's
        design says, and a one-shot job that turns DEMO-01 up once its console server
        answers (only if the site was never turned up). Neither stops the web app when it
        ends or fails: a failed turn-up shows on the run's page."""
        import sys

        from turnup.core.management.commands.run import Process

        cli = [sys.executable, "-m", "turnup.cli"]
        return [
            Process("lab", [*cli, "lab", "start", "--site", DEMO_SITE], oneshot=True),
            Process(
                "demo-turnup",
                [*cli, "up", DEMO_SITE, "--approve", "--if-new", "--wait-console", "60"],
                oneshot=True,
            ),
        ]
