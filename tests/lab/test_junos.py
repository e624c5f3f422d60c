"""The Junos model driven directly (no sockets): console login, CLI, configuration mode,
commit rules, load terminal, commit confirmed, the console XML mode, management state."""

from __future__ import annotations

import asyncio
import re
import xml.etree.ElementTree as ET

import pytest

from turnup.lab import junos_config as jc
from turnup.lab.device import Clock, RouterSpec, build_router

ROOT_HASH = (
    "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOf"
    "aS35inz1"
)  # "Hello world!" (the SHA-512 crypt test vector of its specification)


def netconf_ready(address: str, interfaces: str = "") -> str:
    """A Junos startup config that answers NETCONF over SSH as ``admin`` (password: what
    ROOT_HASH hashes) on fxp0 ``address``/24, with ``interfaces`` statements beside it."""
    return f"""system {{
    host-name j1;
    root-authentication {{ encrypted-password "{ROOT_HASH}"; }}
    login {{
        user admin {{ class super-user; authentication {{ encrypted-password "{ROOT_HASH}"; }} }}
    }}
    services {{ ssh; netconf {{ ssh; }} }}
    management-instance;
}}
interfaces {{
    fxp0 {{ unit 0 {{ family inet {{ address {address}/24; }} }} }}
{interfaces}}}
"""


BOOTSTRAP = f"""\
set system host-name r1
set system root-authentication encrypted-password "{ROOT_HASH}"
set system login user admin class super-user authentication encrypted-password "{ROOT_HASH}"
set system services ssh
set system services netconf ssh
set system management-instance
set interfaces fxp0 unit 0 family inet address 10.9.0.5/24
set routing-instances mgmt_junos routing-options static route 0.0.0.0/0 next-hop 10.9.0.1
"""


class Term:
    """A router on a private loop; ``type()`` feeds keystrokes honouring the busy time."""

    def __init__(self, **options):
        self.loop = asyncio.new_event_loop()
        self.clock = Clock(time_scale=0.001, loop=self.loop)
        spec = RouterSpec(name="r1", platform="juniper_junos", options=options)
        self.router = build_router(spec, self.clock)
        self.output = bytearray()
        self.seen = 0
        self.router.attach(self)
        self.router.power_on()

    def write(self, data: bytes) -> None:
        self.output += data

    def hangup(self) -> None:
        pass

    def settle(self, seconds: float = 0.0) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def feed(self, target, text: str) -> None:
        data = text.encode()
        while data:
            consumed, busy = target.feed(data)
            data = data[consumed:]
            self.settle(self.clock.scaled(busy))
        self.settle(0.001)

    def type(self, text: str) -> str:
        self.feed(self.router, text)
        return self.new()

    def new(self) -> str:
        text = self.output[self.seen :].decode()
        self.seen = len(self.output)
        return text.replace("\r\n", "\n")

    def cli(self) -> None:
        self.type("root\r")
        self.type("cli\r")

    def configure(self) -> None:
        self.cli()
        self.type("configure\r")

    def close(self) -> None:
        self.loop.close()


@pytest.fixture
def term():
    terms = []

    def make(**options) -> Term:
        t = Term(**options)
        terms.append(t)
        return t

    yield make
    for t in terms:
        t.close()


def test_factory_console_login_shell_cli_and_configuration_prompts(term):
    t = term()
    assert t.new().endswith("Amnesiac (ttyu0)\n\nlogin: ")
    out = t.type("root\r")
    assert "--- JUNOS 21.4R3-S3.4" in out
    assert out.endswith("root@:RE:0% ")
    assert t.type("cli\r").endswith("root> ")
    out = t.type("configure\r")
    assert out == "configure\nEntering configuration mode\n\n[edit]\nroot# "
    assert t.type("set system host-name r1\r") == "set system host-name r1\n\n[edit]\nroot# "
    assert t.router.state() == "config"


def test_commit_refused_without_root_authentication(term):
    t = term()
    t.configure()
    t.type("set system host-name r1\r")
    out = t.type("commit\r")
    assert (
        "[edit]\n  'system'\n    Missing mandatory statement: 'root-authentication'\n"
        "error: commit failed: (missing mandatory statements)\n"
    ) in out
    out = t.type("commit check\r")
    assert "error: configuration check-out failed: (missing mandatory statements)" in out
    assert t.router.hostname == ""  # nothing committed
    t.type(f'set system root-authentication encrypted-password "{ROOT_HASH}"\r')
    assert "configuration check succeeds" in t.type("commit check\r")
    out = t.type("commit\r")
    assert "commit complete" in out
    assert out.endswith("[edit]\nroot@r1# ")  # the new host name is in the prompt at once


