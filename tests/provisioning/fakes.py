"""An in-memory console line and IOS-like router for the console writer's unit tests.

Simulated time (no sleeping): the writer's clock is the fake's clock, and ``recv(timeout)``
advances it one character time at a time. The model: bytes cross the line at ``baud / 10``
bytes/s; the router's input buffer holds ``buffer`` bytes, and a byte that arrives while it is
full is dropped (the overrun); the router reads buffered characters, echoing each, and after a
RETURN spends ``line_delay`` seconds on the command (reading nothing meanwhile), then prints any
error and its prompt. Output crosses the line back at the same rate. Faults: ``drop`` (input
byte offsets to lose on the wire), ``syslog_after`` (command texts after which a syslog line is
printed, ``splice`` puts it in the middle of the next echo).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from turnup.provisioning.drivers.console import ChannelClosed

GLOBAL_WORDS = {"hostname", "interface", "router", "ip", "username", "enable", "line", "no"}
GLOBAL_WORDS |= {"logging", "ntp", "service", "crypto", "aaa", "vrf", "snmp-server", "banner"}
SUB_WORDS = {"description", "ip", "no", "shutdown", "network", "transport", "login", "vrf"}
SUB_WORDS |= {"exec-timeout", "negotiation", "router-id", "passive-interface", "mtu"}
MODE_WORDS = {"interface": "config-if", "router": "config-router", "line": "config-line"}


@dataclass
class FakeRouter:
    baud: int = 9600
    buffer: int = 64
    line_delay: float = 0.004
    output_paced: bool = True
    hostname: str = "Router"
    drop: set[int] = field(default_factory=set)
    syslog_after: set[str] = field(default_factory=set)
    splice: bool = False
    splice_at: int = 3  # characters of the next echo before the spliced syslog line
    close_after: int | None = None  # input bytes after which the line drops
    silent_after: int | None = None  # input bytes after which the router stops answering

    def __post_init__(self) -> None:
        self.now = 0.0
        self.tick = 10 / self.baud
        self.wire: deque[tuple[float, str]] = deque()  # (arrival time, char)
        self.wire_free = 0.0
        self.inbuf: deque[str] = deque()
        self.busy_until = 0.0
        self.outq: deque[str] = deque()
        self.out_free = 0.0
        self.received = 0
        self.dropped = 0
        self.max_buffered = 0
        self.current = ""
        self.mode: str | None = None  # None: global config; else (mode, header)
        self.header = ""
        self.applied: list[tuple[str, str]] = []  # (mode header or "", command)
        self.commands: list[str] = []
        self.pending_syslog = False
        self.closed = False
        self.prompt_config = True
        self.outq.extend(self.prompt())  # the writer starts after `configure terminal`

    # -- channel ------------------------------------------------------------------------------

    def clock(self) -> float:
        return self.now

    def send(self, data: str) -> None:
        if self.closed:
            raise ChannelClosed()
        for char in data:
            self.wire_free = max(self.wire_free, self.now) + self.tick
            self.wire.append((self.wire_free, char))

    def recv(self, timeout: float) -> str:
        if self.closed:
            raise ChannelClosed()
        deadline = self.now + timeout
        out = []
        while True:
            self._step()
            if self.closed:
                if out:
                    return "".join(out)
                raise ChannelClosed()
            while self.outq and (not self.output_paced or self.out_free <= self.now):
                out.append(self.outq.popleft())
                self.out_free = max(self.out_free, self.now - self.tick) + self.tick
                if not self.output_paced:
                    continue
                break
            if out and (not self.outq or self.output_paced):
                return "".join(out)
            if self.now >= deadline:
                return "".join(out)
            self.now += self.tick / 4

    # -- the router ---------------------------------------------------------------------------

    def _step(self) -> None:
        while self.wire and self.wire[0][0] <= self.now:
            _, char = self.wire.popleft()
            offset = self.received
            self.received += 1
            if self.close_after is not None and self.received > self.close_after:
                self.closed = True
                return
            if offset in self.drop:
                self.dropped += 1
                continue
            if len(self.inbuf) >= self.buffer:
                self.dropped += 1
                continue
            self.inbuf.append(char)
            self.max_buffered = max(self.max_buffered, len(self.inbuf))
        if self.silent_after is not None and self.received >= self.silent_after:
            self.inbuf.clear()
            return
        while self.inbuf and self.busy_until <= self.now:
            char = self.inbuf.popleft()
            if char in "\r\n":
                self.busy_until = self.now + self.line_delay
                self._execute(self.current)
                self.current = ""
            else:
                self.current += char
                self.outq.append(char)
                if self.pending_syslog and self.splice and len(self.current) == self.splice_at:
                    self._emit_syslog()

    def _emit_syslog(self) -> None:
        self.pending_syslog = False
        self.outq.extend("\r\n*Nov 28 03:00:01.123: %LINK-3-UPDOWN: Interface Gi1, changed\r\n")

    def prompt(self) -> str:
        if not self.prompt_config:
            return ""
        suffix = f"({self.mode})" if self.mode else "(config)"
        return f"{self.hostname}{suffix}#"

    def _execute(self, command: str) -> None:
        self.outq.extend("\r\n")
        command = command.strip()  # IOS ignores surrounding blanks
        self.commands.append(command)
        words = command.split()
        error = False
        if words:
            first = words[0]
            if command == "exit":
                self.mode = None
                self.header = ""
            elif command in ("no service prompt config", "service prompt config"):
                self.prompt_config = first != "no"
            elif (
                self.mode
                and first in SUB_WORDS
                and not command.startswith(("ip route", "ip ssh", "ip domain"))
                and not (first == "no" and words[1:2] and words[1] in GLOBAL_WORDS - SUB_WORDS)
            ):
                if first == "no" and (self.header, command[3:]) in self.applied:
                    self.applied.remove((self.header, command[3:]))
                elif first == "no" and command != "no shutdown":
                    error = True
                elif (self.header, command) not in self.applied:
                    self.applied.append((self.header, command))
            elif first in GLOBAL_WORDS:
                self.mode = None
                self.header = ""
                if first == "no":
                    target = command[3:]
                    before = len(self.applied)
                    self.applied = [a for a in self.applied if a != ("", target)]
                    self.applied = [a for a in self.applied if a[0] != target]
                    error = len(self.applied) == before and not target.startswith(tuple(MODE_WORDS))
                elif first in MODE_WORDS:
                    self.mode = MODE_WORDS[first]
                    self.header = command
                    if ("", command) not in self.applied:
                        self.applied.append(("", command))
                elif first == "hostname" and len(words) == 2:
                    self.hostname = words[1]
                    self.applied.append(("", command))
                else:
                    self.applied.append(("", command))
            else:
                error = True
        if command.startswith("crypto key generate rsa"):
            self.outq.extend(f"The name for the keys will be: {self.hostname}.example.net\r\n")
            self.outq.extend("% Generating 2048 bit RSA keys, keys will be non-exportable...\r\n")
            self.outq.extend("[OK] (elapsed time was 1 seconds)\r\n")
            self.busy_until = self.now + 0.5
        if error:
            self.outq.extend("                  ^\r\n% Invalid input detected at '^' marker.\r\n")
            self.outq.extend("\r\n")
        if command in self.syslog_after:
            self.pending_syslog = True
            if not self.splice:
                self._emit_syslog()
        self.outq.extend(self.prompt())
