import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.configs.designs import default_credentials, pop_core_site, scale_site
from turnup.configs.selectors import site_render_context
from turnup.configs.services import site_render

pytestmark = pytest.mark.django_db


def test_pop_core_site_renders_and_lints_clean():
    default_credentials()
    site = pop_core_site()
    result = site_render(site=site, store=False)
    assert result.problems == {}
    names = sorted({c.hostname for c in result.configs})
    assert names == ["lon-01-cr1", "lon-01-cr2", "lon-01-er1", "lon-01-er2"]
    assert len(result.configs) == 8
    for config in result.configs:
        assert config.findings == (), (config.hostname, config.kind, config.findings)
    edge = next(c for c in result.configs if c.hostname == "lon-01-er1" and c.kind == "full")
    assert "description to lon-01-cr1 " in edge.text
    assert "router bgp 42000" in edge.text
    core = next(c for c in result.configs if c.hostname == "lon-01-cr1" and c.kind == "full")
    assert 'set interfaces et-0/0/0 description "to lon-01-cr2 et-0/0/0"' in core.text


def test_secrets_are_hashed_never_in_clear():
    default_credentials()
    site = pop_core_site()
    result = site_render(site=site, store=False)
    for config in result.configs:
        for secret in ("local-secret-1", "root-secret-1", "enable-secret-1", "auth-key-123"):
            assert secret not in config.text
    junos = next(c for c in result.configs if c.platform == "juniper_junos")
    assert 'root-authentication encrypted-password "$6$' in junos.text
    ios = next(c for c in result.configs if c.platform == "cisco_iosxe")
    assert "username turnup privilege 15 secret 9 $9$" in ios.text


def test_device_without_management_address_is_a_problem_not_a_crash():
    from turnup.ipam.models import IPAddress

    default_credentials()
    site = pop_core_site()
    IPAddress.objects.filter(device__name="lon-01-er2", is_primary_mgmt=True).delete()
    context = site_render_context(site=site)
    assert "lon-01-er2" in context.problems
    assert "management address" in context.problems["lon-01-er2"]
    assert len(context.devices) == 3


def test_render_context_query_count_does_not_grow_with_the_site():
    default_credentials()
    small = scale_site("SML-01", 2)  # 4 routers
    large = scale_site("BIG-01", 20)  # 40 routers
    counts = []
    for site in (small, large):
        with CaptureQueriesContext(connection) as queries:
            context = site_render_context(site=site)
        counts.append(len(queries))
        assert context.problems == {}
    assert len(context.devices) == 40
    assert counts[0] == counts[1], counts


def test_site_render_query_count_does_not_grow_with_the_site(local_storage):
    default_credentials()
    small = scale_site("SML-01", 2)
    large = scale_site("BIG-01", 20)
    counts, inserts = [], []
    for site in (small, large):
        with CaptureQueriesContext(connection) as queries:
            result = site_render(site=site)
        statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
        # Version rows go in one INSERT per batch the database accepts (SQLite caps the
        # parameters of a statement); everything else is a constant number of queries.
        counts.append(sum(1 for sql in statements if not sql.startswith("INSERT")))
        inserts.append(sum(1 for sql in statements if sql.startswith("INSERT")))
        assert result.lint_errors == 0 and result.changed == len(result.configs)
    assert counts[0] == counts[1], counts
    assert inserts[0] == 1 and inserts[1] <= 2, inserts
    assert len(result.configs) == 80


def test_device_configs_for_push_archive_once_and_refuse_lint_errors(local_storage):
    from turnup.configs.models import ConfigTemplate, ConfigVersion
    from turnup.configs.services import device_configs_for_push
    from turnup.core.errors import ApplicationError
    from turnup.dcim.models import Device

    default_credentials()
    pop_core_site()
    device = Device.objects.get(name="lon-01-cr1")
    first = device_configs_for_push(device=device, kinds=("bootstrap",))["bootstrap"]
    assert first.text.startswith("set system host-name lon-01-cr1\n")
    assert first.size == len(first.text.encode())
    again = device_configs_for_push(device=device, kinds=("bootstrap",))["bootstrap"]
    assert again.version_id == first.version_id
    assert ConfigVersion.objects.filter(device=device).count() == 1

    # A site override that drops SSH from the Junos bootstrap: lint refuses to hand it out.
    ConfigTemplate.objects.create(
        path="juniper_junos/partials/services_bootstrap.j2",
        text="set system services netconf ssh\n",
    )
    with pytest.raises(ApplicationError) as caught:
        device_configs_for_push(device=device, kinds=("bootstrap",))["bootstrap"]
    assert {f["rule"] for f in caught.value.extra["findings"]} == {"ssh"}
    assert ConfigVersion.objects.filter(device=device).count() == 1


def test_site_render_task_returns_a_summary(local_storage):
    from turnup.configs.tasks import site_render_task

    default_credentials()
    site = pop_core_site()
    summary = site_render_task.apply(args=[site.pk]).get()
    assert summary == {
        "site_id": site.pk,
        "configs": 8,
        "changed": 8,
        "lint_errors": 0,
        "problems": {},
    }
    assert site_render_task.apply(args=[site.pk]).get()["changed"] == 0


def test_running_config_archive_diffs_against_the_rendered_full_config(local_storage):
    from turnup.configs.services import device_configs_for_push, running_config_archive
    from turnup.dcim.models import Device

    default_credentials()
    pop_core_site()
    device = Device.objects.get(name="lon-01-er1")
    full = device_configs_for_push(device=device, kinds=("full",))["full"]

    same = running_config_archive(device=device, text=full.text, rendered=full)
    assert same.created and same.diff == "" and same.rendered_version_id == full.version_id
    assert same.version.kind == "running"
    assert not running_config_archive(device=device, text=full.text, rendered=full).created

    drifted = running_config_archive(
        device=device,
        text=full.text.replace("logging trap informational", "logging trap debugging"),
        rendered=full,
    )
    assert drifted.created and drifted.version.pk != same.version.pk
    assert "-logging trap informational\n" in drifted.diff
    assert "+logging trap debugging\n" in drifted.diff


def test_both_kinds_for_push_come_from_one_render_of_the_router(local_storage):
    from turnup.configs.services import device_configs_for_push
    from turnup.dcim.models import Device

    default_credentials()
    pop_core_site()
    device = Device.objects.get(name="lon-01-er1")
    both = device_configs_for_push(device=device, kinds=("bootstrap", "full"))
    assert set(both) == {"bootstrap", "full"}
    assert both["bootstrap"].version_id != both["full"].version_id
    assert both["full"].text == device_configs_for_push(device=device, kinds=("full",))["full"].text
    with CaptureQueriesContext(connection) as one:
        device_configs_for_push(device=device, kinds=("full",))
    with CaptureQueriesContext(connection) as two:
        device_configs_for_push(device=device, kinds=("bootstrap", "full"))
    assert len(two) == len(one)
