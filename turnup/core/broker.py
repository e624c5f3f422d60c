"""The embedded broker: kombu's SQLAlchemy transport on a local SQLite file, polled every
0.1 s instead of every second, and safe when two processes declare the same queue at once.

kombu's virtual transports sleep ``polling_interval`` after an empty poll, so every hop of a
turn-up graph (a step finishing, the next one queued) would wait up to a second; a local file
answers a poll in microseconds. The interval cannot be given as a transport option: the
SQLAlchemy transport hands its options to ``create_engine``, which refuses unknown ones. So
``sqla+…`` URLs resolve to this subclass instead (``register``, called by turnup.celery).

kombu guards table and queue creation with a lock inside one process only: a worker and a
command starting together on a fresh file both create the tables (the loser fails with "table
already exists") and both insert the ``celery`` queue (the loser fails with a UNIQUE
violation). Here the loser of either race retries and finds what the winner wrote.
"""

import time

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Channel as SQLAlchemyChannel
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport
from kombu.transport.sqlalchemy import metadata
from sqlalchemy.exc import IntegrityError, OperationalError

SCHEMA_ATTEMPTS = 5


class Channel(SQLAlchemyChannel):
    def _engine_from_config(self):
        engine = super()._engine_from_config()
        for attempt in range(SCHEMA_ATTEMPTS):
            try:
                metadata.create_all(engine)  # checks first, so a retry skips what now exists
                return engine
            except OperationalError:
                if attempt == SCHEMA_ATTEMPTS - 1:
                    raise
                time.sleep(0.05)

    def _get_or_create(self, queue):
        try:
            return super()._get_or_create(queue)
        except IntegrityError:
            self.session.rollback()
            return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).one()


class Transport(SQLAlchemyTransport):
    Channel = Channel
    polling_interval = 0.1


def register() -> None:
    for alias in ("sqla", "sqlalchemy"):
        TRANSPORT_ALIASES[alias] = f"{__name__}:Transport"
