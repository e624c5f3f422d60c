"""Fixtures of the events tests: a real Kafka-protocol broker, and the turn-up tests'
captured graph sends and local storage."""

from __future__ import annotations

import contextlib

import pytest

from tests.conftest import REQUIRE_SERVICES
from tests.provisioning.conftest import enqueued, storage  # noqa: F401 - fixtures


@pytest.fixture(scope="session")
def kafka(tmp_path_factory) -> str:
    """``host:port`` of a real Kafka-protocol broker on loopback (Tansu, see
    ``turnup.events.localbroker``) with turnup's topics created, one partition each."""
    from turnup.events import constants
    from turnup.events.localbroker import BrokerUnavailable, local_broker

    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with contextlib.ExitStack() as stack:
        try:
            bootstrap = stack.enter_context(
                local_broker(log=log, topics=constants.INBOUND_TOPICS + constants.OUTBOUND_TOPICS)
            )
        except BrokerUnavailable as error:
            message = f"Kafka: {error}"
            pytest.fail(message) if REQUIRE_SERVICES else pytest.skip(message)
        yield bootstrap
