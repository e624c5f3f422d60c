"""What the page tests share: a logged-in engineer and a site built from pop-core."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate
from turnup.dcim.models import Site

from ..factories import CredentialProfileFactory


@pytest.fixture
def client_in(db) -> Client:
    user = get_user_model().objects.create_user(username="noc", password="pw-noc-12345")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pop_site(db) -> Site:
    CredentialProfileFactory(name="default", is_default=True)
    blueprint_instantiate(blueprint=blueprint_get(name="pop-core"), params={"name": "LON-01"})
    return Site.objects.get(name="LON-01")
