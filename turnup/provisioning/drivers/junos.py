"""Junos: the console through netmiko and our writer, the management network through PyEZ.

Console (the bootstrap): netmiko opens the console-server session and owns the transport; the
glue logs in as ``root`` (no password on a factory "Amnesiac" box), leaves the FreeBSD shell
for the CLI, then ``redispatch`` to ``juniper_junos`` prepares the session. The bootstrap goes
in with ``load set terminal``: Junos echoes each line and prints no prompt until Ctrl-D, so the
console writer can pipeline at the line rate and check every echo (a mismatch discards the
candidate with ``rollback 0`` and loads again). ``commit check``, then ``commit confirmed N``:
a router the management phase never reaches rolls itself back.

Why not PyEZ's console mode for the bootstrap (measured in ``bench/turnup.py``, README
"Turning routers up"): its telnet login waits on fixed sleeps and expect time-outs (~15 s on
a quiet line), it writes RPCs one character at a time with a sleep per character (below the
line rate), its receive loop has no time-out, and unsolicited console text in XML mode breaks
its parser. Over the management network PyEZ is the right tool: NETCONF over SSH, ``Config``
with ``load``/``diff``/``commit_check``/``commit(confirm=N)``, then the confirming ``commit``.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from turnup.provisioning.drivers.base import (
    PARKED_SESSIONS,
    TURNED_UP_BEFORE,
    AuthFailed,
    CommitFailed,
    Compliance,
    ConfigRejected,
    ConsoleState,
    ConsoleTarget,
    Credentials,
    DriverError,
    EchoMismatch,
    InterfaceExpectation,
    LineBusy,
    LineDropped,
    ManagementTarget,
    Neighbour,
    NoAnswer,
    NotFactory,
    PushResult,
    Unreachable,
    VerifyResult,
    cabling_checks,
    close_quietly,
    confirmed_too_late,
    interfaces_verdict,
    management_key,
    scrub,
    session_end,
)
from turnup.provisioning.drivers.console import (
    CLEAR_LINE,
    WAKE_RETURN,
    ChannelClosed,
    ConfigLine,
    ConsoleWriter,
    EchoStyle,
    read_quiet,
    read_reactive,
    read_until,
)
from turnup.provisioning.drivers.netmiko_channel import (
    Method,
    NetmikoChannel,
    console_call,
    netmiko_connect,
    tcp_connect,
)

# A NETCONF RPC's reply may take this long: a Junos commit takes 30 s and more on a big box
# (PyEZ waits 30 s by default); the step's watchdog bounds the whole step.
RPC_TIMEOUT_SECONDS = 120


def netconf_call(doing: str) -> Callable[[Method], Method]:
    """A driver's NETCONF method with PyEZ's and ncclient's errors named: a session that
    closed is ``Unreachable``, an RPC without a reply in time ``NoAnswer`` (both retried in
    a new session); an RPC error the method does not handle itself is a ``DriverError``
    naming what was being done. The driver's own errors pass through."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        def call(self, *args: Any, **kwargs: Any) -> Any:
            from jnpr.junos.exception import ConnectError, RpcError, RpcTimeoutError
            from ncclient.operations.errors import TimeoutExpiredError
            from ncclient.transport.errors import TransportError

            try:
                return method(self, *args, **kwargs)
            except (RpcTimeoutError, TimeoutExpiredError) as error:
                said = f"{self.hostname} stopped answering while {doing}: {error}"
                raise NoAnswer(said) from None
            except (ConnectError, TransportError, EOFError, OSError) as error:
                raise Unreachable(
                    f"{self.hostname}: the NETCONF session closed while {doing}: "
                    f"{type(error).__name__} {error}"
                ) from None
            except RpcError as error:
                said = f"{self.hostname} answered an error while {doing}: {error}"
                raise DriverError(said) from None

        return call  # type: ignore[return-value]

    return decorate


