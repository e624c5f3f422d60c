"""A worker keeps its database connections between steps, as Django keeps a web thread's,
and gives them back when its process runs many steps at once."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _connected() -> bool:
    from django.db import connection

    return connection.connection is not None


def test_celery_does_not_close_the_connection_around_a_task():
    from celery.fixups.django import DjangoWorkerFixup
    from django.db import connection

    from turnup.celery import app

    connection.ensure_connection()
    fixup = DjangoWorkerFixup(app)
    fixup.on_task_prerun(sender=type("Task", (), {"request": object()})())
    fixup.on_task_postrun(sender=type("Task", (), {"request": object()})())
    assert _connected(), "Celery's Django fixup closed the connection a step would reuse"


def test_a_busy_process_gives_its_connections_back(monkeypatch):
    from django.db import connection

    from turnup.provisioning import services, tasks

    connection.ensure_connection()
    monkeypatch.setattr(services._HEARTBEATS, "running", lambda: services.DB_CONNECTIONS_KEPT)
    tasks._db_connections_release()
    assert _connected(), "a process with few steps keeps its connection"
    monkeypatch.setattr(services._HEARTBEATS, "running", lambda: services.DB_CONNECTIONS_KEPT + 1)
    tasks._db_connections_release()
    assert not _connected(), "a process with many steps gives it back"


def test_a_connection_left_broken_by_a_task_is_replaced():
    from django.db import connection

    from turnup.provisioning import tasks

    connection.ensure_connection()
    old = connection.connection
    connection.errors_occurred = True  # what a failed query leaves
    connection.connection.close()  # the server went away
    tasks._db_connections_check()
    assert connection.connection is not old
