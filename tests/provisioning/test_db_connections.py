"""PostgreSQL connections come from a pool per process: a step's connection goes back to it
between tasks and while the step waits, and a hundred threads share DB_POOL_SIZE of them."""

from __future__ import annotations

import threading

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql():
    from django.db import connection

    from tests.conftest import require_service

    if connection.vendor != "postgresql":
        require_service("POSTGRESQL")


def _backend() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_task_gives_its_connection_back_to_the_pool_and_the_next_reuses_it():
    from celery.fixups.django import DjangoWorkerFixup
    from django.db import connection

    from turnup.celery import app

    _backend()
    opened = connection.pool.get_stats()["connections_num"]  # connections made, ever
    for _ in range(3):
        DjangoWorkerFixup(app).on_task_postrun(sender=type("Task", (), {"request": object()})())
        assert connection.connection is None  # given back
        _backend()  # the next task's query
    assert connection.pool.get_stats()["connections_num"] == opened, "no new server process"


def test_a_waiting_step_gives_its_connection_back():
    from django.db import connection

    from turnup.provisioning.services import db_release

    _backend()
    db_release()
    assert connection.connection is None


def test_threads_share_at_most_the_pool_size_of_connections(settings):
    from django.db import connection

    size = settings.DB_POOL_SIZE
    seen, errors, lock = set(), [], threading.Lock()

    def step() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.05)")
                pid = cursor.fetchone()[0]
            with lock:
                seen.add(pid)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=step) for _ in range(3 * size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert 1 < len(seen) <= size


@pytest.mark.parametrize(
    ("error", "calls_expected"), [("database", 3), ("other", 1)], ids=["database", "other"]
)
def test_a_step_the_database_refuses_is_sent_again_and_no_other(monkeypatch, error, calls_expected):
    from django.db import OperationalError

    from turnup.provisioning import services, tasks

    calls = []

    def flaky(*, step_id):
        calls.append(step_id)
        if len(calls) < 3:
            if error == "database":
                raise OperationalError("the database is restarting")
            raise ValueError("a bug")
        return {"step": step_id, "status": "done"}

    monkeypatch.setattr(services, "device_turnup_step", flaky)
    result = tasks.turnup_steps.apply(kwargs={"step_ids": [7]})
    assert calls == [7] * calls_expected
    if error == "database":
        assert result.get() == [{"step": 7, "status": "done"}]
    else:
        assert isinstance(result.result, ValueError)
