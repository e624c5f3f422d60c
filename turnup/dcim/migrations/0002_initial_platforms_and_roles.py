"""Data every design starts from: the three platforms turn-up drives and the common roles."""

from django.db import migrations

MANUFACTURERS = (("Cisco", "cisco"), ("Juniper", "juniper"), ("Opengear", "opengear"))
PLATFORMS = (
    ("Cisco IOS-XE", "cisco_iosxe", "cisco"),
    ("Juniper Junos", "juniper_junos", "juniper"),
    ("Console server", "console_server", None),
)
ROLES = (
    ("Core", "core", "f44336"),
    ("Edge", "edge", "ff9800"),
    ("Branch", "branch", "4caf50"),
    ("Aggregation", "aggregation", "2196f3"),
    ("Console server", "console-server", "9e9e9e"),
    ("Management switch", "management-switch", "607d8b"),
)


def create(apps, schema_editor):
    Manufacturer = apps.get_model("dcim", "Manufacturer")
    Platform = apps.get_model("dcim", "Platform")
    DeviceRole = apps.get_model("dcim", "DeviceRole")
    makers = {}
    for name, slug in MANUFACTURERS:
        makers[slug], _ = Manufacturer.objects.get_or_create(slug=slug, defaults={"name": name})
    for name, slug, maker in PLATFORMS:
        Platform.objects.get_or_create(
            slug=slug, defaults={"name": name, "manufacturer": makers.get(maker)}
        )
    for name, slug, color in ROLES:
        DeviceRole.objects.get_or_create(slug=slug, defaults={"name": name, "color": color})


def remove(apps, schema_editor):
    apps.get_model("dcim", "DeviceRole").objects.filter(
        slug__in=[slug for _, slug, _ in ROLES], devices__isnull=True
    ).delete()
    apps.get_model("dcim", "Platform").objects.filter(
        slug__in=[slug for _, slug, _ in PLATFORMS], devices__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("dcim", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