#: The vendor libraries this driver imports when it first needs them (a worker imports them at
#: start: see ``services.drivers_preload``).
LIBRARIES = ("netmiko", "jnpr.junos", "jnpr.junos.utils.config")

BUSY = re.compile(r"port in use|[Cc]onnection refused|line is busy")
# the root shell: csh "root@:RE:0% ", sh "root@j1:~ # " (a space before "#": "root@j1# " is
# the configuration prompt of a router whose host-name is committed)
SHELL = re.compile(r"(?:root@[^\s%#>]*(?:%|\s#)|^%)\s*$", re.MULTILINE)
CLI = re.compile(r"(?:^|\n)[\w.\-@:]*>\s*$")
CONFIG = re.compile(r"\[edit[^\]]*\]\s*\n[\w.\-@:]*#\s*$")
LOGIN = re.compile(r"login:\s*$")
PASSWORD = re.compile(r"[Pp]assword:\s*$")
LOGIN_BAD = re.compile(r"Login incorrect")
MORE = re.compile(r"---\(more[^)]*\)---\s*$")
# what the wake loop answers (or stops at) as soon as it shows at the end of the line
WAKE_STOPS = [BUSY, LOGIN, PASSWORD, SHELL, MORE, CONFIG, CLI]
LOAD_READY = re.compile(r"\[Type \^D at a new line to end input\]")

#: ``load set terminal``: bare echoes, errors reported after Ctrl-D.
JUNOS_LOAD = EchoStyle(
    prompt=None,
    error=re.compile(r"^terminal:\d+:"),
    unsolicited=re.compile(r"Broadcast Message|^\s*\*\*\*|^Message from|^\s*$"),
    newline="\r",
    ignore=re.compile(r"^\[Type \^D"),
)