def test_syntax_errors_point_at_the_bad_word(term):
    t = term()
    t.configure()
    out = t.type("set foo bar\r")
    assert out == "set foo bar\n          ^\nsyntax error.\n\n[edit]\nroot# "
    out = t.type("set system host-nme r1\r")
    assert "                 ^\nsyntax error." in out
    assert "missing argument." in t.type("set system host-name\r")
    out = t.type("set interfaces GigabitEthernet0/0/0 unit 0\r")
    assert "invalid interface type in 'GigabitEthernet0/0/0'" in out
    assert "invalid prefix" in t.type(
        "set interfaces ge-0/0/0 unit 0 family inet address 1.2.3/33\r"
    )
    assert "not within range" in t.type("set interfaces ge-0/0/0 unit 0 family inet mtu 70000\r")
    assert "unknown command." in t.type("frobnicate\r")
    assert t.router.candidate == t.router.committed  # none of it reached the candidate


def test_show_compare_display_set_and_rollback(term):
    t = term()
    t.configure()
    t.type("set system host-name r1\r")
    t.type('set interfaces ge-0/0/0 description "to core"\r')
    out = t.type("show | compare\r")
    assert "[edit system]\n+  host-name r1;\n" in out
    assert '[edit]\n+  interfaces {\n+      ge-0/0/0 {\n+          description "to core";' in out
    out = t.type("show interfaces | display set\r")
    assert 'set interfaces ge-0/0/0 description "to core"' in out
    t.type("edit interfaces ge-0/0/0\r")
    out = t.type("set unit 0 family inet address 10.0.0.1/31\r")
    assert out.endswith("[edit interfaces ge-0/0/0]\nroot# ")
    t.type("top\r")
    assert "address 10.0.0.1/31" in t.type("show interfaces\r")
    out = t.type("rollback 0\r")
    assert "load complete" in out
    assert t.type("show | compare\r").startswith("show | compare\n\n[edit]")  # empty diff
    assert "error: rollback 7 does not exist" in t.type("rollback 7\r")


def test_load_terminal_merge_and_set_end_with_ctrl_d(term):
    t = term()
    t.configure()
    out = t.type("load merge terminal\r")
    assert "[Type ^D at a new line to end input]" in out
    t.type("system {\r    host-name r7;\r    services { ssh; }\r}\r")
    out = t.type("\x04")
    assert "load complete" in out
    assert t.router.candidate.find("system services ssh") is not None
    t.type("load set terminal\r")
    t.type("set snmp location lab\rset bogus statement\rdelete system services ssh\r")
    out = t.type("\x04")
    assert "terminal:2:(4) syntax error: bogus" in out
    assert "load complete (1 errors)" in out
    assert t.router.candidate.find("snmp").value("location") == "lab"
    assert t.router.candidate.find("system services") is None  # emptied parents pruned


def test_commit_confirmed_rolls_back_and_broadcasts_unless_confirmed(term):
    t = term()
    t.configure()
    t.type(BOOTSTRAP.replace("\n", "\r"))
    out = t.type("commit confirmed 1\r")
    assert "commit confirmed will be automatically rolled back in 1 minutes unless confirmed" in out
    assert "# commit confirmed will be rolled back in 1 minutes\n[edit]" in out
    assert t.router.management() is not None
    t.settle(0.08)  # 60 router seconds at time_scale 0.001
    out = t.new()
    assert "Broadcast Message from root@r1" in out
    assert "Commit was not confirmed; automatic rollback complete." in out
    assert t.router.management() is None
    assert t.router.hostname == ""
    # confirmed in time: a plain commit confirms
    t.type("rollback 1\r")
    t.type("commit confirmed 1\r")
    t.type("commit\r")
    t.settle(0.08)
    assert "Broadcast" not in t.new()
    assert t.router.hostname == "r1"
    assert "via cli" in t.type("run show system commit\r")


