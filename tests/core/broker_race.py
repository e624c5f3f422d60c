"""A child process of the embedded broker's race test: as little imported as a worker's
first touch of the broker needs (the test spawns many)."""


def declare_celery_queue(url, barrier, outcomes):
    from kombu import Connection

    from turnup.core.broker import register

    register()
    connection = Connection(url)
    barrier.wait()
    try:
        connection.channel()._get_or_create("celery")
        outcomes.put("ok")
    except Exception as error:  # the outcome is the assertion, whatever the error
        outcomes.put(f"{type(error).__name__}: {error}"[:200])
    finally:
        connection.release()
