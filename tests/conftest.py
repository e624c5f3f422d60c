"""Test plumbing shared by every test module."""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("TURNUP_REQUIRE_SERVICES", "").lower() in {"1", "true", "yes"}


def require_service(name: str) -> None:
    """Skip a test that needs ``name`` (POSTGRESQL, REDIS) when it is not reachable —
    or fail it when the run says the services are required (CI)."""
    if os.environ.get(f"TEST_HAS_{name}") == "1":
        return
    message = f"{name} is not reachable in this run"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and TURNUP_REQUIRE_SERVICES=1")
    pytest.skip(message)


def restore_seed_rows() -> None:
    """Put back the rows data migrations create (platforms, roles): the flush after every
    transactional test removes them."""
    from importlib import import_module

    from django.apps import apps

    import_module("turnup.dcim.migrations.0002_initial_platforms_and_roles").create(apps, None)


@pytest.fixture
def seeded_transactional_db(transactional_db):
    """A transactional test's database with the seed rows restored. Used instead of
    ``serialized_rollback``, which collides with the content types ``post_migrate``
    recreates when a plain transactional test ran before."""
    restore_seed_rows()


@pytest.fixture
def redis_url() -> str:
    require_service("REDIS")
    return os.environ["REDIS_URL"]


@pytest.fixture
def api_client(db):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    user = get_user_model().objects.create_user(username="engineer", password="pw-engineer-1")
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client