def test_management_plane_and_logins_from_committed_config(term):
    t = term()
    t.configure()
    t.type(BOOTSTRAP.replace("\n", "\r"))
    assert t.router.management() is None  # candidate only
    t.type("commit\r")
    mgmt = t.router.management()
    assert (mgmt.address, mgmt.vrf, mgmt.ssh, mgmt.netconf) == ("10.9.0.5", "mgmt_junos", 1, 1)
    assert {u.name for u in mgmt.users} == {"root", "admin"}
    assert t.router.check_login("admin", "Hello world!")
    assert not t.router.check_login("admin", "wrong")
    # root now needs its password on the console
    t.type("exit configuration-mode\r")
    t.type("exit\r")
    out = t.type("exit\r")
    assert out.endswith("r1 (ttyu0)\n\nlogin: ")
    assert t.type("root\r").endswith("Password:")
    assert "Login incorrect" in t.type("nope\r")
    t.type("root\r")
    assert t.type("Hello world!\r").endswith("root@r1:RE:0% ")


def test_plain_text_password_prompts_and_stores_a_sha512_hash(term):
    t = term()
    t.configure()
    assert t.type("set system root-authentication plain-text-password\r").endswith("New password:")
    assert t.type("lab-pass1\r").endswith("Retype new password:")
    t.type("lab-pass1\r")
    stored = t.router.candidate.find("system root-authentication").value("encrypted-password")
    assert stored.startswith("$6$") and jc.verify_password("lab-pass1", stored)
    assert "lab-pass1" not in t.output.decode()  # never echoed


def test_exclusive_lock_and_modified_database(term):
    t = term()
    router = t.router
    t.configure()
    t.type("set system host-name r1\r")
    with pytest.raises(ValueError, match="configuration database modified"):
        router.lock(object(), "someone")
    t.type("rollback 0\r")
    other = object()
    router.lock(other, "admin via netconf")
    out = t.type("set system host-name r2\r")
    assert "error: configuration database locked by:" in out
    router.unlock(other)


def rpc(t: Term, body: str) -> ET.Element:
    t.feed(t.router, f"<rpc>{body}</rpc>")
    t.settle(0.01)
    raw = t.new()
    assert raw.rstrip().endswith("]]>]]>"), raw
    return ET.fromstring(raw.split("]]>]]>")[0].strip())


NC = "{urn:ietf:params:xml:ns:netconf:base:1.0}"


def test_console_xml_mode_speaks_what_pyez_expects(term):
    t = term()
    t.type("root\r")
    out = t.type("xml-mode netconf need-trailer\n")
    lines = out.split("\n")
    assert lines[1] == "<!-- No zombies were killed during the creation of this user interface -->"
    assert lines[2] == "<!-- user root, class super-user -->"
    assert out.rstrip().endswith("</hello>\n]]>]]>")
    reply = rpc(t, "<lock-configuration/>")
    assert reply.find(f"{NC}ok") is not None
    sets = "set system host-name r1\nset bogus x"
    reply = rpc(
        t,
        f'<load-configuration action="set" format="text"><configuration-set>{sets}'
        "</configuration-set></load-configuration>",
    )
    errors = reply.findall(f".//{NC}rpc-error")
    assert [e.findtext(f"{NC}error-message") for e in errors] == ["syntax error"]
    reply = rpc(t, '<get-configuration compare="rollback" rollback="0" format="text"/>')
    assert "+  host-name r1;" in reply.findtext(f".//{NC}configuration-output")
    reply = rpc(t, "<commit-configuration/>")
    messages = [e.findtext(f"{NC}error-message") for e in reply.iter(f"{NC}rpc-error")]
    assert messages == [
        "Missing mandatory statement: 'root-authentication'",
        "commit failed: (missing mandatory statements)",
    ]
    reply = rpc(t, "<get-software-information/>")
    assert reply.findtext(f".//{NC}junos-version") == "21.4R3-S3.4"
    reply = rpc(t, '<get-configuration database="committed"/>')
    assert reply.find(f".//{NC}configuration/{NC}system/{NC}syslog") is not None
    t.feed(t.router, "<rpc><close-session/></rpc>")
    t.settle(0.01)
    out = t.new()
    assert re.search(
        r"<!-- session end at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC -->\nroot@:RE:0% $", out
    )
    assert t.router.lock_owner is None  # the lock went with the session


