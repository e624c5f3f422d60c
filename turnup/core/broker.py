"""The embedded broker: kombu's SQLAlchemy transport on a local SQLite file, polled every
0.1 s instead of every second.

kombu's virtual transports sleep ``polling_interval`` after an empty poll, so every hop of a
turn-up graph (a step finishing, the next one queued) would wait up to a second; a local file
answers a poll in microseconds. The interval cannot be given as a transport option: the
SQLAlchemy transport hands its options to ``create_engine``, which refuses unknown ones. So
``sqla+…`` URLs resolve to this subclass instead (``register``, called by turnup.celery).
"""

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport


class Transport(SQLAlchemyTransport):
    polling_interval = 0.1


def register() -> None:
    for alias in ("sqla", "sqlalchemy"):
        TRANSPORT_ALIASES[alias] = f"{__name__}:Transport"
