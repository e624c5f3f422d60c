"""A network-aware integer column that compares the same way on SQLite and PostgreSQL.

An IPv6 address is a 128-bit integer: too wide for BIGINT, and SQLite would turn a big
DECIMAL into a lossy REAL. ``HexIntegerField`` stores the integer as 32 zero-padded
lower-case hex digits, so text order is numeric order (byte order on SQLite; the "C"
collation is forced on PostgreSQL). Python sees plain ``int``s, and containment and overlap
become plain range comparisons (``start__lte=...``) on both databases.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

HEX_DIGITS = 32


def int_to_hex(value: int) -> str:
    return f"{value:0{HEX_DIGITS}x}"


class HexIntegerField(models.Field):
    """An unsigned integer of up to 128 bits, stored as fixed-width hex text."""

    description = "Unsigned 128-bit integer (stored as hex text)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["max_length"] = HEX_DIGITS
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "CharField"

    def db_parameters(self, connection) -> dict[str, Any]:
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params

    def from_db_value(self, value, expression, connection):
        return None if value is None else int(value, 16)

    def to_python(self, value):
        if value is None or isinstance(value, int):
            return value
        try:
            return int(value, 16) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise ValidationError(f"{value!r} is not an integer") from None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        if isinstance(value, str):
            value = int(value, 16)
        if value < 0 or value >= 1 << (4 * HEX_DIGITS):
            raise ValueError(f"{value} does not fit in 128 bits")
        return int_to_hex(value)

    def formfield(self, **kwargs):
        return None
