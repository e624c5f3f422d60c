"""Cisco IOS-XE on netmiko: a factory-fresh box through its console server, then SSH.

Console: netmiko opens the console server session (``generic_termserver_telnet`` for reverse
telnet, ``terminal_server`` for SSH with the line in the user name) and owns the transport; our
glue answers what a factory box and netmiko's stock login do not agree on (the initial dialog,
``terminate autoinstall?``, the forced ``Enter enable secret`` / ``Confirm`` / ``Enter your
selection`` of IOS-XE 17, ``Press RETURN``, a box left in config mode or at ``--More--``,
syslog lines in between); then ``redispatch`` to ``cisco_ios`` prepares the session. The
bootstrap goes through the console writer with the configuration prompt turned off (``no
service prompt config``: otherwise ~25 bytes of prompt after every line make the router's
output the bottleneck) and turned back on by the last line. Console logging is off for the
same reason while the lines go in (``no logging console``: ``%SSH-5-ENABLED`` after the key,
or a ``%LINK-3-UPDOWN`` of the management port that lands mid-push, are bytes the echoes
would wait behind), and put back as the saved configuration has it by one more line at the
top, before ``end``.

Commit safety: IOS applies lines as they come, so the previous configuration is the saved
one. Nothing is saved until the router has been verified over the management network
(``mgmt_confirm`` = ``write memory``). The full config goes in under IOS's confirmed change,
``configure terminal revert timer N`` (its ``archive`` block first, which the rollback needs):
a router that is not confirmed (``configure confirm``) within N minutes puts back the config
it had before — the bootstrap, reachable over management again. With ``reload_timer``
(``TURNUP_IOS_RELOAD_TIMER``), ``reload in N`` also guards the console bootstrap: it brings
back the saved configuration if the management phase never confirms (cancelled by ``reload
cancel`` before saving).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from functools import partial

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
    line_rate,
    management_key,
    scrub,
    session_end,
)
from turnup.provisioning.drivers.console import (
    CLEAR_LINE,
    IOS_CONFIG,
    IOS_CONFIG_BARE,
    WAKE_RETURN,
    ChannelClosed,
    ConfigLine,
    ConsoleWriter,
    config_lines,
    mode_paths,
    read_quiet,
    read_reactive,
    read_until,
    without_syslog,
)
from turnup.provisioning.drivers.netmiko_channel import (
    NetmikoChannel,
    console_call,
    management_call,
    netmiko_close,
    netmiko_connect,
)

log = logging.getLogger(__name__)

#: The vendor libraries this driver imports when it first needs them (a worker imports them at
#: start: see ``services.drivers_preload``).
LIBRARIES = ("netmiko",)

BUSY = re.compile(r"port in use|[Cc]onnection refused|line is busy|[Pp]ort busy")
# (pattern, what it means) — checked against the end of the output, in this order.
WAKE_PATTERNS = [
    ("cs_failed", re.compile(r"% Authentication failed|[Aa]ccess denied")),
    ("dialog", re.compile(r"initial configuration dialog\?\s*\[yes/no\]:\s*$")),
    ("yes_no", re.compile(r"Please answer 'yes' or 'no'\.?\s*$")),
    ("autoinstall", re.compile(r"terminate autoinstall\?\s*\[yes\]:?\s*$")),
    ("secret", re.compile(r"Enter enable secret:\s*$")),
    ("confirm_secret", re.compile(r"Confirm enable secret:\s*$")),
    ("selection", re.compile(r"Enter your selection \[\d\]:\s*$")),
    ("press_return", re.compile(r"Press RETURN to get started\!?\s*$")),
    ("login_failed", re.compile(r"% Login invalid|% Bad secrets|% Access denied")),
    ("username", re.compile(r"(?:Username|[Ll]ogin):\s*$")),
    ("password", re.compile(r"Password:\s*$")),
    ("more", re.compile(r"--More--\s*$")),
    ("config", re.compile(r"\n?[^\s#>()]{1,63}\(config[^)]*\)#\s*$")),
    ("enable", re.compile(r"(?:^|\n)[^\s#>()]{1,63}#\s*$")),
    ("user", re.compile(r"(?:^|\n)[^\s#>()]{1,63}>\s*$")),
]
WAKE_STOPS = [BUSY, *(rx for _, rx in WAKE_PATTERNS)]
FACTORY_SIGNS = {"dialog", "autoinstall", "secret", "press_return"}
#: IOS asks these only when NVRAM holds no configuration: with the factory hostname at the
#: prompt they prove the factory state, and `show startup-config` (~90 bytes of line time) is
#: not read. (The other signs show on configured routers too: `Press RETURN` after any boot.)
EMPTY_NVRAM_SIGNS = {"dialog", "autoinstall"}
FACTORY_HOSTNAMES = ("Router", "Switch")
# What the factory check reads of any other router's startup config: whether there is one
# (the `Using N out of M bytes` header, the closing `end`), and its console logging. Not the
# whole config: a saved config of 50 KB is a minute of a 9600-baud line.
STARTUP_CHECK = "show startup-config | include ^Using |^end|logging console|not present"
# the privileged exec prompt at the end of what a session said (group: hostname)
PROMPT_AT_END = r"(?:^|\n)([^\s#>()]{1,63})#[ \t]*$"
PRIVILEGED_PROMPT = re.compile(PROMPT_AT_END)
# what `reload in N` asks, in turn, until the prompt comes back
RELOAD_DIALOG = re.compile(
    r"(?P<save>\[yes/no\]:\s*$)|(?P<confirm>\[confirm\]\s*$)|" + PROMPT_AT_END
)
# what `reload cancel` says last: the aborted shutdown's banner, or that none was pending
RELOAD_CANCELLED = re.compile(
    r"(?P<banner>SHUTDOWN ABORTED ---\s*\*{3}[ \t]*(?:\r?\n)?)$"
    r"|No reload is scheduled\.[\s\S]*" + PROMPT_AT_END
)
# what netmiko's IOS session preparation sets (long echoes not scrolled, output not paged)
SESSION_SETUP = ("terminal width 511", "terminal length 0")
WIDTH, PAGING_OFF = SESSION_SETUP
# a config-mode comment: changes nothing, and its echo marks where the router's answer to the
# line before it ends
PROMPT_PROBE = "! turnup"
QUIET = "no logging console"
# bytes in flight over SSH: the vty reads from TCP, nothing overruns, but lines already sent
# still run after one is refused, so the window stays a few dozen lines
MGMT_WINDOW = 2048


class IosXeDriver:
    """One IOS-XE router: console (bootstrap) and management (full config, verify)."""

    platform = "cisco_iosxe"

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
        reload_timer: bool = False,
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
        self.reload_timer = reload_timer
        self.console = None  # the netmiko connection on the console line
        self.channel: NetmikoChannel | None = None
        self.mgmt = None
        self.transcript: list[str] = []
        self.reload_armed = False
        self.revert_armed = False  # the push under way entered `configure terminal revert timer`
        self.dialog_secret: str | None = None
        self.console_at_prompt = False  # the console session was last seen at its # prompt
        # what puts the console's logging back after the bootstrap (from the saved config);
        # None: it stays as it is (off there already)
        self.console_logging: str | None = "logging console"
        self.console_paging = True  # the console still pages long output (--More--)
        self.mgmt_at_prompt = False  # and the management session

    # -- helpers ------------------------------------------------------------------------------

    def _log(self, text: str) -> None:
        self.transcript.append(scrub(text, self._secrets(), limit=2000))

    def _secrets(self) -> list[str]:
        return [*self.credentials.secrets(), self.target.password, self.dialog_secret or ""]

    def output(self) -> str:
        """A scrubbed excerpt of what happened on the wire (for the Step's log)."""
        return scrub("\n".join(self.transcript), self._secrets())

    # -- console ------------------------------------------------------------------------------

    @console_call("waking the router and logging in")
    def console_open(self) -> ConsoleState:
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        target = self.target
        params = dict(
            host=target.host,
            port=target.port,
            conn_timeout=10,
            auth_timeout=10,
            banner_timeout=10,
            fast_cli=True,
        )
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
            # the wake loop sends a RETURN itself when the line says nothing
            self.console = netmiko_connect(**params)
        except NetmikoAuthenticationException as error:
            raise AuthFailed(f"console server {target.key} refused the login: {error}") from None
        except (NetmikoTimeoutException, OSError) as error:
            raise Unreachable(f"console server {target.key} did not answer: {error}") from None
        self.channel = NetmikoChannel(self.console)
        seen = self._wake()
        state = self._prepare(seen)
        return state

    def _wake(self) -> set[str]:
        """Drive the box from whatever it shows to the privileged prompt; returns what it
        showed on the way (the factory signs)."""
        channel = self.channel
        assert channel is not None
        seen: set[str] = set()
        deadline = time.monotonic() + self.wake_timeout
        try:
            text = self._read_reactive(quiet=0.3, limit=2.0)
        except ChannelClosed as error:
            said = getattr(error, "text", "") + getattr(self.console, "_read_buffer", "")
            self._log(said)
            if BUSY.search(said) or not said.strip():
                # A console server that hangs up at once, saying nothing we could read
                # (netmiko may have swallowed "port in use" while connecting): busy.
                raise LineBusy(
                    f"console line {self.target.key} is in use by another session"
                ) from None
            raise LineDropped(
                f"console server {self.target.key} closed the session: {said.strip()!r}"
            ) from None
        self._log(text)
        if BUSY.search(text):
            raise LineBusy(f"console line {self.target.key} is in use by another session")
        cs_login = bool(re.search(r"(?:Username|[Ll]ogin):\s*$", text)) and bool(
            self.target.username
        )
        returns = 0
        bare = False  # the router's last words were a bare newline
        enable_sent = False
        secret_answers = 0
        logins = 0
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
            kind = next((name for name, rx in WAKE_PATTERNS if rx.search(tail)), None)
            if BUSY.search(tail):
                raise LineBusy(f"console line {self.target.key} is in use by another session")
            if kind is not None:
                seen.add(kind)
            answer: str | None = None
            if kind == "cs_failed":
                raise AuthFailed(f"console server {self.target.key} refused the credentials")
            if kind == "login_failed":
                raise AuthFailed(f"router on {self.target.key} refused the login")
            if kind in ("dialog", "yes_no"):
                answer = "no\r"
            elif kind == "autoinstall":
                answer = "yes\r"
            elif kind in ("secret", "confirm_secret"):
                # IOS-XE 17 forces an enable secret before the first prompt. The bootstrap
                # sets the designed one anyway; here any secret the router's complexity
                # rule accepts will do, so we use the designed one if it complies, else a
                # one-time secret (remembered for `enable` until the bootstrap replaces it).
                secret_answers += 1
                if secret_answers > 4:
                    raise AuthFailed(
                        "the router keeps refusing the enable secret: " + _last_error(tail or text),
                        output=self.output(),
                    )
                if self.dialog_secret is None:
                    self.dialog_secret = dialog_secret(self.credentials.enable_secret)
                answer = self.dialog_secret + "\r"
            elif kind == "selection":
                answer = "0\r"  # go to the prompt without saving: the bootstrap sets it all
            elif kind == "press_return":
                answer = "\r"
            elif kind == "username":
                logins += 1
                if logins > 3:
                    raise AuthFailed(f"login on {self.target.key} keeps being asked again")
                user = self.target.username if cs_login else self.credentials.username
                answer = user + "\r"
            elif kind == "password":
                if enable_sent:
                    secret = self.dialog_secret or self.credentials.enable_secret
                    answer = (secret or self.credentials.password) + "\r"
                elif cs_login:
                    answer = self.target.password + "\r"
                    cs_login = False
                else:
                    answer = self.credentials.password + "\r"
            elif kind == "more":
                answer = "q"
            elif kind == "config":
                answer = "end\r"
            elif kind == "enable":
                return seen
            elif kind == "user":
                if enable_sent and "% " in tail:
                    raise AuthFailed(f"router on {self.target.key} refused enable")
                enable_sent = True
                answer = "enable\r"
            if answer is not None:
                channel.send(answer)
                text = ""
            data = self._read_reactive(quiet=0.4, limit=3.0)
            self._log(data)
            if not data and answer is None:
                returns += 1
                if returns > 20:
                    raise NoAnswer(
                        f"router on {self.target.key} does not answer on its console",
                        output=self.output(),
                    )
                # A RETURN answered by a bare newline: a session that ended mid-push left
                # the router in configuration mode with the prompt off. `end` brings back
                # the exec prompt (at a prompt it is only an error and the prompt again).
                channel.send(CLEAR_LINE + "end\r" if bare and returns % 2 else WAKE_RETURN)
            if data:
                bare = not data.strip()
            text += data

    def _read_reactive(self, *, quiet: float, limit: float) -> str:
        return read_reactive(self.channel, WAKE_STOPS, quiet=quiet, limit=limit)

    def _prepare(self, seen: set[str]) -> ConsoleState:
        """The factory check. A router that has just asked its initial configuration dialog
        (or autoinstall) and wears the factory hostname has nothing saved; any other is asked
        for its startup config. Long echoes are not scrolled (``terminal width``) either way;
        paging goes off only when something is read (``_command`` turns it off later)."""
        from netmiko import redispatch

        where = f"the router on {self.target.key}"
        startup = ""
        # a line that drops here is named by `console_call` around `console_open`
        redispatch(self.console, device_type="cisco_ios", session_prep=False)
        _, prompt, _ = self._session_setup(
            self.console, commands=[WIDTH], enter="\r", timeout=30, where=where
        )
        proven = bool(seen & EMPTY_NVRAM_SIGNS) and prompt in FACTORY_HOSTNAMES
        if not proven:
            startup, prompt, _ = self._session_setup(
                self.console,
                commands=[PAGING_OFF, STARTUP_CHECK],
                enter="\r",
                timeout=60,
                where=where,
            )
            self.console_paging = False
        self.console_at_prompt = True
        self.console_logging = console_logging(startup)
        factory_signs = sorted(seen & FACTORY_SIGNS)
        empty_startup = proven or "not present" in startup or not startup.strip()
        ours = prompt == self.hostname
        notes = tuple(factory_signs)
        if ours:
            notes += ("hostname already ours: resuming",)
        factory = empty_startup or (ours and self.retrying)
        if not factory and not self.overwrite:
            raise NotFactory(
                f"{prompt} on {self.target.key} is not in factory state "
                + (TURNED_UP_BEFORE if ours else "(it has a saved configuration)")
                + "; left alone — turn up with overwrite to replace it",
                output=self.output(),
            )
        return ConsoleState(factory=factory, prompt=prompt, hostname=prompt, notes=notes)

    def _session_setup(
        self,
        session,
        *,
        commands: Sequence[str] = SESSION_SETUP,
        enter: str,
        timeout: float,
        where: str,
    ) -> tuple[str, str, str]:
        """netmiko's IOS session preparation (by default terminal width and no paging; and
        the base prompt) typed ahead in one burst and read back in one pass up to the prompt
        after the last command: netmiko waits for each command's echo and then sends a
        RETURN to find the prompt, three round trips (on the console ~0.1 s of line time).
        Returns the last command's output, the hostname and the prompt's mode character."""
        last = re.compile(
            re.escape(commands[-1]) + r"[^\n]*\n(?:([\s\S]*)\n)?([^\s#>()]{1,63})([#>])[ \t]*$"
        )
        channel = NetmikoChannel(session)
        channel.send(enter.join(commands) + enter)
        text, match = read_until(channel, last, timeout=timeout, view=without_syslog)
        self._log(text)
        if match is None:
            raise NoAnswer(
                f"{where} did not answer {commands[-1]!r} within {timeout:.0f} s",
                output=self.output(),
            )
        session.base_prompt = match.group(2)
        return (match.group(1) or "").replace("\r", ""), match.group(2), match.group(3)

    def _command(self, command: str, *, read_timeout: float = 30) -> str:
        """A show command on the console (under a ``console_call``, which names a drop),
        read up to the privileged prompt at the end of its output. (netmiko's
        ``send_command`` stops at the first sight of the bare hostname: `hostname R1` in a
        running config that a 9600-baud line brings a few bytes at a time was enough, and a
        resumed bootstrap then found every line after it missing.)"""
        if self.console_paging:
            self._ask(self.console, PAGING_OFF, timeout=30, enter="\r")
            self.console_paging = False
        output, _ = self._ask(self.console, command, timeout=read_timeout, enter="\r")
        self._log(f"{command}\n{output}")
        return output

    def _has_rsa_key(self) -> bool:
        """IOS enables SSH once it has an RSA key: ``SSH Disabled - version 1.99`` and
        ``%Please create RSA keys to enable SSH`` until then."""
        return "SSH Enabled" in self._command("show ip ssh | include SSH")

    @console_call("reading the running config")
    def running_config_over_console(self) -> str:
        return self._command("show running-config", read_timeout=120)

    @console_call("pushing the bootstrap")
    def console_push(
        self,
        config: str,
        *,
        resume: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> PushResult:
        """Push the bootstrap. With ``resume`` (the hostname is already ours: an earlier
        attempt got part of the way), only the lines the running config lacks are sent.
        ``progress(bytes sent)`` is called while the lines cross the line."""
        started = time.monotonic()
        lines = everything = config_lines(config)
        if resume:
            running = self.running_config_over_console()
            # an attempt cut off before its `crypto key generate` left no key: without it
            # SSH stays off, and the management steps could not reach the router
            key = not any(KEYGEN.match(line.text) for line in lines) or self._has_rsa_key()
            lines = missing_lines(lines, running, rsa_key=key)
            if not lines:
                return PushResult(changed=False, output="already configured", seconds=0.0)
        channel = self.channel
        assert channel is not None
        self.console_at_prompt = False
        # a bootstrap that sets the console's logging itself has the last word on it
        sets_logging = any(re.match(r"(?:no )?logging console\b", line.text) for line in lines)
        report, self.console_at_prompt = self._push_lines(
            channel,
            lines,
            everything,
            baud=self.target.baud,
            window=self.window,
            progress=progress,
            restore_logging=None if sets_logging else self.console_logging,
        )
        return PushResult(
            changed=True,
            diff="\n".join(line.text for line in lines),
            output=scrub("\n".join(report.transcript), self._secrets()),
            bytes=report.bytes,
            seconds=time.monotonic() - started,
            repairs=report.repairs,
            wire_seconds=report.seconds,
        )

    def _push_lines(
        self,
        channel,
        lines: list[ConfigLine],
        everything: list[ConfigLine],
        *,
        baud: int,
        window: int,
        progress: Callable[[int], None] | None = None,
        enter: str = "\r",
        prompt_off: bool = True,
        restore_logging: str | None = None,
        configure: str = "configure terminal",
    ):
        """``configure`` (``configure terminal``, or its ``revert timer N`` form), the lines
        through the ConsoleWriter (pipelined within ``window`` bytes, paced to ``baud`` when
        it is not 0, every echo checked), ``end``. The same on the console line and over
        SSH; returns the writer's report and whether the router came back to its privileged
        prompt. ``enter`` ends the closing commands: over SSH netmiko's ``\n`` — a CR there
        would make the router take netmiko's next LF as the end of the same Enter, and miss
        it. The config prompt is turned off where its bytes cost line time (the console), not
        over SSH, where finding out that it is gone would cost a wait for silence. With
        ``restore_logging`` console logging is off while the lines go in, and that line, sent
        at the top level behind them as one more line of the config, puts it back."""
        text = self._enter_config(channel, configure, prompt_off=prompt_off)
        if restore_logging:
            back = ConfigLine(
                number=max((c.number for c in everything), default=0) + 1, text=restore_logging
            )
            lines, everything = [*lines, back], [*everything, back]
        if prompt_off:
            style, prompt = self._prompt_off(channel, baud, quiet=restore_logging is not None)
        else:
            style, prompt = IOS_CONFIG, text.replace("\r", "").rsplit("\n", 1)[-1]
        writer = ConsoleWriter(
            channel,
            baud=baud,
            window=window,
            style=style,
            idle_timeout=self.idle_timeout,
            progress=progress,
        )
        try:
            writer.push(lines, prompt=prompt, hierarchy=everything)
        except DriverError as error:
            self._log("\n".join(writer.report.transcript))
            self._abandon_config(channel, restore_logging)
            error.output = self.output()
            raise
        self._log("\n".join(writer.report.transcript))
        # The prompt comes back only now: sent with the pipeline, it could take effect
        # before a repair of an earlier line, which expects bare echoes.
        channel.send(
            f"end{enter}" if style is IOS_CONFIG else f"service prompt config{enter}end{enter}"
        )
        text, match = read_until(
            channel, re.compile(r"^[^\s#>()]{1,63}#[ \t]*\r?$", re.MULTILINE), timeout=15
        )
        self._log(text)
        return writer.report, match is not None

    def _enter_config(self, channel, configure: str, *, prompt_off: bool) -> str:
        """Send ``configure`` and read until configuration mode. With the prompt to be turned
        off, configuration mode is entered once IOS has said so: an attempt that ended
        mid-push may have left the prompt off already, and the check in `_prompt_off` reads
        past a prompt that follows the banner. A ``revert timer`` this IOS refuses (``%``)
        falls back to plain ``configure terminal``: nothing is armed then."""
        entered = r"\(config\)#\s*$" + (r"|End with CNTL/Z\.[ \t]*\r?\n" if prompt_off else "")
        plain = configure == "configure terminal"
        pattern = entered if plain else rf"{entered}|(?P<refused>^%.*\n)"
        channel.send(f"{configure}\r")
        text, match = read_until(
            channel, re.compile(pattern, re.MULTILINE), timeout=15, view=without_syslog
        )
        self._log(text)
        if match is None:
            raise NoAnswer("the router did not enter configuration mode", output=self.output())
        if not plain and match.group("refused"):
            self._log(f"`{configure}` refused; the lines go in without a rollback timer")
            return self._enter_config(channel, "configure terminal", prompt_off=prompt_off)
        if not plain:
            self.revert_armed = True
        return text

    def _prompt_off(self, channel, baud: int, *, quiet: bool = False):
        """Turn the config prompt off if this IOS can (it can since 12.x), and with ``quiet``
        console logging too. A comment line sent right behind the commands tells, without
        waiting for silence, whether the prompt is gone: the router answers the command
        (prompt, or an error and the prompt) before it reads and echoes the comment."""
        commands = ["no service prompt config", *([QUIET] if quiet else []), PROMPT_PROBE]
        channel.send("\r".join(commands) + "\r")
        text, match = read_until(
            channel,
            re.compile(re.escape(PROMPT_PROBE) + r"\r?\n"),
            timeout=5.0 + (120 / line_rate(baud) if baud else 0),
            view=without_syslog,
        )
        self._log(text)
        if match is None:
            raise NoAnswer(
                "the router did not answer `no service prompt config`", output=self.output()
            )
        answer = text[: match.start()].split("prompt config", 1)[-1].split(QUIET, 1)[0]
        if re.search(r"% Invalid|\(config[^)]*\)#", answer):
            # the prompt is still there (or the command is unknown): it follows the comment too
            config_prompt = re.compile(r"\(config[^)]*\)#\s*$")
            text, match = read_until(channel, config_prompt, timeout=5.0, view=without_syslog)
            self._log(text)
            last = text.replace("\r", "").rsplit("\n", 1)[-1]
            return IOS_CONFIG, last
        return IOS_CONFIG_BARE, ""

    def _abandon_config(self, channel, restore_logging: str | None = None) -> None:
        try:
            channel.send("\x03\r")  # Ctrl-C breaks off a command still running
            read_quiet(channel, quiet=0.3, limit=2.0)
            # from whatever mode the push stopped in, to the top of configuration mode
            closing = ["end", "configure terminal", "service prompt config"]
            channel.send(
                "\r".join([*closing, *([restore_logging] if restore_logging else []), "end"]) + "\r"
            )
            read_quiet(channel, quiet=0.3, limit=2.0)
        except ChannelClosed:
            pass

    @console_call("committing the bootstrap")
    def console_commit(self, *, confirm_minutes: int) -> str:
        """IOS applies lines as they arrive; the saved config is the fallback. With
        ``reload_timer``, ``reload in N`` — answering "Save?" no — makes a router that is never
        confirmed go back to it by itself (a factory router comes back factory-fresh)."""
        if not self.reload_timer:
            return "not saved until verified (no reload timer)"
        channel = self.channel
        self.console_at_prompt = False
        channel.send(f"reload in {confirm_minutes}\r")
        said = ""
        for _ in range(4):  # Save? [yes/no], the schedule and [confirm], the prompt
            text, match = read_until(channel, RELOAD_DIALOG, timeout=15, view=without_syslog)
            said += text
            if match is None:
                self._log(said)
                raise NoAnswer(
                    f"{self.hostname} did not answer `reload in {confirm_minutes}`",
                    output=self.output(),
                )
            if match.group("save"):
                channel.send("no\r")  # saved only after verification
            elif match.group("confirm"):
                channel.send("\r")
            else:
                break
        else:
            self._log(said)
            raise NoAnswer(
                f"{self.hostname} kept asking after `reload in {confirm_minutes}`",
                output=self.output(),
            )
        self._log(said)
        self.console_at_prompt = True
        if re.search(r"^% (?:Invalid|Incomplete|Ambiguous)", said, re.MULTILINE):
            return "not saved until verified (this router has no reload timer)"
        if "Reload scheduled" not in said:
            raise CommitFailed(f"{self.hostname}: `reload in {confirm_minutes}` was not scheduled")
        self.reload_armed = True
        return f"not saved until verified; reload in {confirm_minutes} min armed as a safety net"

    def console_close(self) -> None:
        if self.console is not None:
            try:
                # at the privileged prompt it just read, the line is logged out with `exit`
                # at once; anywhere else netmiko's cleanup leaves config mode first
                netmiko_close(self.console, logout="exit" if self.console_at_prompt else None)
            except Exception:  # noqa: BLE001 - closing a dead line is not an error
                pass
            self.console = None

    # -- management ---------------------------------------------------------------------------

    def _mgmt_parked(self) -> bool:
        """Take the session an earlier step of this router parked, if it still answers at
        the privileged prompt."""
        key = management_key(self.platform, self.mgmt_target, self.credentials)
        session = PARKED_SESSIONS.take(key)
        if session is None:
            return False
        try:
            self._exchange(session, "", timeout=5)  # answers at the privileged prompt
            self.mgmt = session
            return True
        except Exception:  # noqa: BLE001 - a dead parked session: open a new one
            pass
        close_quietly(session.disconnect)
        return False

    def mgmt_open(self) -> None:
        from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException

        if self._mgmt_parked():
            return
        try:
            self.mgmt = netmiko_connect(
                prepare=False,
                device_type="cisco_ios",
                host=self.mgmt_target.host,
                port=self.mgmt_target.port,
                username=self.credentials.username,
                password=self.credentials.password,
                secret=self.credentials.enable_secret or self.credentials.password,
                conn_timeout=10,
                auth_timeout=15,
                allow_agent=False,
                use_keys=False,
                # a management network is not a console line: netmiko's short delays
                fast_cli=True,
            )
            _, _, mode = self._session_setup(
                self.mgmt, enter=self.mgmt.RETURN, timeout=15, where=self.hostname
            )
            if mode != "#":
                self.mgmt.enable()
            self.mgmt_at_prompt = True
        except NetmikoAuthenticationException as error:
            raise AuthFailed(
                f"{self.hostname} refused the bootstrap user over SSH: {error}"
            ) from None
        except (NetmikoTimeoutException, OSError, EOFError, ChannelClosed) as error:
            raise Unreachable(
                f"{self.hostname} does not answer SSH on {self.mgmt_target.host}:"
                f"{self.mgmt_target.port}: {error}"
            ) from None

    def _exchange(self, session, command: str, *, timeout: float) -> tuple[str, str]:
        """``_ask`` on a management session (a closed one is named by the
        ``management_call`` around the caller)."""
        self.mgmt_at_prompt = False
        answer = self._ask(session, command, timeout=timeout, enter=session.RETURN)
        self.mgmt_at_prompt = True
        return answer

    def _ask(self, session, command: str, *, timeout: float, enter: str) -> tuple[str, str]:
        """Send ``command`` and read up to the privileged prompt at the end of the output,
        waiting on the socket: netmiko's own reads poll every 10 ms, and two hundred
        sessions waiting out `write memory` that way kept both cores busy. Returns the
        output (without the echo and the prompt) and the prompt's hostname. A syslog message
        the router writes after its prompt (a late ``%SYS-5-CONFIG_I`` of an earlier session's
        configuration) is cut out, or the prompt would never be at the end."""
        channel = NetmikoChannel(session)
        channel.send(command + enter)
        text, match = read_until(channel, PRIVILEGED_PROMPT, timeout=timeout, view=without_syslog)
        if match is None:
            raise NoAnswer(
                f"{self.hostname} did not come back to its prompt after {command!r} "
                f"within {timeout:.0f} s",
                output=scrub(text[-500:], self._secrets()),
            )
        lines = text[: match.start()].replace("\r", "").split("\n")
        return "\n".join(lines[1:]), match.group(1)

    @management_call("reading the running config")
    def mgmt_running_config(self) -> str:
        return running_config_body(self._exchange(self.mgmt, "show running-config", timeout=120)[0])

    def mgmt_compliance(self, rendered: str, running: str) -> Compliance:
        return compliance(rendered, running)

    @management_call("pushing the full config")
    def mgmt_push(self, config: str, *, confirm_minutes: int = 10) -> PushResult:
        """The lines the router lacks, under ``configure terminal revert timer
        confirm_minutes`` once it has an archive path (the config's ``archive`` block goes
        in first, without the timer, when the router has none yet)."""
        started = time.monotonic()
        self.revert_armed = False
        running = self.mgmt_running_config()
        config, banners = split_banners(config)
        fixes = console_leftovers(config, running)
        output = self._settings_back(fixes) if fixes else ""
        lines = missing_lines(config_lines(config), running)
        banners = [b for b in banners if not banner_present(b, running)]
        if not lines and not banners:
            # all there: an earlier attempt's timer may still run (a retry, a takeover)
            return PushResult(
                changed=bool(fixes),
                diff="\n".join(fixes),
                output=scrub(output, self._secrets()),
                seconds=time.monotonic() - started,
                confirm_pending=True,
            )
        everything = config_lines(config)
        commands = [*fixes, *with_parents(lines, everything)]
        archive, rest, revertible = archive_first(lines, everything, running)
        plain = "configure terminal"
        timed = f"{plain} revert timer {confirm_minutes}" if revertible else plain
        passes = [(archive, plain), (rest, timed)]
        for group, configure in passes:
            if not group:
                continue
            # the console push's writer, unpaced: one pipelined pass instead of netmiko's
            # wait for every line's echo and prompt (a round trip a line)
            try:
                self.mgmt_at_prompt = False
                report, self.mgmt_at_prompt = self._push_lines(
                    NetmikoChannel(self.mgmt),
                    group,
                    everything,
                    baud=0,
                    window=MGMT_WINDOW,
                    enter=self.mgmt.RETURN,
                    prompt_off=False,
                    configure=configure,
                )
            except ConfigRejected as error:
                raise ConfigRejected(
                    f"{self.hostname} refused the full config: {error.message}",
                    line=error.line,
                    output=error.output,
                ) from None
            output += "\n".join(report.transcript)
        for banner in banners:
            self.mgmt_at_prompt = False
            output += self._mgmt_banner(banner)
            self.mgmt_at_prompt = True  # netmiko read the prompt after leaving config mode
            commands.extend(banner.splitlines())
        return PushResult(
            changed=True,
            diff="\n".join(commands),
            output=scrub(output, self._secrets()),
            bytes=sum(len(c) + 1 for c in commands),
            seconds=time.monotonic() - started,
            confirm_pending=self.revert_armed,
        )

    def _settings_back(self, fixes: list[str]) -> str:
        """Put back what a cut-off console push left off (``console_leftovers``), before
        anything else: with the config prompt off, configuration mode is told by IOS's
        banner, and the exec prompt after ``end`` by itself."""
        channel = NetmikoChannel(self.mgmt)
        enter = self.mgmt.RETURN
        self.mgmt_at_prompt = False
        channel.send(f"configure terminal{enter}")
        text, match = read_until(
            channel, re.compile(r"End with CNTL/Z\.[ \t]*\r?\n"), timeout=15, view=without_syslog
        )
        if match is not None:
            channel.send(enter.join([*fixes, "end"]) + enter)
            more, match = read_until(channel, PRIVILEGED_PROMPT, timeout=15, view=without_syslog)
            text += more
        self._log(text)
        if match is None:
            raise NoAnswer(
                f"{self.hostname} did not answer while its console settings were put back "
                f"({'; '.join(fixes)})",
                output=scrub(text[-500:], self._secrets()),
            )
        self.mgmt_at_prompt = True
        refused = re.search(r"^%.*$", text, re.MULTILINE)
        if refused:
            raise ConfigRejected(f"{self.hostname} refused {'; '.join(fixes)}: {refused.group()}")
        return text

    def _mgmt_banner(self, banner: str) -> str:
        """Send one banner block. Its lines get no prompt back until the closing delimiter,
        so they go out together and the read waits for the config prompt that follows —
        not for a quiet line (netmiko's ``cmd_verify=False`` path waits 2 s of silence)."""
        session = self.mgmt
        output = session.config_mode()
        session.write_channel(session.normalize_cmd(banner.rstrip("\n")))
        output += session.read_until_pattern(pattern=r"\(config\)#", read_timeout=30)
        return output + session.exit_config_mode()

    @management_call("saving the config")
    def mgmt_confirm(self, *, pushed: str | None = None) -> str:
        """``configure confirm`` (asked even when nothing is known to be pending: a worker
        that died after the push may have left a timer that would roll back a saved router),
        ``reload cancel`` when that timer is in use, then ``write memory``."""
        said = [self._configure_confirm(pushed)]
        if self.reload_armed or self.reload_timer:
            said.append(self._reload_cancel())
            self.reload_armed = False
        try:
            out, _ = self._exchange(self.mgmt, "write memory", timeout=120)
        except DriverError as error:
            raise CommitFailed(f"{self.hostname}: write memory failed: {error}") from None
        self._log(f"write memory\n{out}")
        if "[OK]" not in out and "OK" not in out:
            raise CommitFailed(f"{self.hostname}: write memory did not confirm: {out!r}")
        said.append("saved")
        return "; ".join(s for s in said if s)

    def _configure_confirm(self, pushed: str | None) -> str:
        """Keep what went in under ``configure terminal revert timer``. IOS answers with a
        ``%`` line when no rollback is pending: fine when nothing was pushed under one, and
        fine when an earlier attempt confirmed ``pushed`` (it is all in the running config);
        otherwise the timer ran out and took it back — not saved."""
        out, _ = self._exchange(self.mgmt, "configure confirm", timeout=30)
        self._log(f"configure confirm\n{out}")
        if not re.search(r"^%", out, re.MULTILINE):
            return "rollback timer confirmed"
        if pushed is not None:
            held = compliance(pushed, self.mgmt_running_config())
            timer = "configure terminal revert timer"
            confirmed_too_late(self.hostname, timer, held, self._secrets())
        return ""

    def _reload_cancel(self) -> str:
        """``reload cancel``. IOS tells every terminal that the shutdown is aborted, in a
        banner that may come after the prompt: read to whichever of the two comes last."""
        channel = NetmikoChannel(self.mgmt)
        self.mgmt_at_prompt = False
        channel.send("reload cancel" + self.mgmt.RETURN)
        text, match = read_until(channel, RELOAD_CANCELLED, timeout=15)
        before = re.sub(r"[\s*-]*$", "", text[: match.start()]) if match else ""
        if match is not None and match.group("banner") and not PRIVILEGED_PROMPT.search(before):
            more, match = read_until(channel, PRIVILEGED_PROMPT, timeout=15)
            text += more
        self._log(text)
        if match is None:
            raise NoAnswer(
                f"{self.hostname} did not answer `reload cancel` within 15 s",
                output=scrub(text[-500:], self._secrets()),
            )
        self.mgmt_at_prompt = True
        return "no reload was pending" if "No reload" in text else "reload cancelled"

    @management_call("verifying")
    def mgmt_verify(
        self,
        *,
        hostname: str,
        interfaces: Sequence[InterfaceExpectation],
        lldp_wait: float = 0.0,
    ) -> VerifyResult:
        brief, prompt = self._exchange(self.mgmt, "show ip interface brief", timeout=30)
        states = {
            name: (status != "administratively down", protocol == "up")
            for name, (status, protocol) in parse_ip_interface_brief(brief).items()
        }
        checks, problems = interfaces_verdict(interfaces, states)
        if prompt != hostname:
            problems.insert(0, f"hostname is {prompt!r}, the design says {hostname!r}")
        shown = {"hostname": prompt, "interfaces": checks}
        if any(want.peer_device for want in interfaces):
            command = "show lldp neighbors detail"
            detail, _ = self._exchange(self.mgmt, command, timeout=30)
            if "LLDP is not enabled" in detail:
                shown["neighbours"] = "LLDP not running"
            else:
                found, wrong = cabling_checks(
                    lambda: parse_lldp_neighbors_detail(
                        self._exchange(self.mgmt, command, timeout=30)[0]
                    ),
                    interfaces,
                    states,
                    wait=lldp_wait,
                    first=parse_lldp_neighbors_detail(detail),
                )
                shown.update(found)
                problems.extend(wrong)
        return VerifyResult(ok=not problems, checks=shown, problems=problems)

    def mgmt_close(self, *, keep: bool = False) -> None:
        session, self.mgmt = self.mgmt, None
        if session is not None:
            key = management_key(self.platform, self.mgmt_target, self.credentials)
            logout = "exit" if self.mgmt_at_prompt else None  # see console_close
            session_end(key, session, partial(netmiko_close, session, logout=logout), keep=keep)


def console_leftovers(config: str, running: str) -> list[str]:
    """The lines that undo what a console push turns off while it works (the config prompt,
    console logging), when a push cut off there left them off — and its bootstrap was then
    found over management, its console never touched again — unless ``config`` itself says
    so. Empty when the running config has none of them."""
    wanted = {line.strip() for line in config.splitlines()}
    shown = {line.strip() for line in running.splitlines()}
    undo = {"no service prompt config": "service prompt config", QUIET: "logging console"}
    return [
        fix
        for off, fix in undo.items()
        # a config that sets it (`logging console critical`) puts it back itself
        if off in shown and off not in wanted and not any(w.startswith(fix) for w in wanted)
    ]


def console_logging(startup: str) -> str | None:
    """The line that puts the console's logging back as the saved configuration ``startup``
    has it (IOS's default, ``logging console``, when it says nothing), or None when it has
    it off: then there is nothing to quiet, nor to put back."""
    for line in startup.splitlines():
        text = line.strip()
        if text == QUIET:
            return None
        if text.startswith("logging console"):
            return text
    return "logging console"


def dialog_secret(designed: str) -> str:
    """A secret the IOS-XE 17 first-boot dialog accepts: 10-32 characters with upper and
    lower case and a digit, not containing "cisco". The designed one when it complies."""
    if (
        10 <= len(designed) <= 32
        and re.search(r"[A-Z]", designed)
        and re.search(r"[a-z]", designed)
        and re.search(r"\d", designed)
        and "cisco" not in designed.lower()
    ):
        return designed
    return "Tu" + secrets.token_hex(6) + "x9"


def _last_error(text: str) -> str:
    errors = re.findall(r"% [^\r\n]+", text)
    return errors[-1] if errors else "no reason given"


# -- config comparison (running vs rendered) ---------------------------------------------------


SECRET_ARGUMENT = re.compile(r"\b(secret|password|key)( \d)? \S+.*$")


def _comparable(text: str) -> str:
    """IOS shows ``secret 0 <plain>`` as ``secret 9 <hash>``: compare up to the keyword."""
    return SECRET_ARGUMENT.sub(r"\1", text)


def _paths(lines: list[ConfigLine]) -> list[tuple[str, ...]]:
    by_number = {line.number: line for line in lines}
    paths = []
    for line in lines:
        path = [_comparable(line.text)]
        parent = line.parent
        while parent is not None:
            path.insert(0, _comparable(by_number[parent].text))
            parent = by_number[parent].parent
        paths.append(tuple(path))
    return paths


NAVIGATION = re.compile(r"^exit(?:-address-family|-vrf|-peer-\w+)?$")  # mode changes only
EXEC_LIKE = re.compile(r"^(?:crypto key generate |snmp-server user )")  # not shown in show run
KEYGEN = re.compile(r"^crypto key generate rsa\b")


def missing_lines(
    rendered: list[ConfigLine], running: str, *, rsa_key: bool = True
) -> list[ConfigLine]:
    """The rendered lines the running config lacks (compared with their mode path). Lines
    that never show in ``show running-config`` count as present when the config has
    anything; ``crypto key generate rsa`` as ``rsa_key`` says (a router reached over SSH
    has its key; on the console, ``show ip ssh`` tells)."""
    have = set(_paths(config_lines(running)))
    missing = []
    for line, path in zip(rendered, _paths(rendered), strict=True):
        if path in have or NAVIGATION.match(line.text):
            continue
        if (
            line.text == "no shutdown"
            and path[:-1] in have
            and (*path[:-1], "shutdown") not in have
        ):
            continue  # IOS does not show the default "no shutdown"
        if KEYGEN.match(line.text):
            if rsa_key:
                continue
        elif EXEC_LIKE.match(line.text) and have:
            continue
        missing.append(line)
    return missing


#: What ``show running-config`` prints around the config and changes on every read.
RUNNING_NOISE = re.compile(
    r"^(?:Building configuration\.\.\.|Current configuration : \d+ bytes"
    r"|! (?:Last configuration change at|NVRAM config last updated at"
    r"|No configuration change since last restart)\b.*)$"
)


def running_config_body(text: str) -> str:
    """``show running-config`` without its header and change stamps: two reads of an
    unchanged router give the same text (one archived version, no false difference)."""
    kept: list[str] = []
    for line in text.splitlines():
        if RUNNING_NOISE.match(line.strip()) or (line == "!" and kept[-1:] == ["!"]):
            continue  # (a stamp's surrounding "!" lines fold into one)
        if kept or line.strip():
            kept.append(line)
    return "\n".join(kept)


def compliance(rendered: str, running: str) -> Compliance:
    """The rendered statements ``running`` lacks, each with its modes (``interface
    GigabitEthernet0 > no shutdown``); the ones IOS never shows are only counted as
    unverifiable. Order, the defaults IOS adds and hashed secrets are no difference."""
    config, banners = split_banners(rendered)
    lines = config_lines(config)
    by_number = {line.number: line for line in lines}

    def spelled(line: ConfigLine) -> str:
        words = [line.text]
        parent = line.parent
        while parent is not None:
            words.insert(0, by_number[parent].text)
            parent = by_number[parent].parent
        return " > ".join(words)

    missing = [spelled(line) for line in missing_lines(lines, running)]
    missing += [b.split("\n", 1)[0] for b in banners if not banner_present(b, running)]
    return Compliance(
        checked=len(lines) + len(banners),
        missing=tuple(missing),
        unverifiable=tuple(spelled(line) for line in lines if EXEC_LIKE.match(line.text)),
    )


def archive_path(lines: list[ConfigLine]) -> str | None:
    """The ``archive`` > ``path`` of a config, if it sets one."""
    tops = {line.number for line in lines if line.parent is None and line.text == "archive"}
    for line in lines:
        words = line.text.split()
        if line.parent in tops and len(words) > 1 and words[0] == "path":
            return words[1]
    return None


def archive_first(
    lines: list[ConfigLine], everything: list[ConfigLine], running: str
) -> tuple[list[ConfigLine], list[ConfigLine], bool]:
    """Split the lines a router lacks for ``configure terminal revert timer``, which rolls
    back to an archive and is refused without an archive path: the config's ``archive``
    block first (without the timer) when the router has no path yet, then the rest; and
    whether the rest can go under the timer (the router has a path, or will have)."""
    if archive_path(config_lines(running)) is not None:
        return [], lines, True
    tops = {line.number for line in everything if line.parent is None and line.text == "archive"}
    paths = mode_paths(everything)
    block = {n for n, path in paths.items() if n in tops or tops.intersection(path)}
    first = [line for line in lines if line.number in block]
    rest = [line for line in lines if line.number not in block]
    return first, rest, bool(first) and archive_path(everything) is not None


def with_parents(lines: list[ConfigLine], everything: list[ConfigLine]) -> list[str]:
    """Commands for ``lines``, each preceded by its chain of mode lines (from the top) when the
    router is not already in that mode."""
    by_number = {line.number: line for line in everything}

    def chain(line: ConfigLine) -> list[int]:
        numbers = []
        parent = line.parent
        while parent is not None:
            numbers.insert(0, parent)
            parent = by_number[parent].parent
        return numbers

    commands: list[str] = []
    context: list[int] = []
    for line in lines:
        ancestors = chain(line)
        if ancestors != context:
            commands.extend(by_number[number].text for number in ancestors)
        context = [*ancestors, line.number] if line.is_parent else ancestors
        commands.append(line.text)
    return commands


BANNER = re.compile(r"^banner (\S+) (\S)(.*?)\2[^\n]*$", re.MULTILINE | re.DOTALL)


def split_banners(config: str) -> tuple[str, list[str]]:
    """Take ``banner <kind> <delimiter>…<delimiter>`` blocks out of a config."""
    banners = [match.group(0) for match in BANNER.finditer(config)]
    return BANNER.sub("", config), banners


def banner_present(banner: str, running: str) -> bool:
    match = BANNER.match(banner)
    kind, body = match.group(1), match.group(3)
    texts = [line.strip() for line in body.splitlines() if line.strip()]
    return f"banner {kind}" in running and all(text in running for text in texts)


def parse_lldp_neighbors_detail(text: str) -> dict[str, Neighbour]:
    """``show lldp neighbors detail`` → {local port: neighbour}: one block a neighbour,
    between lines of dashes, with ``Local Intf:``, ``Port id:``, ``Port Description:`` and
    ``System Name:`` lines."""
    neighbours = {}
    for block in re.split(r"^-{10,}\s*$", text, flags=re.MULTILINE):
        fields = dict(
            (key.strip(), value.strip())
            for key, sep, value in (line.partition(":") for line in block.splitlines())
            if sep and key.strip() in ("Local Intf", "Port id", "Port Description", "System Name")
        )
        if "Local Intf" in fields and "System Name" in fields:
            neighbours[fields["Local Intf"]] = Neighbour(
                system=fields["System Name"],
                port_id=fields.get("Port id", ""),
                port_description=fields.get("Port Description", ""),
            )
    return neighbours


def parse_ip_interface_brief(text: str) -> dict[str, tuple[str, str]]:
    """``show ip interface brief`` → {interface: (status, protocol)}."""
    states = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 6 or words[0] == "Interface":
            continue
        status = " ".join(words[4:-1])
        states[words[0]] = (status, words[-1])
    return states
