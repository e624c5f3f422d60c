"""Console paths and credential resolution."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from turnup.dcim import selectors, services
from turnup.dcim.models import CredentialProfile

pytestmark = pytest.mark.django_db


def test_device_console_path_answers_how_to_reach_the_console():
    site, server, (rtr1, rtr2) = f.dcim_console_site(routers=2, host="192.0.2.10")
    path = selectors.device_console_path(device=rtr2)
    assert path == selectors.ConsolePath(
        device_id=rtr2.pk,
        device_name="rtr2",
        console_port="con0",
        console_server_id=server.pk,
        console_server="cs1",
        console_server_port="port2",
        host="192.0.2.10",
        line=2,
        tcp_port=2002,
        baud=9600,
        method="telnet",
        ssh_username_format="{username}:port{line}",
        cable_status="connected",
    )
    assert path.port == 2002
    assert path.ssh_username("admin") == "admin:port2"


def test_device_without_console_cable_has_no_path():
    site, server, _ = f.dcim_console_site(routers=0)
    lonely = services.device_create(
        name="lonely",
        site=site,
        device_type=f.dcim_router_type(),
        role=f.DeviceRoleFactory(slug="edge"),
    )
    assert selectors.device_console_path(device=lonely) is None
    assert selectors.device_console_path(device=server) is None


def test_ssh_line_without_tcp_port_uses_port_22():
    site, server, (rtr,) = f.dcim_console_site(routers=1)
    server.console_server_ports.filter(line=1).update(access_method="ssh", tcp_port=None)
    path = selectors.device_console_path(device=rtr)
    assert (path.method, path.port) == ("ssh", 22)


def test_site_console_paths_cost_one_query_whatever_the_size():
    site, server, routers = f.dcim_console_site(routers=3)
    with CaptureQueriesContext(connection) as small:
        paths = selectors.site_console_paths(site=site)
    assert sorted(p.line for p in paths.values()) == [1, 2, 3]
    big_site, _, big_routers = f.dcim_console_site(routers=12)
    with CaptureQueriesContext(connection) as big:
        paths = selectors.site_console_paths(site=big_site)
    assert set(paths) == {r.pk for r in big_routers}
    assert len(small.captured_queries) == len(big.captured_queries) == 1


def test_console_host_resolver_fills_an_empty_console_host():
    site, server, (rtr,) = f.dcim_console_site(routers=1, host="")

    def resolver(*, device_ids):
        return {pk: "10.0.0.5" for pk in device_ids}

    selectors.console_host_resolver_register(resolver)
    try:
        assert selectors.device_console_path(device=rtr).host == "10.0.0.5"
    finally:
        selectors.console_host_resolver_unregister(resolver)
    assert selectors.device_console_path(device=rtr).host == ""


def test_credentials_resolve_device_then_site_then_default():
    default = f.CredentialProfileFactory(name="default", is_default=True)
    site_profile = f.CredentialProfileFactory(name="site")
    own = f.CredentialProfileFactory(name="own", local_password="own-secret")
    site = f.SiteFactory(credential_profile=site_profile)
    other_site = f.SiteFactory()
    with_own = f.DeviceFactory(site=site, credential_profile=own)
    at_site = f.DeviceFactory(site=site)
    elsewhere = f.DeviceFactory(site=other_site)

    assert selectors.device_credentials(device=with_own).profile == "own"
    assert selectors.device_credentials(device=with_own).local_password == "own-secret"
    assert selectors.device_credentials(device=at_site).profile == "site"
    assert selectors.device_credentials(device=elsewhere).profile == "default"
    resolved = selectors.site_device_credentials(site=site)
    assert {k: v.profile for k, v in resolved.items()} == {with_own.pk: "own", at_site.pk: "site"}

    default.delete()
    assert selectors.device_credentials(device=elsewhere) is None
    assert selectors.site_device_credentials(site=other_site) == {}


def test_credentials_repr_shows_no_secret():
    profile = f.CredentialProfileFactory(is_default=True, enable_secret="s3cr3t-enable")
    credentials = selectors.device_credentials(device=f.DeviceFactory())
    assert credentials.enable_secret == "s3cr3t-enable"
    assert "s3cr3t" not in repr(credentials)
    assert "s3cr3t" not in repr(profile)


def test_only_one_default_profile():
    f.CredentialProfileFactory(is_default=True)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already the default"):
        services.credential_profile_create(name="second", is_default=True)
    assert CredentialProfile.objects.count() == 1


def test_site_device_credentials_costs_constant_queries():
    site = f.SiteFactory(credential_profile=f.CredentialProfileFactory())
    f.DeviceFactory.create_batch(3, site=site)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            selectors.site_device_credentials(site=site)
        return len(ctx.captured_queries)

    small = count()
    f.DeviceFactory.create_batch(20, site=site, credential_profile=f.CredentialProfileFactory())
    assert count() == small == 3


def test_device_links_name_the_far_end_of_each_cabled_port():
    r1, r2, r3 = f.DeviceFactory(name="r1"), f.DeviceFactory(name="r2"), f.DeviceFactory(name="r3")
    up = f.InterfaceFactory(device=r1, name="Gi0/0/1")
    shut = f.InterfaceFactory(device=r1, name="Gi0/0/2", enabled=False)
    mgmt = f.InterfaceFactory(device=r1, name="Gi0", mgmt_only=True)
    f.InterfaceFactory(device=r1, name="Gi0/0/3")  # not cabled: not a link
    services.cable_create(a_end=up, b_end=f.InterfaceFactory(device=r2, name="Gi0/0/9"))
    services.cable_create(a_end=f.InterfaceFactory(device=r3, name="Gi0/0/4"), b_end=shut)
    services.cable_create(a_end=mgmt, b_end=f.InterfaceFactory(device=r3, name="Gi0/0/5"))
    with CaptureQueriesContext(connection) as ctx:
        links = selectors.device_links(device=r1)
    assert links == [
        selectors.DeviceLink(name="Gi0/0/1", enabled=True, peer_device="r2", peer_port="Gi0/0/9"),
        selectors.DeviceLink(name="Gi0/0/2", enabled=False, peer_device="r3", peer_port="Gi0/0/4"),
    ]
    assert len(ctx.captured_queries) == 2
