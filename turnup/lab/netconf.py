"""The Junos XML API of the lab router: console XML mode and NETCONF over SSH.

Both speak the same RPCs against the router's configuration state (:class:`RpcEngine`):

* **Console XML mode** (:class:`ConsoleXmlMode`) — what Junos PyEZ drives over a console line.
  After ``xml-mode netconf need-trailer`` (shell) or ``junoscript netconf need-trailer`` (CLI)
  the router prints two ``<!-- … -->`` comment lines and its ``<hello>`` ended by ``]]>]]>``;
  then it reads bare ``<rpc>…</rpc>`` requests (PyEZ sends no ``message-id``, no framing and no
  client hello, one character at a time) and answers each with
  ``<rpc-reply xmlns="urn:ietf:params:xml:ns:netconf:base:1.0" xmlns:junos=…>…</rpc-reply>``
  followed by ``]]>]]>``. Nothing is echoed. ``<close-session/>`` answers ``<ok/>``, prints
  ``<!-- session end at … -->`` and returns to the prompt the session came from.
* **NETCONF over SSH** (:class:`NetconfSession`, the ``netconf`` subsystem) — NETCONF 1.0
  with ``]]>]]>`` framing: the router sends its hello at once, reads the client's hello, then
  ``<rpc message-id=…>`` requests, and echoes ``message-id`` on each reply. Only
  ``urn:ietf:params:netconf:base:1.0`` is advertised (as Junos does unless told otherwise),
  so ncclient never switches to 1.1 chunked framing.

Errors are ``<rpc-error>`` elements in the NETCONF base namespace (PyEZ's ConfigLoadError and
CommitError come from them). No XML declaration is sent: ncclient's Junos path re-parses
reply strings and lxml refuses a ``str`` carrying an encoding declaration.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from turnup.lab import junos_config as jc

if TYPE_CHECKING:
    from turnup.lab.device import LldpAdvert
    from turnup.lab.junos import JunosRouter, TerminalSession

BASE_NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
EOM = "]]>]]>"
JUNOS_NS = "http://xml.juniper.net/junos/{release}/junos"
CAPABILITIES = [
    "urn:ietf:params:netconf:base:1.0",
    "urn:ietf:params:netconf:capability:candidate:1.0",
    "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:netconf:capability:validate:1.0",
    "urn:ietf:params:netconf:capability:url:1.0?scheme=http,ftp,file",
    "urn:ietf:params:xml:ns:netconf:base:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:candidate:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:confirmed-commit:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:validate:1.0",
    "urn:ietf:params:xml:ns:netconf:capability:url:1.0?scheme=http,ftp,file",
    "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring",
    "http://xml.juniper.net/netconf/junos/1.0",
    "http://xml.juniper.net/dmi/system/1.0",
]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def rpc_error(
    message: str,
    *,
    severity: str = "error",
    path: str | None = None,
    bad_element: str | None = None,
    tag: str = "operation-failed",
) -> str:
    parts = [
        "<rpc-error>",
        "<error-type>protocol</error-type>",
        f"<error-tag>{tag}</error-tag>",
        f"<error-severity>{severity}</error-severity>",
    ]
    if path:
        parts.append(f"<error-path>{escape(path)}</error-path>")
    parts.append(f"<error-message>{escape(message)}</error-message>")
    if bad_element:
        parts.append(f"<error-info><bad-element>{escape(bad_element)}</bad-element></error-info>")
    parts.append("</rpc-error>")
    return "\n".join(parts)


def hello(session_id: int) -> str:
    caps = "\n".join(f"    <capability>{escape(c)}</capability>" for c in CAPABILITIES)
    return (
        f'<hello xmlns="{BASE_NS}">\n  <capabilities>\n{caps}\n  </capabilities>\n'
        f"  <session-id>{session_id}</session-id>\n</hello>\n"
    )


class RpcResult:
    def __init__(self, body: str, busy: float = 0.01, close: bool = False):
        self.body = body
        self.busy = busy
        self.close = close


class RpcEngine:
    """Executes one RPC element for a session (``owner`` holds locks) of ``user``."""

    def __init__(self, router: JunosRouter, owner: object, user: str, via: str):
        self.router = router
        self.owner = owner
        self.user = user
        self.via = via

    @property
    def junos_ns(self) -> str:
        major = re.match(r"(\d+\.\d+)", self.router.version)
        return JUNOS_NS.format(release=(major.group(1) if major else "21.4") + "R0")

    def reply(self, body: str, attrs: dict[str, str] | None = None) -> str:
        extra = "".join(
            f' {k}="{escape(v, {chr(34): "&quot;"})}"' for k, v in (attrs or {}).items()
        )
        return (
            f'<rpc-reply xmlns="{BASE_NS}" xmlns:junos="{self.junos_ns}"{extra}>\n'
            f"{body}\n</rpc-reply>\n"
        )

    def execute(self, op: ET.Element) -> RpcResult:
        name = _local(op.tag)
        handler = getattr(self, "rpc_" + name.replace("-", "_"), None)
        if handler is None:
            return RpcResult(rpc_error("syntax error", bad_element=name))
        try:
            return handler(op)
        except jc.ConfigSyntaxError as err:
            return RpcResult(rpc_error(err.message.rstrip("."), bad_element=err.word))

    # -- locks -------------------------------------------------------------------------------
    def _lock(self) -> RpcResult:
        from turnup.lab.junos import ConfigLocked

        try:
            self.router.lock(self.owner, f"{self.user} via {self.via}")
        except ConfigLocked as err:
            return RpcResult(rpc_error(str(err), tag="lock-denied"))
        except ValueError as err:
            return RpcResult(rpc_error(str(err), tag="lock-denied"))
        return RpcResult("<ok/>")

    def _unlock(self) -> RpcResult:
        if not self.router.unlock(self.owner):
            return RpcResult(rpc_error("configuration database is not locked by this session"))
        return RpcResult("<ok/>")

    def rpc_lock_configuration(self, op: ET.Element) -> RpcResult:
        return self._lock()

    def rpc_unlock_configuration(self, op: ET.Element) -> RpcResult:
        return self._unlock()

    def rpc_lock(self, op: ET.Element) -> RpcResult:
        return self._lock()

    def rpc_unlock(self, op: ET.Element) -> RpcResult:
        return self._unlock()

    def rpc_open_configuration(self, op: ET.Element) -> RpcResult:
        if not any(_local(c.tag) == "private" for c in op):
            return RpcResult(rpc_error("only <private/> configuration databases are modelled"))
        error = self.router.open_private(self.owner)
        if error:
            return RpcResult(rpc_error(error))
        # Junos answers a private open with this warning (PyEZ expects and ignores it)
        return RpcResult(
            rpc_error("uncommitted changes will be discarded on exit", severity="warning")
        )

    def rpc_close_configuration(self, op: ET.Element) -> RpcResult:
        self.router.close_private(self.owner)
        return RpcResult("<ok/>")

    def rpc_discard_changes(self, op: ET.Element) -> RpcResult:
        self.router.set_tree(self.owner, self.router.committed.copy())
        return RpcResult("<ok/>")

    def rpc_close_session(self, op: ET.Element) -> RpcResult:
        return RpcResult("<ok/>", close=True)

    # -- load ------------------------------------------------------------------------------
    def rpc_load_configuration(self, op: ET.Element) -> RpcResult:
        from turnup.lab.junos import ConfigLocked

        router = self.router
        action = op.get("action", "merge")
        fmt = op.get("format", "xml")
        if op.get("compare") == "rollback" or op.get("rollback") is not None:
            index = int(op.get("rollback", "0") or 0)
            error = router.rollback_candidate(index, self.owner)
            if error:
                return RpcResult(_load_results(rpc_error(error)))
            return RpcResult(_load_results("<ok/>"))
        if op.get("url") is not None or op.get("rescue") is not None:
            return RpcResult(_load_results(rpc_error("Could not open configuration file")))
        children = {_local(c.tag): c for c in op}
        busy = 0.05
        try:
            if action == "set" or "configuration-set" in children:
                text = _text(children.get("configuration-set"))
                errors = router.load(self.owner, text, fmt="set", action="merge")
                busy += 0.0005 * text.count("\n")
            elif fmt == "text" or "configuration-text" in children:
                text = _text(children.get("configuration-text"))
                errors = router.load(self.owner, text, fmt="text", action=action)
                busy += 0.0005 * text.count("\n")
            elif "configuration" in children:
                router.check_lock(self.owner)
                loaded, ops = jc.from_xml(children["configuration"])
                replaced = [o.steps for o in ops if o.op == "replace"]
                tree = jc.apply_load(router.tree_of(self.owner), loaded, action, replaced)
                jc.apply_xml_ops(tree, loaded, ops)
                router.set_tree(self.owner, tree)
                errors = []
            elif "configuration-json" in children:
                return RpcResult(_load_results(rpc_error("JSON configuration is not supported")))
            else:
                return RpcResult(
                    _load_results(rpc_error("syntax error, expecting <configuration>"))
                )
        except ConfigLocked as err:
            return RpcResult(_load_results(rpc_error(str(err))))
        if not errors:
            return RpcResult(_load_results("<ok/>"), busy)
        parts = [
            rpc_error(
                e.message.rstrip("."),
                path="[edit]",
                bad_element=e.word or None,
            )
            for e in errors
        ]
        parts.append(f"<load-error-count>{len(errors)}</load-error-count>")
        return RpcResult(_load_results("\n".join(parts)), busy)

    def rpc_edit_config(self, op: ET.Element) -> RpcResult:
        config = next((c for c in op if _local(c.tag) == "config"), None)
        default = next((c.text for c in op if _local(c.tag) == "default-operation"), "merge")
        if config is None:
            return RpcResult(rpc_error("missing config", tag="missing-element"))
        conf = next((c for c in config if _local(c.tag) == "configuration"), None)
        if conf is None:
            return RpcResult(rpc_error("missing configuration", tag="missing-element"))
        load = ET.Element(
            "load-configuration", action="override" if default == "replace" else "merge"
        )
        load.append(conf)
        result = self.rpc_load_configuration(load)
        if "<rpc-error>" in result.body:
            return RpcResult(result.body.replace("<load-configuration-results>", "").replace(
                "</load-configuration-results>", ""))  # fmt: skip
        return RpcResult("<ok/>", result.busy)

    # -- read ----------------------------------------------------------------------------
    def rpc_get_configuration(self, op: ET.Element) -> RpcResult:
        router = self.router
        if op.get("compare") == "rollback":
            index = int(op.get("rollback", "0") or 0)
            if index >= len(router.history):
                return RpcResult(rpc_error(f"rollback {index} does not exist"))
            diff = jc.render_diff(router.history[index].tree, router.tree_of(self.owner))
            text = "\n".join(diff) + "\n"
            return RpcResult(
                "<configuration-information>\n<configuration-output>"
                f"{escape(text)}</configuration-output>\n</configuration-information>"
            )
        database = op.get("database", "candidate")
        tree = router.committed if database == "committed" else router.tree_of(self.owner)
        filt = next((c for c in op if _local(c.tag) == "configuration"), None)
        if filt is not None and len(filt):
            tree = _filter(tree, filt)
        fmt = op.get("format", "xml")
        record = router.history[0]
        if fmt == "text":
            text = "\n".join(jc.render_curly(tree)) + "\n"
            when = record.when.strftime("%Y-%m-%d %H:%M:%S UTC")
            header = f"## Last commit: {when} by {record.user}\n"
            return RpcResult(f"<configuration-text>{escape(header + text)}</configuration-text>")
        if fmt == "set":
            text = "\n".join(jc.render_set(tree)) + "\n"
            return RpcResult(f"<configuration-set>{escape(text)}</configuration-set>")
        if fmt == "json":
            return RpcResult(rpc_error("JSON output is not supported by the lab"))
        body = ET.tostring(jc.config_xml(tree), encoding="unicode")
        seconds = int(record.when.timestamp())
        attrs = (
            f' junos:commit-seconds="{seconds}"'
            f' junos:commit-localtime="{record.when.strftime("%Y-%m-%d %H:%M:%S UTC")}"'
            f' junos:commit-user="{escape(record.user)}"'
        )
        body = body.replace("<configuration>", f"<configuration{attrs}>", 1).replace(
            "<configuration />", f"<configuration{attrs}/>", 1
        )
        return RpcResult(body)

    def rpc_get_config(self, op: ET.Element) -> RpcResult:
        source = next((c for c in op if _local(c.tag) == "source"), None)
        which = _local(source[0].tag) if source is not None and len(source) else "running"
        tree = self.router.committed if which == "running" else self.router.tree_of(self.owner)
        body = ET.tostring(jc.config_xml(tree), encoding="unicode")
        return RpcResult(f"<data>\n{body}\n</data>")

    def rpc_get(self, op: ET.Element) -> RpcResult:
        return RpcResult("<data/>")

    # -- commit ----------------------------------------------------------------------------
    def _commit(self, *, check: bool, confirm: int | None, comment: str) -> RpcResult:
        router = self.router
        outcome = router.commit(
            owner=self.owner,
            user=self.user,
            via=self.via,
            check_only=check,
            confirm_minutes=confirm,
            comment=comment,
        )
        busy = router.commit_seconds / (2 if check else 1)
        if outcome.error:
            return RpcResult(f"<commit-results>\n{rpc_error(outcome.error)}\n</commit-results>")
        if not outcome.ok:
            parts = [
                rpc_error(p.message, path=p.path, bad_element=p.statement.strip("'"))
                for p in outcome.problems
            ]
            tail = "configuration check-out failed" if check else "commit failed"
            parts.append(rpc_error(f"{tail}: (missing mandatory statements)"))
            return RpcResult("<commit-results>\n" + "\n".join(parts) + "\n</commit-results>", busy)
        success = "<commit-check-success/>" if check else "<commit-success/>"
        extra = ""
        if not check:
            serial = len(router.history)
            extra = (
                "\n<commit-revision-information>\n"
                f"<new-db-revision>re0-{int(router.history[0].when.timestamp())}-{serial}"
                "</new-db-revision>\n</commit-revision-information>"
            )
        return RpcResult(
            '<commit-results>\n<routing-engine junos:style="normal">\n<name>re0</name>\n'
            f"{success}{extra}\n</routing-engine>\n</commit-results>",
            busy,
        )

    def rpc_commit_configuration(self, op: ET.Element) -> RpcResult:
        children = {_local(c.tag): c for c in op}
        confirm = None
        if "confirmed" in children:
            timeout = children.get("confirm-timeout")
            confirm = int(_text(timeout) or 10) if timeout is not None else 10
        return self._commit(
            check="check" in children,
            confirm=confirm,
            comment=_text(children.get("log")),
        )

    def rpc_commit(self, op: ET.Element) -> RpcResult:
        children = {_local(c.tag): c for c in op}
        confirm = None
        if "confirmed" in children:
            seconds = int(_text(children.get("confirm-timeout")) or 600)
            confirm = max(1, (seconds + 59) // 60)
        result = self._commit(check=False, confirm=confirm, comment="")
        if "<rpc-error>" in result.body:
            return result
        return RpcResult("<ok/>", result.busy)

    def rpc_validate(self, op: ET.Element) -> RpcResult:
        result = self._commit(check=True, confirm=None, comment="")
        return result if "<rpc-error>" in result.body else RpcResult("<ok/>", result.busy)

    # -- operational ---------------------------------------------------------------------
    def rpc_command(self, op: ET.Element) -> RpcResult:
        from turnup.lab.junos import OP_COMMANDS, CommandError, match_command, op_command

        text = _text(op).strip()
        fmt = op.get("format", "xml")
        words = jc.split_words(text)
        if words == ["request", "system", "zeroize"]:  # PyEZ's dev.zeroize()
            self.router.clock.call_later(0.5, self.router.zeroize)
            return RpcResult("<output>\nwarning: zeroizing re0\n</output>")
        if fmt == "xml":
            if words[:2] == ["show", "version"]:
                info = self._software_information()
                if "invoke-on" in words:
                    info = (
                        "<multi-routing-engine-results>\n<multi-routing-engine-item>\n"
                        f"<re-name>re0</re-name>\n{info}\n</multi-routing-engine-item>\n"
                        "</multi-routing-engine-results>"
                    )
                return RpcResult(info)
            return RpcResult(rpc_error(f"xml output for '{text}' is not supported by the lab"))
        try:
            path, args = match_command(OP_COMMANDS, words)
            if path[0] in ("configure", "exit", "quit", "start", "junoscript", "request", "logout"):
                raise CommandError("syntax error, expecting <command>.", 0)
            output = op_command(self.router, path, args)
        except CommandError as err:
            return RpcResult(rpc_error(err.message.rstrip(".")))
        return RpcResult(f"<output>\n{escape(output)}</output>")

    def _software_information(self) -> str:
        from turnup.lab.junos import packages

        router = self.router
        pkgs = "\n".join(
            f"<package-information>\n<name>{name}</name>\n<comment>{escape(desc)} [{build}]"
            "</comment>\n</package-information>"
            for name, desc, build in packages(router)
        )
        host = f"<host-name>{escape(router.hostname)}</host-name>\n" if router.hostname else ""
        return (
            f"<software-information>\n{host}<product-model>{router.model}</product-model>\n"
            f"<product-name>{router.model}</product-name>\n"
            f"<junos-version>{router.version}</junos-version>\n{pkgs}\n</software-information>"
        )

    def rpc_get_software_information(self, op: ET.Element) -> RpcResult:
        return RpcResult(self._software_information())

    def rpc_get_route_engine_information(self, op: ET.Element) -> RpcResult:
        router = self.router
        up = int((dt.datetime.now(dt.UTC) - router.boot_time).total_seconds())
        return RpcResult(
            "<route-engine-information>\n<route-engine>\n<slot>0</slot>\n"
            "<mastership-state>master</mastership-state>\n"
            "<mastership-priority>master (default)</mastership-priority>\n"
            "<status>OK</status>\n<model>RE-VMX</model>\n"
            f'<up-time junos:seconds="{up}">{up // 60} minutes, {up % 60} seconds</up-time>\n'
            "<last-reboot-reason>Router rebooted after a normal shutdown.</last-reboot-reason>\n"
            "</route-engine>\n</route-engine-information>"
        )

    def rpc_get_chassis_inventory(self, op: ET.Element) -> RpcResult:
        router = self.router
        return RpcResult(
            '<chassis-inventory>\n<chassis junos:style="inventory">\n<name>Chassis</name>\n'
            f"<serial-number>{router.serial}</serial-number>\n"
            f"<description>{router.model.upper()}</description>\n</chassis>\n</chassis-inventory>"
        )

    def rpc_get_virtual_chassis_information(self, op: ET.Element) -> RpcResult:
        return RpcResult(rpc_error("syntax error", bad_element="get-virtual-chassis-information"))

    def rpc_get_chassis_cluster_status(self, op: ET.Element) -> RpcResult:
        return RpcResult(rpc_error("Chassis cluster is not enabled."))

    def rpc_file_show(self, op: ET.Element) -> RpcResult:
        name = _text(next((c for c in op if _local(c.tag) == "filename"), None)).strip()
        content = FILES.get(name)
        if content is None:
            return RpcResult(rpc_error(f"could not resolve file: {name}"))
        return RpcResult(
            f'<file-content filename="{escape(name)}">\n{escape(content)}</file-content>'
        )

    def rpc_file_list(self, op: ET.Element) -> RpcResult:
        home = "/root/" if self.user == "root" else f"/var/home/{self.user}/"
        return RpcResult(
            f'<directory-list root-path="{home}">\n<directory>\n'
            f"<directory-name>{home}</directory-name>\n</directory>\n</directory-list>"
        )

    def rpc_get_interface_information(self, op: ET.Element) -> RpcResult:
        from turnup.lab.junos import _admin, _families, _units

        instance = _text(next((c for c in op if _local(c.tag) == "routing-instance"), None))
        if instance.strip() == "__juniper_private1__":  # the internal RE addresses (facts)
            return RpcResult(
                _interface_xml(
                    [("em1", True, True, [("0", True, True, [("inet", ["128.0.0.1/2"])])])]
                )
            )
        wanted = _text(next((c for c in op if _local(c.tag) == "interface-name"), None)).strip()
        router = self.router
        entries = []
        for name in router.interface_names():
            if wanted and name != wanted.split(".")[0]:
                continue
            up = _admin(router, name)
            link = up and router.link_up(name)
            units = []
            for unit_name, unit in _units(router, name):
                unit_up = up and _admin(router, name, unit)
                units.append((unit_name, unit_up, unit_up and link, _families(unit)))
            entries.append((name, up, link, units))
        return RpcResult(_interface_xml(entries))

    def rpc_get_lldp_neighbors_information(self, op: ET.Element) -> RpcResult:
        """``show lldp neighbors``: empty while LLDP is not configured."""
        entries = [_lldp_neighbor_xml(port, advert) for port, advert in self.router.lldp_rows()]
        if not entries:
            return RpcResult("<lldp-neighbors-information/>")
        return RpcResult(
            '<lldp-neighbors-information junos:style="brief">\n'
            + "\n".join(entries)
            + "\n</lldp-neighbors-information>"
        )


FILES = {
    "/etc/hosts.junos": (
        "#\n# IPv4 addresses of the internal routing instance\n#\n"
        "128.0.0.1\tmaster\n128.0.0.1\tre0\n128.0.0.4\tre1\n"
    ),
    "/etc/resolv.conf": "",
    "/var/etc/resolv.conf": "",
}


def _state(up: bool) -> str:
    return "up" if up else "down"


def _interface_xml(entries) -> str:
    """``entries``: (name, admin up, oper up, units), a unit (name, admin, oper, families)."""
    out = ["<interface-information>"]
    for name, admin, oper, units in entries:
        out.append(
            f"<physical-interface>\n<name>{escape(name)}</name>\n"
            f"<admin-status>{_state(admin)}</admin-status>\n"
            f"<oper-status>{_state(oper)}</oper-status>"
        )
        for unit_name, unit_admin, unit_oper, families in units:
            out.append(
                f"<logical-interface>\n<name>{escape(name)}.{escape(unit_name)}</name>\n"
                f"<admin-status>{_state(unit_admin)}</admin-status>\n"
                f"<oper-status>{_state(unit_oper)}</oper-status>"
            )
            for family, addresses in families:
                out.append(
                    f"<address-family>\n<address-family-name>{escape(family)}</address-family-name>"
                )
                for address in addresses:
                    out.append(
                        f"<interface-address>\n<ifa-local>{escape(address)}</ifa-local>\n"
                        "</interface-address>"
                    )
                out.append("</address-family>")
            out.append("</logical-interface>")
        out.append("</physical-interface>")
    out.append("</interface-information>")
    return "\n".join(out)


def _lldp_neighbor_xml(port: str, advert: LldpAdvert) -> str:
    fields = [
        ("lldp-local-port-id", port),
        ("lldp-local-parent-interface-name", "-"),
        ("lldp-remote-chassis-id-subtype", "Mac address"),
        ("lldp-remote-chassis-id", advert.chassis_id),
        ("lldp-remote-port-id-subtype", advert.port_id_subtype),
        ("lldp-remote-port-id", advert.port_id),
        ("lldp-remote-port-description", advert.port_description),
        ("lldp-remote-system-name", advert.system_name),
    ]
    inner = "\n".join(f"<{tag}>{escape(value)}</{tag}>" for tag, value in fields)
    return f"<lldp-neighbor-information>\n{inner}\n</lldp-neighbor-information>"


def _text(el: ET.Element | None) -> str:
    return "".join(el.itertext()) if el is not None else ""


def _load_results(inner: str) -> str:
    return f"<load-configuration-results>\n{inner}\n</load-configuration-results>"


def _filter(tree: jc.Node, filt: ET.Element) -> jc.Node:
    """Keep the parts of ``tree`` named by a ``<configuration>`` filter (subtree match)."""
    wanted, _ = jc.from_xml(filt)
    return _intersect(tree, wanted)


def _intersect(tree: jc.Node, wanted: jc.Node) -> jc.Node:
    out = jc.Node(tree.kind, tree.explicit)
    for step, want in wanted.children.items():
        for have_step, have in tree.children.items():
            if have_step == step or (len(step) == 1 and have_step[0] == step[0]):
                out.children[have_step] = _intersect(have, want) if want.children else have.copy()
    return out


# ------------------------------------------------------------------------------------------
# framings
# ------------------------------------------------------------------------------------------
class ConsoleXmlMode:
    """``xml-mode netconf need-trailer`` on a terminal: bare ``<rpc>`` in, replies out."""

    def __init__(self, terminal: TerminalSession, *, need_trailer: bool, previous: str):
        self.terminal = terminal
        self.router = terminal.router
        self.previous = previous
        self.need_trailer = need_trailer
        self.buffer = ""
        self.engine = RpcEngine(self.router, terminal, terminal.user, "junoscript")

    def start(self) -> None:
        user = self.terminal.user
        self.terminal.out(
            "<!-- No zombies were killed during the creation of this user interface -->\n"
            f"<!-- user {user}, class {self.router.user_class(user)} -->\n"
        )
        self.terminal.out(hello(self.router.next_session_id()) + self.trailer())

    def trailer(self) -> str:
        return EOM + "\n" if self.need_trailer else ""

    def feed(self, data: bytes) -> tuple[int, float]:
        text = data.decode("utf-8", "replace")
        for index, char in enumerate(text):
            self.buffer += char
            if char != ">":
                continue
            done = self._complete()
            if done is None:
                continue
            request, self.buffer = done, ""
            busy = self.handle(request)
            consumed = len(text[: index + 1].encode())
            return consumed, self.router.cost(busy)
        return len(data), 0.0

    def _complete(self) -> str | None:
        buf = self.buffer.replace(EOM, "")
        stripped = buf.strip()
        if re.fullmatch(r"<close-session\s*/>", stripped):
            return "<rpc><close-session/></rpc>"
        if re.search(r"</rpc\s*>$", stripped) or re.fullmatch(r"<rpc\s*/>", stripped):
            start = stripped.find("<rpc")
            return stripped[start:] if start >= 0 else stripped
        if stripped.startswith("<?xml") and stripped.endswith("?>"):
            self.buffer = ""
        return None

    def handle(self, request: str) -> float:
        try:
            rpc = ET.fromstring(request)
            ops = [c for c in rpc if isinstance(c.tag, str)]
            if not ops:
                raise ET.ParseError("empty rpc")
        except ET.ParseError:
            self.write(self.engine.reply(rpc_error("syntax error")))
            return 0.01
        result = self.engine.execute(ops[0])
        busy = 0.01 + result.busy
        reply = self.engine.reply(result.body)

        def send() -> None:
            self.write(reply)
            if result.close:
                self.terminal.out(f"<!-- session end at {_stamp()} -->\n")
                self.terminal.end_xml(self.previous)

        if result.busy > 0.05:
            self.router.clock.call_later(self.router.cost(result.busy), send)
        else:
            send()
        return busy

    def write(self, reply: str) -> None:
        self.terminal.out(reply + self.trailer())


class NetconfSession:
    """The ``netconf`` SSH subsystem: NETCONF 1.0, ``]]>]]>`` framing."""

    def __init__(self, router: JunosRouter, console: Any, user: str):
        self.router = router
        self.console = console
        self.user = user
        self.buffer = b""
        self.got_hello = False
        self.closed = False
        self.engine = RpcEngine(router, self, user, "netconf")
        self.session_id = router.next_session_id()
        self.console.write(hello(self.session_id).encode() + EOM.encode() + b"\n")

    def feed(self, data: bytes) -> tuple[int, float]:
        if self.closed:
            return len(data), 0.0
        mark = EOM.encode()
        combined = self.buffer + data
        end = combined.find(mark)
        if end < 0:
            self.buffer = combined
            return len(data), 0.0
        message = combined[:end]
        consumed = end + len(mark) - len(self.buffer)
        self.buffer = b""
        busy = self.handle(message)
        return max(consumed, 1), self.router.cost(busy)

    def handle(self, message: bytes) -> float:
        try:
            root = ET.fromstring(message.strip())
        except ET.ParseError:
            self.send(self.engine.reply(rpc_error("syntax error", tag="malformed-message")))
            return 0.01
        if _local(root.tag) == "hello":
            self.got_hello = True
            return 0.0
        if _local(root.tag) != "rpc":
            return 0.0
        attrs = {k: v for k, v in root.attrib.items() if not k.startswith("{")}
        ops = [c for c in root if isinstance(c.tag, str)]
        if not ops:
            self.send(self.engine.reply(rpc_error("syntax error"), attrs))
            return 0.01
        result = self.engine.execute(ops[0])
        reply = self.engine.reply(result.body, attrs)

        def send() -> None:
            self.send(reply)
            if result.close:
                self.closed = True
                self.router.session_gone(self)
                self.console.hangup()

        if result.busy > 0.05:
            self.router.clock.call_later(self.router.cost(result.busy), send)
        else:
            send()
        return 0.01 + result.busy

    def send(self, reply: str) -> None:
        if not self.closed:
            self.console.write(reply.encode() + EOM.encode() + b"\n")

    def hangup(self) -> None:
        self.closed = True
        self.console.hangup()

    def close(self) -> None:
        self.closed = True
        self.router.session_gone(self)