def test_config_forms_round_trip():
    root = jc.Node()
    assert jc.parse_set_lines(BOOTSTRAP, root) == []
    curly = "\n".join(jc.render_curly(root))
    assert 'encrypted-password "$6$saltstring$' in curly and "## SECRET-DATA" in curly
    assert "route 0.0.0.0/0 next-hop 10.9.0.1;" in curly
    again, errors, _ = jc.parse_curly(curly)
    assert errors == [] and again == root
    from_xml, _ = jc.from_xml(jc.config_xml(root))
    assert from_xml == root
    assert "\n".join(jc.render_set(root)) + "\n" == BOOTSTRAP.replace(
        "user admin class super-user authentication",
        "user admin class super-user\nset system login user admin authentication",
    )


def test_password_hashes():
    assert jc.verify_password("Hello world!", ROOT_HASH)
    assert not jc.verify_password("Hello world", ROOT_HASH)
    assert jc.verify_password(
        "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
    )
    fresh = jc.hash_password("s3cret!")
    assert fresh.startswith("$6$") and jc.verify_password("s3cret!", fresh)


def test_reboot_after_commit_fault_and_silent_fault(term):
    t = term()
    t.router.faults.reboot_after_save = True
    t.configure()
    t.type(BOOTSTRAP.replace("\n", "\r"))
    out = t.type("commit\r")
    t.settle(0.05)
    out += t.new()
    assert "*** FINAL System shutdown message from root@r1 ***" in out
    assert out.endswith("r1 (ttyu0)\n\nlogin: ")  # booted again with the committed config
    assert t.router.hostname == "r1" and t.router.management() is not None
    t.router.faults.silent = True
    assert t.type("root\r") == ""
    assert t.router.state() == "login"


def test_junoscript_from_the_cli_returns_to_the_cli(term):
    t = term()
    t.cli()
    out = t.type("junoscript netconf need-trailer\r")
    assert "<!-- user root, class super-user -->" in out and "]]>]]>" in out
    assert t.router.state() == "xml"
    t.feed(t.router, "<rpc><close-session/></rpc>")
    assert t.new().endswith("-->\nroot> ")


def test_power_cycle_with_a_pending_commit_confirmed_rolls_back_at_boot(term):
    t = term()
    t.configure()
    t.type(BOOTSTRAP.replace("\n", "\r"))
    t.type("commit\r")
    t.type("set snmp location lab\r")
    t.type("commit confirmed 5\r")
    t.router.power_on()  # the lab's /reload
    t.settle(0.01)
    assert t.router.committed.find("snmp") is None
    assert t.router.history[0].comment == "rollback"
    assert t.new().endswith("r1 (ttyu0)\n\nlogin: ")
    t.settle(0.4)  # the cancelled timer does not roll back a second time
    assert t.router.history[0].comment == "rollback" and len(t.router.history) == 4


def test_cli_pages_long_output_until_screen_length_is_zero(term):
    t = term()
    t.configure()
    t.type(BOOTSTRAP.replace("\n", "\r"))
    t.type("commit and-quit\r")
    out = t.type("show configuration\r")
    assert out.count("\n") == 24 and re.search(r"---\(more \d+%\)---$", out)
    out = t.type(" ")
    assert "---(more" in out or out.endswith("root@r1> ")
    while "---(more" in out:
        out = t.type(" ")
    assert out.endswith("root@r1> ")
    assert t.type("show configuration\r").endswith("%)---")
    assert t.type("q").endswith("\rroot@r1> ")
    assert t.type("show configuration | no-more\r").endswith("}\nroot@r1> ")
    assert t.type("set cli screen-length 0\r").endswith("Screen length set to 0\nroot@r1> ")
    assert "---(more" not in t.type("show configuration\r")


def test_xml_load_merge_delete_and_replace(term):
    t = term()
    t.type("root\r")
    t.type("xml-mode netconf need-trailer\r")
    rpc(
        t,
        "<load-configuration><configuration><system><host-name>r1</host-name>"
        "<services><ssh/><telnet/></services></system><interfaces><interface>"
        "<name>ge-0/0/0</name><unit><name>0</name><family><inet><address>"
        "<name>10.0.0.1/31</name></address></inet></family></unit></interface></interfaces>"
        "</configuration></load-configuration>",
    )
    candidate = t.router.candidate
    assert candidate.find("system services telnet") is not None
    assert candidate.get(("interfaces",), ("ge-0/0/0",), ("unit", "0"), ("family", "inet"))
    rpc(
        t,
        '<load-configuration><configuration><system><services><telnet delete="delete"/>'
        '</services><syslog replace="replace"><file><name>messages</name><any>info</any>'
        "</file></syslog></system></configuration></load-configuration>",
    )
    candidate = t.router.candidate
    assert candidate.find("system services telnet") is None
    assert candidate.find("system services ssh") is not None
    syslog = jc.render_set(candidate.find("system syslog"), "set system syslog", top=False)
    assert syslog == ["set system syslog file messages any info"]


