import pytest

from tests.configs.samples import sample_context
from turnup.configs.rendering import (
    TemplateRenderError,
    build_environment,
    junos_quote,
    render_config,
)


def test_missing_variable_names_template_line_and_variable():
    env = build_environment(
        overrides={
            "cisco_iosxe/core.j2": '{% include "cisco_iosxe/partials/x.j2" %}\n',
            "cisco_iosxe/partials/x.j2": "hostname {{ device.hostname }}\n\nntp {{ vars.ntp }}\n",
        }
    )
    with pytest.raises(TemplateRenderError) as caught:
        render_config(context=sample_context("cisco_iosxe", "core"), kind="full", env=env)
    extra = caught.value.extra
    assert extra["template"] == "cisco_iosxe/partials/x.j2"
    assert extra["line"] == 3
    assert extra["variable"] == "ntp"
    assert "cisco_iosxe/partials/x.j2 line 3" in caught.value.message


def test_missing_attribute_is_an_error_not_an_empty_string():
    env = build_environment(overrides={"juniper_junos/edge.j2": "set x {{ device.nope }}\n"})
    with pytest.raises(TemplateRenderError) as caught:
        render_config(context=sample_context("juniper_junos", "edge"), kind="full", env=env)
    assert caught.value.extra["variable"] == "nope"
    assert caught.value.extra["template"] == "juniper_junos/edge.j2"


def test_sandbox_refuses_python_internals():
    env = build_environment(
        overrides={"cisco_iosxe/core.j2": "{{ device.__class__.__mro__[1].__subclasses__() }}\n"}
    )
    with pytest.raises(TemplateRenderError):
        render_config(context=sample_context("cisco_iosxe", "core"), kind="full", env=env)


def test_folder_override_replaces_a_partial_and_shipped_is_the_fallback(tmp_path):
    folder = tmp_path / "cisco_iosxe" / "partials"
    folder.mkdir(parents=True)
    (folder / "ntp.j2").write_text("ntp server vrf {{ device.mgmt.vrf }} 192.0.2.123\n")
    env = build_environment(folders=[tmp_path])
    text = render_config(context=sample_context("cisco_iosxe", "core"), kind="full", env=env)
    assert "ntp server vrf Mgmt-vrf 192.0.2.123" in text
    assert "ntp server vrf Mgmt-vrf 10.10.0.123" not in text
    assert "router ospf 1" in text  # everything else still comes from the shipped templates


def test_unknown_role_falls_back_to_default_template():
    context = sample_context("juniper_junos", "core")
    from dataclasses import replace

    text = render_config(context=replace(context, role="spine"), kind="full")
    assert "set system host-name LON-01-core-1" in text


def test_bootstrap_has_no_comments_or_blank_lines_and_is_small():
    for platform in ("cisco_iosxe", "juniper_junos"):
        text = render_config(context=sample_context(platform, "core"), kind="bootstrap")
        lines = text.splitlines()
        assert all(line.strip() for line in lines)
        assert not any(line.startswith(("!", "#")) for line in lines)
        assert len(text.encode()) < 1024


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "abc"), ("to x y", '"to x y"'), ('a"b', '"a\\"b"'), ("", '""'), ("a\nb", '"a\\nb"')],
)
def test_junos_quote(value, expected):
    assert junos_quote(value) == expected


@pytest.mark.django_db
def test_environment_order_database_then_data_dir_then_shipped(settings, tmp_path):
    from turnup.configs.models import ConfigTemplate
    from turnup.configs.selectors import template_environment

    settings.DATA_DIR = tmp_path
    context = sample_context("juniper_junos", "core")
    folder = tmp_path / "templates" / "juniper_junos" / "partials"
    folder.mkdir(parents=True)
    (folder / "ntp.j2").write_text("set system ntp server 192.0.2.7\n")
    text = render_config(context=context, kind="full", env=template_environment())
    assert "set system ntp server 192.0.2.7\n" in text

    ConfigTemplate.objects.create(
        path="juniper_junos/partials/ntp.j2", text="set system ntp server 192.0.2.8"
    )
    text = render_config(context=context, kind="full", env=template_environment())
    assert "set system ntp server 192.0.2.8\n" in text and "192.0.2.7" not in text

    ConfigTemplate.objects.update(enabled=False)
    (folder / "ntp.j2").unlink()
    text = render_config(context=context, kind="full", env=template_environment())
    assert "set system ntp server 10.10.0.123 routing-instance mgmt_junos" in text
