"""A real chord through a real worker process, on the embedded broker and on Redis."""

import json

import pytest

from tests.helpers import start_worker, stop, turnup, turnup_env


def _drain(worker):
    stop(worker)
    return worker.stderr.read() if not worker.stderr.closed else ""


def run_selftest(env):
    worker = start_worker(env, concurrency=4)
    try:
        result = turnup("selftest", "--width", "8", "--timeout", "60", env=env, timeout=90)
        worker_log = "" if result.returncode == 0 else _drain(worker)
    finally:
        stop(worker)
    assert result.returncode == 0, result.stderr + worker_log
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_chord_settles_through_the_embedded_broker(tmp_path):
    outcome = run_selftest(turnup_env(tmp_path))
    assert outcome["count"] == 8
    assert outcome["indexes"] == list(range(8))
    assert outcome["executors"] >= 2, "the embedded worker must run tasks in parallel"
    assert (tmp_path / "celery-broker.sqlite3").exists()


@pytest.mark.slow
def test_chord_settles_through_redis(tmp_path, redis_url):
    base = redis_url.rsplit("/", 1)[0]
    env = turnup_env(
        tmp_path,
        CELERY_BROKER_URL=f"{base}/14",
        CELERY_RESULT_BACKEND=f"{base}/15",
    )
    outcome = run_selftest(env)
    assert outcome["indexes"] == list(range(8))
    assert not (tmp_path / "celery-broker.sqlite3").exists()


def test_the_embedded_broker_is_polled_every_tenth_of_a_second(tmp_path):
    from kombu import Connection

    import turnup.celery  # noqa: F401 - registers the embedded broker's transport

    connection = Connection(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}")
    try:
        assert connection.transport.polling_interval == 0.1
    finally:
        connection.release()


def test_processes_starting_together_on_a_fresh_embedded_broker_all_get_the_queue(tmp_path):
    """A worker and a command starting together both create the broker's tables and its queue;
    kombu's own lock is per process, so without the transport's retries one of them fails.
    Fresh interpreters (spawn), as a worker and a command are: a fork would inherit this
    process's SQLAlchemy mappers, configured under pytest's warnings-as-errors."""
    import multiprocessing

    from tests.core.broker_race import declare_celery_queue

    context = multiprocessing.get_context("spawn")
    processes_per_round = 6
    for round_ in range(3):
        url = f"sqla+sqlite:///{tmp_path / f'broker-{round_}.sqlite3'}"
        barrier, outcomes = context.Barrier(processes_per_round), context.Queue()
        processes = [
            context.Process(target=declare_celery_queue, args=(url, barrier, outcomes))
            for _ in range(processes_per_round)
        ]
        for process in processes:
            process.start()
        results = [outcomes.get(timeout=30) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        assert results == ["ok"] * processes_per_round, f"round {round_}: {results}"
