"""A template override that fails or runs away answers the render error (422) naming the
template, the line and the reason — never a 500, never minutes of CPU or gigabytes of RAM."""

import time

import pytest

from tests.configs.designs import default_credentials, pop_core_site
from tests.configs.samples import sample_context
from turnup.configs import sandbox
from turnup.configs.models import ConfigVersion
from turnup.configs.rendering import TemplateRenderError, build_environment, render_config
from turnup.dcim.models import Device

FAILING = [
    ("{{ 1/0 }}", 1, "ZeroDivisionError: division by zero"),
    ("ok\n{{ 1 + 'a' }}", 2, "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
    ("{% include 'nope/x.j2' %}", 1, "included template 'nope/x.j2' does not exist"),
    ("{% include 'cisco_iosxe/edge.j2' %}", 1, "nested too deeply"),
    ("{% for i in range(10**9) %}{% endfor %}", 1, "OverflowError: Range too big"),
    ("{{ {}|dictsort(by='x') }}", 1, 'You can only sort by either "key" or "value"'),
    ("{{ 'x'|indent(10**10) }}", 1, "the indent filter would be 10,000,000,001 characters long"),
    ("{{ 'x' * 10**10 }}", 1, "str * int would be 10,000,000,000 characters long"),
    ("{{ 'x'.ljust(10**10) }}", 1, "str.ljust() would be 10,000,000,000 characters long"),
    ("{{ '{:>10000000000}'.format('x') }}", 1, "str.format(): a field of width 10000000000"),
    ("{{ '%10000000000s' % 'x' }}", 1, "str % str: a field of width 10000000000"),
    (
        "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        1,
        "a ~ concatenation would be 1,048,576 characters long",
    ),
    (
        "{% for i in range(100000) %}{{ 'y' * 100 }}{% endfor %}",
        None,
        "the rendered text would be 1,000,100 characters long; the limit is 1,000,000",
    ),
]


@pytest.mark.parametrize(("text", "line", "reason"), FAILING)
def test_a_failing_override_is_a_render_error_naming_template_line_and_reason(text, line, reason):
    env = build_environment(overrides={"cisco_iosxe/edge.j2": text})
    started = time.monotonic()
    with pytest.raises(TemplateRenderError) as caught:
        render_config(context=sample_context("cisco_iosxe", "edge"), kind="full", env=env)
    assert time.monotonic() - started < 2
    extra = caught.value.extra
    assert (extra["template"], extra["line"]) == ("cisco_iosxe/edge.j2", line)
    assert extra["reason"].startswith(reason), extra["reason"]
    assert caught.value.message.startswith("template cisco_iosxe/edge.j2")
    assert reason in caught.value.message


def test_an_error_in_an_included_partial_names_the_partial():
    env = build_environment(
        overrides={
            "cisco_iosxe/edge.j2": "hostname x\n{% include 'cisco_iosxe/partials/p.j2' %}\n",
            "cisco_iosxe/partials/p.j2": "a\nb\n{{ 10 // 0 }}\n",
        }
    )
    with pytest.raises(TemplateRenderError) as caught:
        render_config(context=sample_context("cisco_iosxe", "edge"), kind="full", env=env)
    assert (caught.value.extra["template"], caught.value.extra["line"]) == (
        "cisco_iosxe/partials/p.j2",
        3,
    )


def test_a_render_that_runs_too_long_is_stopped(monkeypatch):
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.2)
    env = build_environment(
        overrides={
            "cisco_iosxe/edge.j2": "{% set s = 'x' * 100000 %}"
            "{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}"
        }
    )
    started = time.monotonic()
    with pytest.raises(TemplateRenderError) as caught:
        render_config(context=sample_context("cisco_iosxe", "edge"), kind="full", env=env)
    assert time.monotonic() - started < 2
    assert caught.value.extra["reason"] == "the render took longer than 0.2 s"


def test_the_limits_leave_a_large_ordinary_config_alone():
    text = (
        "{% for i in range(20000) %}interface Gi{{ i }}\n description {{ 'x' * 10 }}\n{% endfor %}"
    )
    env = build_environment(overrides={"cisco_iosxe/edge.j2": text})
    out = render_config(context=sample_context("cisco_iosxe", "edge"), kind="full", env=env)
    assert out.count("interface Gi") == 20000


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["{{ 1/0 }}", "{% include 'cisco_iosxe/edge.j2' %}"])
def test_api_answers_the_render_error_for_a_device_and_a_site(api_client, local_storage, text):
    default_credentials()
    site = pop_core_site()
    created = api_client.post(
        "/api/configs/templates/", {"path": "cisco_iosxe/edge.j2", "text": text}, format="json"
    )
    assert created.status_code == 201, created.content
    edge = Device.objects.get(name="lon-01-er1")

    device = api_client.get(f"/api/devices/{edge.pk}/config/?kind=full")
    assert device.status_code == 422, device.content
    assert device.json()["extra"]["template"] == "cisco_iosxe/edge.j2"
    assert device.json()["message"].startswith("template cisco_iosxe/edge.j2 line 1: ")

    rendered = api_client.post(f"/api/sites/{site.pk}/render/")
    assert rendered.status_code == 422, rendered.content
    assert rendered.json()["extra"]["template"] == "cisco_iosxe/edge.j2"
    assert not ConfigVersion.objects.exists()  # nothing half-stored
