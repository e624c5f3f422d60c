"""The events tests use the turn-up tests' fixtures: captured graph sends, local storage."""

from tests.provisioning.conftest import enqueued, storage  # noqa: F401 - fixtures
