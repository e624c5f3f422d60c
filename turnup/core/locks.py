"""Leases kept in database rows: a lock that works on SQLite and PostgreSQL alike, survives
no crash (it expires) and needs no server.

A lease model has a unique ``key`` and an ``expires_at`` column. ``lease_acquire`` takes the
key if nobody holds it or its holder's lease ran out; the unique constraint decides between
two callers racing for the same key. Apps keep their own lease models (core imports no app).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction


def lease_acquire(
    model: type[models.Model],
    *,
    key: str,
    now: datetime,
    expires_at: datetime,
    holder: dict[str, Any],
    defaults: dict[str, Any] | None = None,
) -> models.Model | None:
    """Take the lease ``key`` until ``expires_at`` and return its row, or return None when
    someone else holds a live lease on it. ``holder`` fields say who holds it (a row with the
    same holder is renewed: the holder taking it again); ``defaults`` are stored too.

    A key nobody has held (no row, live or expired) is taken with one INSERT; the careful
    path (clear an expired row, lock and compare the current one) runs when it fails."""
    fields = {"key": key, "expires_at": expires_at, **holder, **(defaults or {})}
    connection = transaction.get_connection()
    try:
        # a savepoint only inside a transaction: in autocommit a refused INSERT spoils nothing
        with transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext():
            return model.objects.create(**fields)
    except IntegrityError:
        pass
    with transaction.atomic():
        model.objects.filter(key=key, expires_at__lte=now).delete()
        current = model.objects.select_for_update().filter(key=key).first()
        if current is not None:
            if all(getattr(current, name) == value for name, value in _ids(holder).items()):
                current.expires_at = expires_at
                current.save(update_fields=["expires_at"])
                return current
            return None
        try:
            with transaction.atomic():
                return model.objects.create(**fields)
        except IntegrityError:
            return None


def lease_renew(model: type[models.Model], *, pk: Any, expires_at: datetime) -> bool:
    """Push a held lease's expiry out; False if it is gone (expired and taken over)."""
    return bool(model.objects.filter(pk=pk).update(expires_at=expires_at))


def lease_release(model: type[models.Model], *, pk: Any) -> None:
    model.objects.filter(pk=pk).delete()


def _ids(fields: dict[str, Any]) -> dict[str, Any]:
    """Compare foreign keys by id: ``step=<Step 5>`` → ``step_id=5``."""
    out = {}
    for name, value in fields.items():
        if isinstance(value, models.Model):
            out[f"{name}_id"] = value.pk
        else:
            out[name] = value
    return out


def is_deadlock(error: Exception) -> bool:
    """Whether PostgreSQL ended the transaction to break a deadlock (SQLSTATE 40P01): it was
    rolled back whole, so nothing it wrote is left."""
    return getattr(error.__cause__, "sqlstate", None) == "40P01"