class JunosDriver:
    """One Junos router: console (bootstrap) and NETCONF (full config, verify)."""

    platform = "juniper_junos"

    def __init__(
        self,
        *,
        console: ConsoleTarget,
        management: ManagementTarget,
        credentials: Credentials,
        hostname: str,
        overwrite: bool = False,
        retrying: bool = False,
        window: int = 256,
        wake_timeout: float = 90.0,
        idle_timeout: float = 30.0,
    ) -> None:
        self.target = console
        self.mgmt_target = management
        self.credentials = credentials
        self.hostname = hostname
        self.overwrite = overwrite
        # an earlier attempt of the step may have left the bootstrap on the router: one that
        # carries the designed hostname is taken up where it was left. On a first attempt
        # such a router (with a saved config) was turned up before: not factory state
        self.retrying = retrying
        self.window = window
        self.wake_timeout = wake_timeout
        self.idle_timeout = idle_timeout
        self.console = None
        self.channel: NetmikoChannel | None = None
        self.device = None  # PyEZ Device over NETCONF
        self.transcript: list[str] = []

    def _secrets(self) -> list[str]:
        return [*self.credentials.secrets(), self.target.password]

    def _log(self, text: str) -> None:
        if text:
            self.transcript.append(scrub(text, self._secrets(), limit=4000))

    def output(self) -> str:
        return scrub("\n".join(self.transcript), self._secrets())

    # -- console ------------------------------------------------------------------------------

    @console_call("waking the router and logging in")
    def console_open(self) -> ConsoleState:
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        target = self.target
        params = dict(host=target.host, port=target.port, conn_timeout=10, fast_cli=False)
        if target.method == "ssh":
            params.update(
                device_type="terminal_server",
                username=target.username,
                password=target.password,
                allow_agent=False,
                use_keys=False,
            )
        else:
            params.update(device_type="generic_termserver_telnet", username="", password="")
        try:
            self.console = netmiko_connect(**params)
        except NetmikoAuthenticationException as error:
            raise AuthFailed(f"console server {target.key} refused the login: {error}") from None
        except (NetmikoTimeoutException, OSError) as error:
            raise Unreachable(f"console server {target.key} did not answer: {error}") from None
        self.channel = NetmikoChannel(self.console)
        factory_login = self._wake()
        return self._prepare(factory_login)

    def _wake(self) -> bool:
        """From whatever the line shows to the CLI prompt. True when root logged in without
        a password (a factory box)."""
        channel = self.channel
        deadline = time.monotonic() + self.wake_timeout
        try:
            text = read_reactive(channel, WAKE_STOPS, quiet=0.3, limit=2.0)
        except ChannelClosed as error:
            said = getattr(error, "text", "")
            if BUSY.search(said) or not said.strip():
                raise LineBusy(f"console line {self.target.key} is in use") from None
            raise LineDropped(f"console server {self.target.key} closed the session") from None
        self._log(text)
        if BUSY.search(text):
            raise LineBusy(f"console line {self.target.key} is in use by another session")
        factory_login = False
        asked_password = False
        failures = 0
        returns = 0
        bare = False  # the router's last words were a bare newline
        rolled_back = False  # configuration mode: the candidate rolled back, exit next
        if not text.strip():
            channel.send(WAKE_RETURN)
        while True:
            if time.monotonic() > deadline:
                raise NoAnswer(
                    f"router on {self.target.key} did not reach a prompt in "
                    f"{self.wake_timeout:.0f} s",
                    output=self.output(),
                )
            tail = text[-300:]
            answer = None
            if LOGIN_BAD.search(tail):
                failures += 1
                if failures >= 2:
                    raise AuthFailed(f"router on {self.target.key} refused root's login")
            if LOGIN.search(tail):
                answer = "root\r"
                asked_password = False
            elif PASSWORD.search(tail):
                if not self.credentials.root_password:
                    raise AuthFailed("the router asks root for a password and none is known")
                answer = self.credentials.root_password + "\r"
                asked_password = True
            elif CONFIG.search(tail):
                # one command an answer: the read stops at the prompt after the first, and a
                # second typed ahead would be taken for one more answer to that prompt
                answer = "exit configuration-mode\r" if rolled_back else "rollback 0\r"
                rolled_back = not rolled_back
            elif SHELL.search(tail):
                factory_login = factory_login or not asked_password
                answer = "cli\r"
            elif MORE.search(tail):
                answer = "q"
            elif CLI.search(tail):
                return factory_login
            if answer is not None:
                channel.send(answer)
                text = ""
            data = read_reactive(channel, WAKE_STOPS, quiet=0.4, limit=3.0)
            self._log(data)
            if not data and answer is None:
                returns += 1
                if returns > 20:
                    raise NoAnswer(f"router on {self.target.key} does not answer")
                # A RETURN answered by a bare newline: a session that ended mid-push left
                # `load set terminal` waiting for input. Ctrl-D ends it; the configuration
                # prompt that follows is rolled back above.
                channel.send(CLEAR_LINE + "\x04" if bare and returns % 2 else WAKE_RETURN)
            if data:
                bare = not data.strip()
            text += data

    def _prepare(self, factory_login: bool) -> ConsoleState:
        from netmiko import redispatch

        # a line that drops here is named by `console_call` around `console_open`
        redispatch(self.console, device_type="juniper_junos", session_prep=False)
        # The wake has read the CLI prompt, and netmiko's preparation waits for one: a RETURN
        # asks for it again, as netmiko itself does on telnet only. CR LF, as telnet's: the
        # wake ended its `cli` with a CR, and the line takes a LF right after a CR for the
        # second half of that RETURN. Over a console server's SSH, netmiko's bare LF was lost
        # so, and its preparation waited 20 s for a prompt, then failed.
        self.channel.send("\r\n")
        self.console._try_session_preparation(force_data=False)
        prompt = self.console.base_prompt  # "root" or "root@HOST"
        host = prompt.split("@", 1)[1] if "@" in prompt else ""
        committed = self.console.send_command("show configuration system host-name")
        self._log(committed)
        match = re.search(r"host-name\s+(\S+?);", committed)
        host = match.group(1) if match else host
        ours = host == self.hostname
        # a factory box has no host-name committed; a console left logged in as root (no
        # password asked) says nothing of the config
        factory = not host or (ours and self.retrying)
        notes = ("amnesiac root login",) if factory_login else ()
        if ours:
            notes += ("hostname already ours: resuming",)
        if not factory and not self.overwrite:
            raise NotFactory(
                f"{host} on {self.target.key} is not in factory state "
                + (TURNED_UP_BEFORE if ours else "(committed config, root password)")
                + "; left alone — turn up with overwrite to replace it",
                output=self.output(),
            )
        return ConsoleState(factory=factory, prompt=prompt, hostname=host, notes=notes)

    @console_call("pushing the bootstrap")
    def console_push(
        self,
        config: str,
        *,
        resume: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> PushResult:
        """Load the bootstrap (set commands) into the candidate. Loading set commands the
        router already has changes nothing, so a resumed push is the same push.
        ``progress(bytes sent)`` is called while the lines cross the line."""
        del resume
        started = time.monotonic()
        lines = [
            ConfigLine(number=number, text=text.strip())
            for number, text in enumerate(config.splitlines(), start=1)
            if text.strip() and not text.strip().startswith("#")
        ]
        self._enter_configure()
        last_error: DriverError | None = None
        total = 0
        repairs = 0
        for _attempt in range(3):
            channel = self.channel
            channel.send("load set terminal\r")
            text, match = read_until(channel, LOAD_READY, timeout=15)
            self._log(text)
            if match is None:
                raise NoAnswer("the router did not start `load set terminal`")
            writer = ConsoleWriter(
                channel,
                baud=self.target.baud,
                window=self.window,
                style=JUNOS_LOAD,
                idle_timeout=self.idle_timeout,
                repair=False,
                progress=(lambda sent, before=total: progress(before + sent)) if progress else None,
            )
            try:
                report = writer.push(lines, prompt=text[match.end() :].lstrip("\r\n"))
            except EchoMismatch as error:
                total += writer.report.bytes
                repairs += 1
                last_error = error
                self._log("\n".join(writer.report.transcript))
                channel.send("\x03")  # abort the load; the candidate keeps what came before
                read_quiet(channel, quiet=0.3, limit=3.0)
                self._command("rollback 0")
                continue
            total += report.bytes
            self._log("\n".join(writer.report.transcript))
            channel.send("\x04")  # Ctrl-D: end of input
            text, match = read_until(channel, re.compile(r"load complete[^\n]*"), timeout=60)
            self._log(text)
            errors = re.findall(r"terminal:(\d+):\S*\s*(.*)", text)
            if errors:
                index, message = int(errors[0][0]), errors[0][1].strip()
                line = lines[index - 1] if 0 < index <= len(lines) else None
                self._command("rollback 0")
                raise ConfigRejected(
                    f"line {line.number if line else index} "
                    f"{(line.text if line else '')!r} was refused: {message}",
                    line=line.number if line else None,
                    output=self.output(),
                )
            if match is None:
                raise NoAnswer("the router did not finish the load", output=self.output())
            # Reading the whole diff back would cost as long as the push (the line carries
            # it at the same rate): count its lines instead.
            counted = self._command("show | compare | count")
            match = re.search(r"Count: (\d+) lines", counted)
            changed = match is None or int(match.group(1)) > 0
            return PushResult(
                changed=changed,
                diff="",
                output=scrub("\n".join(writer.report.transcript), self._secrets()),
                bytes=total,
                seconds=time.monotonic() - started,
                repairs=repairs,
                wire_seconds=report.seconds,
            )
        assert last_error is not None
        last_error.output = self.output()
        raise last_error

    def _enter_configure(self) -> None:
        out = self._command("configure", expect=r"#\s*$")
        if "[edit]" not in out and "Entering configuration mode" not in out:
            raise NoAnswer("the router did not enter configuration mode", output=self.output())

    def _command(self, command: str, *, expect: str = r"[#>]\s*$", timeout: float = 60) -> str:
        # under a `console_call`, which names a drop
        out = self.console.send_command(
            command, expect_string=expect, read_timeout=timeout, strip_prompt=False
        )
        self._log(f"{command}\n{out}")
        return out

    @console_call("committing the bootstrap")
    def console_commit(self, *, confirm_minutes: int) -> str:
        check = self._command("commit check", timeout=300)
        if "configuration check succeeds" not in check:
            raise CommitFailed(f"commit check failed: {_junos_error(check)}", output=self.output())
        said = self._command(
            f"commit confirmed {confirm_minutes} comment turnup-bootstrap", timeout=300
        )
        if "commit complete" not in said:
            raise CommitFailed(f"commit failed: {_junos_error(said)}", output=self.output())
        self._command("exit configuration-mode", expect=r">\s*$")
        return (
            f"commit confirmed {confirm_minutes}: rolls back by itself unless the management "
            "phase confirms it"
        )

    def console_close(self) -> None:
        if self.console is not None:
            try:
                self.console.disconnect()
            except Exception:  # noqa: BLE001 - closing a dead line is not an error
                pass
            self.console = None

    # -- management (PyEZ over NETCONF) ---------------------------------------------------------

    def _mgmt_parked(self) -> bool:
        """Take the NETCONF session an earlier step of this router parked, if its transport
        is still up (PyEZ's ``connected`` is a flag it sets itself; ncclient's is the
        session's own)."""
        key = management_key(self.platform, self.mgmt_target, self.credentials)
        device = PARKED_SESSIONS.take(key)
        if device is None:
            return False
        session = getattr(device, "_conn", None)
        if device.connected and session is not None and session.connected:
            self.device = device
            return True
        close_quietly(device.close)
        return False

    def mgmt_open(self) -> None:
        from jnpr.junos import Device
        from jnpr.junos.exception import ConnectAuthError, ConnectError

        if self._mgmt_parked():
            return
        target = self.mgmt_target

        def unreachable(error: Exception) -> Unreachable:
            return Unreachable(
                f"{self.hostname} does not answer NETCONF on {target.host}:{target.port}: "
                f"{type(error).__name__}"
            )

        try:
            # our own connection, sending at once (see netmiko_connect): ncclient uses a
            # duplicate of it, ours is closed once the session is up or has failed
            sock = tcp_connect(target.host, target.port, timeout=15)
        except OSError as error:
            raise unreachable(error) from None
        device = Device(
            host=target.host,
            port=target.port,
            sock_fd=sock.fileno(),
            user=self.credentials.username,
            passwd=self.credentials.password,
            gather_facts=False,
            conn_open_timeout=15,
        )
        try:
            device.open()
        except ConnectAuthError:
            raise AuthFailed(f"{self.hostname} refused the bootstrap user over NETCONF") from None
        except (ConnectError, OSError) as error:
            raise unreachable(error) from None
        finally:
            sock.close()
        netconf_send_at_once(device)
        device.timeout = RPC_TIMEOUT_SECONDS
        self.device = device

    @netconf_call("reading the running config")
    def mgmt_running_config(self) -> str:
        reply = self.device.rpc.get_config(options={"format": "set", "database": "committed"})
        return reply.text or ""

    @contextmanager
    def _loaded(self, config: str, what: str) -> Iterator[tuple[object, str]]:
        """The candidate, locked, with ``config``'s set lines merged in: yields PyEZ's
        ``Config`` and ``show | compare``. A load the router refuses is rolled back and
        raised naming ``what``; the lock is given back whatever happens."""
        from jnpr.junos.exception import ConfigLoadError
        from jnpr.junos.utils.config import Config

        cu = Config(self.device)
        try:
            cu.lock()
        except Exception as error:  # noqa: BLE001 - LockError and transport errors
            raise CommitFailed(f"{self.hostname}: cannot lock the configuration: {error}") from None
        try:
            try:
                cu.load(config, format="set", merge=True)
            except ConfigLoadError as error:
                cu.rollback(0)
                raise ConfigRejected(f"{self.hostname} refused {what}: {error}") from None
            yield cu, cu.diff() or ""
        finally:
            try:
                cu.unlock()
            except Exception:  # noqa: BLE001
                pass

    @netconf_call("comparing the rendered config")
    def mgmt_compliance(self, rendered: str, running: str) -> Compliance:
        """Junos judges it: the rendered set lines are loaded into the candidate, ``show |
        compare`` lists what they would add, and the candidate is rolled back. A merge
        cannot show what the router has beyond the design; only what it lacks."""
        with self._loaded(rendered, "the rendered config") as (cu, diff):
            cu.rollback(0)
        checked = sum(1 for line in rendered.splitlines() if line.strip().startswith("set "))
        return Compliance(checked=checked, missing=tuple(compare_additions(diff)))

    @netconf_call("pushing the full config")
    def mgmt_push(self, config: str, *, confirm_minutes: int = 10) -> PushResult:
        from jnpr.junos.exception import CommitError

        started = time.monotonic()
        with self._loaded(config, "the full config") as (cu, diff):
            if not diff.strip():  # all there: an earlier attempt's commit may still wait
                return PushResult(
                    changed=False, seconds=time.monotonic() - started, confirm_pending=True
                )
            try:
                cu.commit_check()
                cu.commit(confirm=confirm_minutes, comment="turnup full config")
            except CommitError as error:
                cu.rollback(0)
                raise CommitFailed(f"{self.hostname}: commit failed: {error}") from None
        return PushResult(
            changed=True,
            diff=scrub(diff, self._secrets()),
            bytes=len(config),
            seconds=time.monotonic() - started,
            confirm_pending=True,
        )

    @netconf_call("confirming the commit")
    def mgmt_confirm(self, *, pushed: str | None = None) -> str:
        """The confirming commit: everything committed with ``confirmed`` now sticks. With
        ``pushed`` (committed confirmed, perhaps by another session) and no confirmed
        commit pending any more, the router must still hold it, or it was rolled back."""
        from jnpr.junos.exception import CommitError
        from jnpr.junos.utils.config import Config

        if pushed is not None and not self._confirm_pending():
            held = self.mgmt_compliance(pushed, self.mgmt_running_config())
            confirmed_too_late(self.hostname, "commit confirmed", held, self._secrets())
        try:
            Config(self.device).commit(comment="turnup confirmed")
        except CommitError as error:
            raise CommitFailed(f"{self.hostname}: confirming commit failed: {error}") from None
        return "confirmed (commit)"

    def _confirm_pending(self) -> bool:
        """Whether a ``commit confirmed`` waits for its confirmation: ``show system commit``
        marks the newest commit ``commit confirmed, rollback in Nmins`` until then."""
        reply = self.device.rpc.cli("show system commit", format="text")
        text = reply.text if reply is not None else ""
        return bool(re.search(r"^\s*0\s.*commit confirmed, rollback in", text or "", re.MULTILINE))

    @netconf_call("verifying")
    def mgmt_verify(
        self,
        *,
        hostname: str,
        interfaces: Sequence[InterfaceExpectation],
        lldp_wait: float = 0.0,
    ) -> VerifyResult:
        info = self.device.rpc.get_software_information()
        host = info.findtext(".//host-name") or ""
        states: dict[str, tuple[bool, bool]] = {}
        if interfaces:
            reply = self.device.rpc.get_interface_information(terse=True)
            for entry in reply.findall(".//physical-interface"):
                name = (entry.findtext("name") or "").strip()
                states[name] = (
                    (entry.findtext("admin-status") or "").strip() == "up",
                    (entry.findtext("oper-status") or "").strip() == "up",
                )
        # the design may name a logical unit (ge-0/0/1.0); its physical port shows the state
        physical = [replace(want, name=want.name.split(".")[0]) for want in interfaces]
        checks, problems = interfaces_verdict(physical, states)
        if host != hostname:
            problems.insert(0, f"hostname is {host!r}, the design says {hostname!r}")
        shown = {"hostname": host, "interfaces": checks}
        if any(want.peer_device for want in interfaces):
            found, wrong = cabling_checks(
                lambda: lldp_neighbours(self.device.rpc.get_lldp_neighbors_information()),
                physical,
                states,
                wait=lldp_wait,
            )
            shown.update(found)
            problems.extend(wrong)
        return VerifyResult(ok=not problems, checks=shown, problems=problems)

    def mgmt_close(self, *, keep: bool = False) -> None:
        device, self.device = self.device, None
        if device is not None:
            key = management_key(self.platform, self.mgmt_target, self.credentials)
            session_end(key, device, device.close, keep=keep)


def lldp_neighbours(reply) -> dict[str, Neighbour]:
    """``get-lldp-neighbors-information`` → {local port: neighbour} (older releases name
    the local port ``lldp-local-interface``)."""
    neighbours = {}
    for entry in reply.findall(".//lldp-neighbor-information"):
        local = entry.findtext("lldp-local-port-id") or entry.findtext("lldp-local-interface")
        system = entry.findtext("lldp-remote-system-name")
        if local and system:
            neighbours[local.strip()] = Neighbour(
                system=system.strip(),
                port_id=(entry.findtext("lldp-remote-port-id") or "").strip(),
                port_description=(entry.findtext("lldp-remote-port-description") or "").strip(),
            )
    return neighbours


def compare_additions(diff: str) -> list[str]:
    """The statements a ``show | compare`` adds, one a leaf, with where they go:
    ``[edit interfaces] ge-0/0/0 unit 0 family inet address 10.0.0.1/31;``."""
    added, section, blocks = [], "", []
    for raw in diff.splitlines():
        if raw.startswith("["):
            section, blocks = raw.strip(), []
            continue
        mark, text = raw[:1], raw[1:].strip()
        if not text:
            continue
        if text.endswith("{"):
            blocks.append(text[:-1].strip())
        elif text == "}":
            if blocks:
                blocks.pop()
        elif mark == "+":
            added.append(" ".join(part for part in (section, *blocks, text) if part))
    return added


def _junos_error(text: str) -> str:
    errors = re.findall(r"error: ([^\r\n]+)", text)
    return "; ".join(errors) if errors else text.strip()[-200:]


def netconf_send_at_once(device) -> bool:
    """Make an open PyEZ device's NETCONF session send each RPC at once. ncclient queues an
    RPC for its session thread, which sends it when it next wakes — up to 0.1 s later (its
    ``TICK``), on every RPC: lock, load, diff, check, commit, unlock… about a second of a
    Junos router's management steps. The RPC is framed here instead (RFC 6242: chunked for
    NETCONF 1.1, end-of-message for 1.0) and written on the SSH channel by the calling
    thread; the session thread only reads replies. Returns False, leaving ncclient as it is,
    when its session does not look as this expects."""
    import threading

    from ncclient.transport.errors import TransportError
    from ncclient.transport.session import END_DELIM, MSG_DELIM, NetconfBase

    session = getattr(getattr(device, "_conn", None), "_session", None)
    channel = getattr(session, "_channel", None)
    if channel is None or not hasattr(session, "_base"):
        return False
    lock = threading.Lock()

    def send(message: str) -> None:
        if not session.connected:
            raise TransportError("Not connected to NETCONF server")
        data = message.encode()
        if session._base == NetconfBase.BASE_11:
            data = b"\n#%d\n%s%s" % (len(data), data, END_DELIM)
        else:
            data += MSG_DELIM
        with lock:
            channel.sendall(data)

    session.send = send
    return True
