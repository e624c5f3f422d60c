from dataclasses import replace
from pathlib import Path

import pytest

from tests.configs.samples import sample_context
from turnup.configs.context import KINDS, RENDERED_PLATFORMS, ROLES, InterfaceContext
from turnup.configs.lint import ios_tree, ios_tree_ciscoconfparse2, lint_config
from turnup.configs.rendering import render_config

GOLDEN = Path(__file__).parent / "golden"


def rules(findings):
    return sorted({(f.severity, f.rule) for f in findings})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("platform", RENDERED_PLATFORMS)
def test_every_shipped_template_lints_clean(platform, role, kind):
    context = sample_context(platform, role)
    text = render_config(context=context, kind=kind)
    assert lint_config(text=text, context=context, kind=kind) == []


def flatten(nodes, depth=0):
    for node in nodes:
        yield depth, node.text, node.number
        yield from flatten(node.children, depth + 1)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("cisco_iosxe/*.cfg")), ids=lambda p: p.name)
def test_fast_ios_tree_equals_ciscoconfparse2(path):
    text = path.read_text()
    fast = list(flatten(ios_tree(text)))
    reference = [
        item for item in flatten(ios_tree_ciscoconfparse2(text)) if not item[1].startswith("^")
    ]
    # ciscoconfparse2 keeps banner body lines as top-level lines; ios_tree skips them.
    banner_body = {"Authorised access only.", "LON-01 - property of Example Networks."}
    reference = [item for item in reference if item[1] not in banner_body]
    assert fast == reference


def test_ciscoconfparse2_lint_gives_the_same_findings():
    context = sample_context("cisco_iosxe", "edge")
    text = render_config(context=context, kind="full").replace(
        " transport input ssh", " transport input telnet ssh"
    )
    fast = lint_config(text=text, context=context, kind="full")
    assert fast == lint_config(text=text, context=context, kind="full", parser="ciscoconfparse2")
    assert ("error", "telnet") in rules(fast)


def ios(kind="full"):
    context = sample_context("cisco_iosxe", "core")
    return context, render_config(context=context, kind=kind)


def test_ios_telnet_plaintext_and_wrong_hostname_are_errors():
    context, text = ios()
    text = text.replace("hostname LON-01-core-1", "hostname Router")
    text = text.replace(" transport input ssh", " transport input all")
    text += "username oops password hunter2\nenable secret 0 hunter2\n"
    found = rules(lint_config(text=text, context=context, kind="full"))
    assert ("error", "hostname") in found
    assert ("error", "telnet") in found
    assert ("error", "plaintext-secret") in found


def test_ios_cabled_interface_without_address_is_an_error():
    context, text = ios()
    extra = InterfaceContext(name="TenGigabitEthernet0/1/5", description="to X y")
    context = replace(context, interfaces=(*context.interfaces, extra))
    text += "interface TenGigabitEthernet0/1/5\n description to X y\n no ip address\n"
    findings = lint_config(text=text, context=context, kind="full")
    assert [(f.rule, f.object_name) for f in findings] == [
        ("cabled-interface", "LON-01-core-1 TenGigabitEthernet0/1/5")
    ]
    assert findings[0].line is not None


def test_ios_bootstrap_without_ssh_pieces_is_an_error():
    context, text = ios("bootstrap")
    text = text.replace("crypto key generate rsa modulus 2048\n", "").replace("netconf-yang\n", "")
    found = rules(lint_config(text=text, context=context, kind="bootstrap"))
    assert found == [("error", "netconf"), ("error", "ssh")]


def test_ios_clear_snmp_key_is_an_error():
    context, text = ios()
    text += "snmp-server user u G v3 auth sha plainpass1 priv aes 128 plainpass2\n"
    assert ("error", "plaintext-secret") in rules(
        lint_config(text=text, context=context, kind="full")
    )


def junos(kind="full"):
    context = sample_context("juniper_junos", "edge")
    return context, render_config(context=context, kind=kind)


def test_junos_missing_root_authentication_and_ssh():
    context, text = junos("bootstrap")
    text = "\n".join(
        line
        for line in text.splitlines()
        if "root-authentication" not in line and "services ssh" not in line
    )
    found = rules(lint_config(text=text, context=context, kind="bootstrap"))
    assert found == [("error", "root-authentication"), ("error", "ssh")]


def test_junos_malformed_lines():
    context, text = junos()
    text += 'set interfaces xe-0/0/9 description "unbalanced\n'
    text += "system { host-name x; }\n"
    text += "set system\n"
    findings = [f for f in lint_config(text=text, context=context, kind="full")]
    assert [f.rule for f in findings] == ["syntax", "syntax", "syntax"]
    assert "unbalanced quotes" in findings[0].message


def test_junos_wrong_hostname_telnet_plaintext_and_unaddressed_interface():
    context, text = junos()
    text = text.replace("host-name LON-01-edge-1", "host-name other")
    text = text.replace("set interfaces xe-0/0/1 unit 0 family inet address 10.1.0.2/31\n", "")
    text += "set system services telnet\n"
    text += 'set system login user x authentication plain-text-password-value "p"\n'
    found = rules(lint_config(text=text, context=context, kind="full"))
    assert found == [
        ("error", "cabled-interface"),
        ("error", "hostname"),
        ("error", "plaintext-secret"),
        ("error", "telnet"),
    ]


def test_quoted_braces_are_not_syntax_errors():
    context, text = junos()
    text += 'set system login message "a {curly} banner; ok"\n'
    assert lint_config(text=text, context=context, kind="full") == []
