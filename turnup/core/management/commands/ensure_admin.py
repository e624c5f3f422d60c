import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the first admin account if there is none. The password comes from "
        "TURNUP_ADMIN_PASSWORD, or is generated, printed once and kept in "
        "$TURNUP_DATA_DIR/admin-password (mode 600)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options):
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An admin account exists already; nothing to do.")
            return
        password = settings.ENV["TURNUP_ADMIN_PASSWORD"]
        source = "from TURNUP_ADMIN_PASSWORD"
        if not password:
            password = secrets.token_urlsafe(12)
            path = settings.DATA_DIR / "admin-password"
            path.write_text(password + "\n")
            path.chmod(0o600)
            source = f"generated, also kept in {path}"
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin account created: user {username!r}, password {password!r} ({source})."
            )
        )
