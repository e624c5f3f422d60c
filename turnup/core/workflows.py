"""The diagnostic graph used by ``turnup selftest``."""

from celery import chord

from turnup.core.tasks import probe, settle


def selftest_graph(width: int):
    """A chord: ``width`` probes in parallel, settled by one callback."""
    return chord(probe.s(index) for index in range(width))(settle.s())
