import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


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
        field = User._meta.get_field(User.USERNAME_FIELD)
        try:
            field.clean(username, None)
        except ValidationError as error:
            raise CommandError(f"--username {username!r}: {' '.join(error.messages)}") from None
        if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            raise CommandError(
                f"--username {username!r}: a user with this name exists and is not an admin; "
                "give another name"
            )
        password = settings.ENV["TURNUP_ADMIN_PASSWORD"]
        source = "from TURNUP_ADMIN_PASSWORD"
        if not password:
            password = secrets.token_urlsafe(12)
            path = settings.DATA_DIR / "admin-password"
            try:
                path.write_text(password + "\n")
                path.chmod(0o600)
            except OSError as error:
                raise CommandError(
                    f"cannot keep the generated password in {path}: {error.strerror} "
                    "(set TURNUP_DATA_DIR to a writable folder, or TURNUP_ADMIN_PASSWORD)"
                ) from None
            source = f"generated, also kept in {path}"
        User.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Admin account created: user {username!r}, password {password!r} ({source})."
            )
        )
