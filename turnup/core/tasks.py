"""Diagnostic tasks: ``turnup selftest`` sends a small chord through the real broker and
result backend to prove that workers run, in parallel, and that chords settle."""

import os
import threading
import time

from celery import shared_task


@shared_task(name="core.probe")
def probe(index: int, hold: float = 0.3) -> dict:
    """Report which worker process and thread ran this piece of the graph, after holding it
    for ``hold`` seconds so that pieces overlap when the worker runs them in parallel."""
    time.sleep(hold)
    return {"index": index, "pid": os.getpid(), "thread": threading.get_ident()}


@shared_task(name="core.settle")
def settle(results: list[dict]) -> dict:
    """Chord callback: how many pieces ran and on how many distinct workers."""
    return {
        "count": len(results),
        "indexes": sorted(result["index"] for result in results),
        "executors": len({(result["pid"], result["thread"]) for result in results}),
    }