class Channel:
    def __init__(self):
        self.data = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.data += data

    def hangup(self) -> None:
        self.closed = True


def test_netconf_session_framing_and_message_ids(term):
    t = term()
    channel = Channel()
    session = t.router.open_netconf(channel, "admin")
    greeting = channel.data.decode()
    assert greeting.startswith('<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">')
    assert "urn:ietf:params:netconf:base:1.1" not in greeting and greeting.endswith("]]>]]>\n")
    channel.data.clear()
    client_hello = (
        '<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:'
        '1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability>'
        "</capabilities></hello>]]>]]>"
    )
    request = (
        '<?xml version="1.0" encoding="UTF-8"?><nc:rpc xmlns:nc="urn:ietf:params:xml:ns:netconf'
        ':base:1.0" message-id="urn:uuid:42"><get-software-information/></nc:rpc>]]>]]>'
    )
    t.feed(session, client_hello + request[:50])  # a request split across reads
    assert channel.data == b""
    t.feed(session, request[50:] + '<rpc message-id="7"><close-session/></rpc>]]>]]>')
    replies = channel.data.decode().split("]]>]]>")
    first, second = ET.fromstring(replies[0].strip()), ET.fromstring(replies[1].strip())
    assert first.get("message-id") == "urn:uuid:42"
    assert first.find(f"{NC}software-information/{NC}product-model").text == "vmx"
    assert second.get("message-id") == "7" and second.find(f"{NC}ok") is not None
    assert channel.closed and session not in t.router.sessions


def test_quoted_values_keep_their_escapes_as_typed():
    root = jc.Node()
    line = 'set system login message "Authorised \\"staff\\" only\\nbye"'
    assert jc.parse_set_lines(line, root) == []
    assert jc.render_set(root) == [line]
    assert jc.parse_curly("\n".join(jc.render_curly(root)))[0] == root


def test_private_candidates(term):
    from turnup.lab.netconf import RpcEngine

    t = term()
    router = t.router
    a = RpcEngine(router, object(), "admin", "netconf")
    b = RpcEngine(router, object(), "ops", "netconf")

    def call(engine, xml: str) -> str:
        return engine.execute(ET.fromstring(xml)).body

    load = (
        '<load-configuration action="set"><configuration-set>{}</configuration-set>'
        "</load-configuration>"
    )
    call(b, load.format("set system host-name shared"))
    assert "shared configuration database modified" in call(
        a, "<open-configuration><private/></open-configuration>"
    )
    call(b, "<discard-changes/>")
    reply = call(a, "<open-configuration><private/></open-configuration>")
    assert "<error-severity>warning</error-severity>" in reply
    call(a, load.format(BOOTSTRAP))
    assert router.candidate == router.committed  # the shared candidate did not move
    assert "<commit-success/>" in call(a, "<commit-configuration/>")
    assert router.hostname == "r1" and router.candidate == router.committed
    call(a, "<close-configuration/>")
    assert not router.private


def test_configure_private_on_the_cli(term):
    t = term()
    t.cli()
    out = t.type("configure private\r")
    assert (
        "warning: uncommitted changes will be discarded on exit\nEntering configuration mode" in out
    )
    t.type("set system host-name mine\r")
    assert t.router.candidate == t.router.committed
    assert "Exit with uncommitted changes? [yes,no] (yes) " in t.type("exit\r")
    t.type("yes\r")
    assert not t.router.private and t.router.candidate == t.router.committed


def test_zeroize_returns_to_the_factory_state(term):
    t = term()
    t.configure()
    t.type(BOOTSTRAP.replace("\n", "\r"))
    t.type("commit and-quit\r")
    assert "Erase all data" in t.type("request system zeroize\r")
    out = t.type("yes\r")
    t.settle(0.05)
    out += t.new()
    assert "warning: zeroizing re0" in out and out.endswith("Amnesiac (ttyu0)\n\nlogin: ")
    assert len(t.router.history) == 1 and t.router.management() is None
    assert t.type("root\r").endswith("root@:RE:0% ")  # no password any more
