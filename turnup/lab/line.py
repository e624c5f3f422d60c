"""A console-server line: a serial cable at a baud rate between a client and a router.

Both directions are paced at the line rate (8N1: ``baud / 10`` bytes per second). Input goes
through the router's input buffer: while the router is busy (executing a command) arriving
bytes wait there, and bytes that find it full are **dropped** (an overrun, counted in
``drops``). A writer that keeps at most ``router.input_buffer_bytes`` bytes sent-but-not-echoed
never loses a byte, because the router echoes a byte when it reads it.

``baud=0`` means unpaced (bytes move immediately; the input buffer still applies, so a
client that blasts at a busy router still overruns it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from turnup.lab.device import Clock, Faults, SimRouter

log = logging.getLogger(__name__)

# Timers fire at most this often per direction; bytes due in between go out together.
TICK_SECONDS = 0.01
# The router's tty output buffer: while more than this waits for the wire, the router blocks
# on output and reads no input (so input it cannot echo piles up in its input buffer).
TX_BUFFER_BYTES = 64
# The console server keeps the last ``hold_bytes`` of what the router said while no client was
# connected and delivers them on the next connect (the tail of the boot messages — the prompt
# the router waits at —, a late %SYS-5-CONFIG_I from the previous session), at once: they
# crossed the serial wire when the router said them, and the console server sends them from
# its memory at network speed. Small by default:
# a whole boot log with its "#####" progress line makes netmiko's telnet login take that line
# for a prompt.
DEFAULT_HOLD_BYTES = 256


class Client(Protocol):
    """The user's side of a line: a telnet connection or an SSH channel."""

    def send(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class _Wire:
    """One direction of a paced serial wire: bytes queued, then delivered at baud."""

    __slots__ = ("_clock", "_byte_time", "_queue", "_t", "_timer", "_deliver", "_loop")

    def __init__(self, clock: Clock, baud: int, deliver: Callable[[bytes], None]):
        self._clock = clock
        self._byte_time = 10.0 / baud if baud else 0.0
        self._queue = bytearray()
        self._t = 0.0  # when the last delivered byte finished crossing the wire
        self._timer = None
        self._deliver = deliver

    def set_baud(self, baud: int) -> None:
        self._byte_time = 10.0 / baud if baud else 0.0

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def byte_time(self) -> float:
        return self._byte_time

    def clear(self) -> None:
        self._queue.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def push(self, data: bytes) -> None:
        if not data:
            return
        if not self._byte_time:
            self._deliver(bytes(data))
            return
        now = self._clock.now()
        if not self._queue and self._t < now:
            self._t = now  # the wire was idle: the first byte starts now
        self._queue += data
        if self._timer is None:
            self._timer = self._clock.loop.call_at(
                max(self._t + self._byte_time, now + TICK_SECONDS / 4), self._tick
            )

    def _tick(self) -> None:
        self._timer = None
        now = self._clock.now()
        count = min(len(self._queue), int((now - self._t) / self._byte_time + 1e-9))
        if count > 0:
            chunk = bytes(self._queue[:count])
            del self._queue[:count]
            self._t += count * self._byte_time
            self._deliver(chunk)
        if self._queue and self._timer is None:
            self._timer = self._clock.loop.call_at(
                max(self._t + self._byte_time, now + TICK_SECONDS), self._tick
            )


class Line:
    """Line ``number`` of a console server, wired to ``router`` (or to nothing)."""

    def __init__(
        self,
        number: int,
        router: SimRouter | None,
        *,
        clock: Clock,
        baud: int = 9600,
        faults: Faults | None = None,
        hold_bytes: int = DEFAULT_HOLD_BYTES,
    ):
        self.number = number
        self.router = router
        self.clock = clock
        self.baud = baud
        self.faults = faults if faults is not None else Faults()
        self.client: Client | None = None
        self.client_label = ""
        self.hold_bytes = hold_bytes
        self._held = bytearray()
        self.bytes_in = 0  # bytes that reached the router's UART (all sessions)
        self.bytes_out = 0  # bytes the router sent toward the client (all sessions)
        self.drops = 0  # input bytes lost to overruns
        self.sessions = 0
        self._session_bytes = 0
        self._rx = _Wire(clock, baud, self._arrive)
        self._tx = _Wire(clock, baud, self._to_client)
        self._buffer = bytearray()  # the router's input buffer
        self._busy_until = 0.0
        self._wake = None
        if router is not None:
            router.attach(self)

    # -- the client side -------------------------------------------------------------------
    @property
    def in_use(self) -> bool:
        return self.client is not None or self.faults.busy

    def connect(self, client: Client, label: str = "") -> bool:
        """Attach a client; False if the line is in use (the caller says so and closes)."""
        if self.in_use:
            return False
        self.client = client
        self.client_label = label
        self.sessions += 1
        self._session_bytes = 0
        if self._held:
            # what the router said while nobody was connected, as far as the port kept it:
            # from the console server's memory, not across the wire again
            held, self._held = bytes(self._held), bytearray()
            self.clock.loop.call_soon(self._deliver_held, client, held)
        return True

    def _deliver_held(self, client: Client, held: bytes) -> None:
        if self.client is client:
            self._count(len(held))
            if self.client is client:
                client.send(held)

    def disconnect(self, client: Client) -> None:
        """The client went away. Bytes still on the wire toward the router keep going."""
        if self.client is client:
            self.client = None
            self.client_label = ""

    def from_client(self, data: bytes) -> None:
        """Bytes the client typed: onto the wire toward the router."""
        if self.router is None or not data:
            return
        self._count(len(data))
        self._rx.push(data)

    def _count(self, n: int) -> None:
        self._session_bytes += n
        limit = self.faults.drop_after_bytes
        if limit is not None and self._session_bytes >= limit and self.client is not None:
            client = self.client
            self.client = None
            self.clock.loop.call_soon(client.close)

    # -- the router side (device.Console) ---------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.client is None and not len(self._tx):
            self.bytes_out += len(data)  # nobody connected: into the port's buffer, or lost
            self._hold(data)
            return
        self._tx.push(data)

    def _hold(self, data: bytes) -> None:
        if self.hold_bytes > 0:
            self._held += data
            del self._held[: max(0, len(self._held) - self.hold_bytes)]

    def hangup(self) -> None:
        client = self.client
        self.client = None
        if client is not None:
            client.close()

    def _to_client(self, data: bytes) -> None:
        self.bytes_out += len(data)
        if self.client is not None:
            self._count(len(data))
            if self.client is not None:
                self.client.send(data)
        else:
            self._hold(data)

    def _arrive(self, data: bytes) -> None:
        """Bytes reached the router's UART: into its input buffer, overflow dropped."""
        router = self.router
        assert router is not None
        self.bytes_in += len(data)
        room = router.input_buffer_bytes - len(self._buffer)
        if len(data) > room:
            self.drops += len(data) - max(room, 0)
            data = data[: max(room, 0)]
        self._buffer += data
        if self._wake is None:
            self._run()

    def _run(self) -> None:
        """Let the router read its buffer until it is empty or the router is busy."""
        self._wake = None
        router = self.router
        assert router is not None
        while self._buffer:
            now = self.clock.now()
            if now < self._busy_until:
                self._wake = self.clock.loop.call_at(self._busy_until, self._run)
                return
            backlog = len(self._tx) - TX_BUFFER_BYTES
            if backlog > 0 and self.client is not None:
                # the router's tty output buffer is full: its process blocks on output
                # (echo, prompt) and reads no input until the line drains it
                self._wake = self.clock.loop.call_at(now + backlog * self._tx.byte_time, self._run)
                return
            try:
                consumed, busy = router.feed(bytes(self._buffer))
            except Exception:  # a simulator bug must not wedge the line: log it, drop the input
                log.exception("lab: %s failed on its console input", router.name)
                consumed, busy = len(self._buffer), 0.0
            del self._buffer[: max(consumed, 1)]
            if busy > 0:
                self._busy_until = now + self.clock.scaled(busy)

    # -- lab plumbing ------------------------------------------------------------------------
    def set_baud(self, baud: int) -> None:
        self.baud = baud
        self._rx.set_baud(baud)
        self._tx.set_baud(baud)

    def status(self) -> dict:
        return {
            "line": self.number,
            "router": self.router.name if self.router else None,
            "platform": self.router.platform if self.router else None,
            "router_state": self.router.state() if self.router else None,
            "in_use": self.in_use,
            "client": self.client_label or None,
            "baud": self.baud,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "drops": self.drops,
            "sessions": self.sessions,
            "faults": self.faults.as_dict(),
        }
