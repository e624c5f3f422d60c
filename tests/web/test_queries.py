"""The site pages cost a fixed number of queries whatever the size of the site: the same
count for an aggregation site with 2 edge routers and one with 20."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from turnup.blueprints.selectors import blueprint_get
from turnup.blueprints.services import blueprint_instantiate
from turnup.configs.services import site_render
from turnup.dcim.models import Site
from turnup.web import selectors

from ..factories import CredentialProfileFactory

pytestmark = pytest.mark.django_db


def build(name: str, edges: int) -> Site:
    blueprint_instantiate(
        blueprint=blueprint_get(name="aggregation"), params={"name": name, "edge_count": edges}
    )
    return Site.objects.get(name=name)


@pytest.fixture
def sites(db) -> tuple[Site, Site]:
    CredentialProfileFactory(name="default", is_default=True)
    small, big = build("AGG-01", 2), build("AGG-02", 20)
    for site in (small, big):
        site_render(site=site, store=True)
    return small, big


def count(fn) -> int:
    with CaptureQueriesContext(connection) as queries:
        fn()
    return len(queries)


@pytest.mark.parametrize(
    "selector",
    [
        selectors.site_device_rows,
        selectors.site_cable_rows,
        selectors.site_topology,
        selectors.site_rack_pictures,
        selectors.console_rows,
        selectors.site_addressing,
        selectors.site_config_rows,
        selectors.site_counts,
    ],
)
def test_selector_query_count_does_not_grow_with_the_site(sites, selector):
    small, big = sites
    assert count(lambda: selector(site=small)) == count(lambda: selector(site=big))


def test_prefix_tree_query_count_is_constant(sites):
    assert count(selectors.prefix_tree_rows) == 2


@pytest.mark.parametrize(
    "tab",
    ["", "devices/", "cabling/", "console/", "addressing/", "configs/", "checks/", "changes/"],
)
def test_page_query_count_does_not_grow_with_the_site(sites, tab):
    small, big = sites
    client = Client()
    client.force_login(get_user_model().objects.create_user(username="q", password="pw-q-12345"))
    client.get(f"/sites/{small.slug}/{tab}")  # warm the session and content types
    small_n = count(lambda: client.get(f"/sites/{small.slug}/{tab}"))
    big_n = count(lambda: client.get(f"/sites/{big.slug}/{tab}"))
    assert small_n == big_n, (tab, small_n, big_n)
