"""The ``turnup`` command: Django's management commands (``turnup migrate``, ``turnup run``,
``turnup lab start``, ``turnup site create``, ``turnup up`` …)."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "turnup.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        sys.stderr.write(f"turnup: configuration error: {error}\n")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
