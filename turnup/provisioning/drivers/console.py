"""The console writer: config lines onto a serial line at its line rate, every echo verified.

A router's console is a 9600-baud UART (8N1: 960 bytes/s) behind a console server. Waiting for
each line's echo and prompt before sending the next (what netmiko's ``send_config_set`` does)
leaves the line idle about half the time. Sending without looking overruns the router's small
input buffer and it silently drops characters. This writer does neither:

* **pipelined**: it keeps sending while echoes come back, with at most ``window`` bytes sent
  but not yet echoed — a window chosen to fit the router's input buffer, so the buffer cannot
  overrun however long the router takes over one line;
* **paced**: it never sends faster than the line's rate (``baud / 10`` bytes per second);
* **verified**: every echoed line is compared with what was sent. A mismatch (a dropped or
  mangled character, two lines run together because a RETURN was lost) stops the pipeline; the
  writer waits for the line to drain, undoes what the router accepted in error (``no <what it
  saw>``), re-enters the line's parent mode and sends the line again. What it cannot repair
  safely (a mangled mode line whose children went elsewhere) fails naming the line — never a
  silently mangled config.

Unsolicited output (syslog lines such as ``%LINK-3-UPDOWN``, PnP chatter), even spliced into
the middle of an echo, is recognised and set aside. The writer talks to a ``Channel`` (send a
string, receive what arrived within a timeout): the netmiko session of a driver, or an
in-memory device in the tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Protocol

from turnup.provisioning.drivers.base import (
    ConfigRejected,
    EchoMismatch,
    LineDropped,
    NoAnswer,
    line_rate,
)


class ChannelClosed(Exception):
    """The console server closed the session (line dropped)."""


class Channel(Protocol):
    def send(self, data: str) -> None: ...

    def recv(self, timeout: float) -> str:
        """What arrived within ``timeout`` seconds ("" if nothing); raises ChannelClosed."""
        ...


# ---------------------------------------------------------------------------------------------
# The config as lines with their hierarchy


@dataclass(frozen=True)
class ConfigLine:
    """One command of a config: its number in the text (1-based), the command without its
    indentation, and the number of the mode line it lives under (None at the top)."""

    number: int
    text: str
    parent: int | None = None
    is_parent: bool = False


#: Commands that enter a configuration mode (even with nothing under them).
MODE_LINE = re.compile(
    r"^(?:interface|router|vrf definition|ip vrf|address-family|line|ip access-list|route-map"
    r"|class-map|policy-map|class|control-plane|archive|key chain|key \d+|aaa group"
    r"|tacacs server|radius server|vlan \d+|redundancy|crypto pki trustpoint)(?=\s|$)"
)  # a whole word: ``router-id`` and ``line-protocol`` enter no mode
#: Lines that only change mode (the writer navigates by the hierarchy instead).
NAVIGATION = re.compile(r"^(?:exit|exit-address-family|exit-vrf|exit-peer-\w+|end)$")


def config_lines(text: str, *, comment: str = "!") -> list[ConfigLine]:
    """Split IOS-style config text into commands; indentation gives the hierarchy. Blank lines,
    comments and mode-changing lines (``exit-address-family``, ``end``) are left out: the
    writer moves between modes by the hierarchy."""
    raw: list[tuple[int, int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(comment) or NAVIGATION.match(stripped):
            continue
        raw.append((number, len(line) - len(line.lstrip(" ")), stripped))
    lines: list[ConfigLine] = []
    stack: list[tuple[int, int]] = []  # (indent, number)
    parents: set[int] = set()
    for number, indent, stripped in raw:
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else None
        if parent is not None:
            parents.add(parent)
        lines.append(ConfigLine(number=number, text=stripped, parent=parent))
        stack.append((indent, number))
    return [
        ConfigLine(
            number=c.number,
            text=c.text,
            parent=c.parent,
            is_parent=c.number in parents or bool(MODE_LINE.match(c.text)),
        )
        for c in lines
    ]


def mode_paths(lines: Sequence[ConfigLine]) -> dict[int, tuple[int, ...]]:
    """For each line (by number), the chain of mode lines above it, outermost first."""
    by_number = {line.number: line for line in lines}
    paths: dict[int, tuple[int, ...]] = {}
    for line in lines:
        chain: list[int] = []
        parent = line.parent
        while parent is not None:
            chain.insert(0, parent)
            parent = by_number[parent].parent
        paths[line.number] = tuple(chain)
    return paths


def navigate(
    items: Sequence[Outgoing],
    context: tuple[int, ...],
    by_number: dict[int, ConfigLine],
) -> list[Outgoing]:
    """Insert the ``exit`` and mode lines that put the router in each item's mode: an
    explicit ``exit`` instead of trusting the parser to fall back to the parent mode (a
    global ``ip route`` typed under an interface can parse as ``ip router``)."""
    out: list[Outgoing] = []
    for item in items:
        need = item.path
        common = 0
        while common < min(len(context), len(need)) and context[common] == need[common]:
            common += 1
        for depth in range(len(context) - 1, common - 1, -1):
            out.append(
                Outgoing("exit", None, navigation=True, context_after=tuple(context[:depth]))
            )
        for depth in range(common, len(need)):
            out.append(
                Outgoing(
                    by_number[need[depth]].text,
                    None,
                    navigation=True,
                    context_after=tuple(need[: depth + 1]),
                )
            )
        context = (*need, item.enters) if item.enters is not None else tuple(need)
        item.context_after = context
        out.append(item)
    return out


# ---------------------------------------------------------------------------------------------
# What a console's output looks like


@dataclass(frozen=True)
class EchoStyle:
    """How to read the router's output while pushing.

    ``prompt``: the prompt printed before each echoed line (IOS configuration modes); ``None``
    when the router echoes bare lines (Junos ``load set terminal``). ``error``: a line saying
    the previous command was refused. ``unsolicited``: output that belongs to no command.
    """

    prompt: re.Pattern[str] | None
    error: re.Pattern[str]
    unsolicited: re.Pattern[str]
    newline: str = "\n"
    ignore: re.Pattern[str] | None = None  # informational lines to skip in bare mode


SYSLOG = re.compile(
    r"(?:\*?[A-Z][a-z]{2}\s+\d+\s+(?:\d{4}\s+)?[\d:.]+(?:\s+[A-Z]{3,4})?:\s*)?"
    r"%[A-Z0-9_]+-\d-[A-Z0-9_]+:"
)
#: an unsolicited syslog message as IOS writes it to a console: on a line of its own, with a
#: newline before and after, wherever the cursor was — in the middle of an echo too
SYSLOG_SPLICED = re.compile(r"\r?\n" + SYSLOG.pattern + r"[^\r\n]*\r?\n")


def without_syslog(text: str) -> str:
    """``text`` as it was before unsolicited syslog messages were spliced into it (an echo
    split by one is whole again; a prompt followed by one is at the end again)."""
    return SYSLOG_SPLICED.sub("", text)


# the caret under where the parser gave up: in column 0 without a prompt when it gave up at
# the first character
IOS_ERROR = re.compile(
    r"^\s*% ?(?:Invalid|Incomplete|Ambiguous|Unknown|Unrecognized|Error|Bad)|^\s*\^\s*$"
)

#: IOS configuration mode with its prompt before every echoed line.
IOS_CONFIG = EchoStyle(
    prompt=re.compile(r"^[^\s#>()]{1,63}\(config[^)]*\)#"),
    error=IOS_ERROR,
    unsolicited=SYSLOG,
)

#: IOS configuration mode after ``no service prompt config``: bare echoes, no prompts. At 9600
#: baud the prompt (``LON-01-core-1(config-if)#``, ~25 bytes after every line) would make the
#: router's output, not our input, the bottleneck: about half the line rate.
IOS_CONFIG_BARE = EchoStyle(
    prompt=None,
    error=IOS_ERROR,
    unsolicited=SYSLOG,
    ignore=re.compile(r"^\s*%|^\[OK\]|^[^\s#>()]{1,63}\(config[^)]*\)#\s*$"),
)


# ---------------------------------------------------------------------------------------------
# The writer


@dataclass
class Outgoing:
    text: str
    origin: ConfigLine | None  # None for lines the writer adds (navigation, undo)
    size: int = 0
    path: tuple[int, ...] = ()  # the mode lines (numbers) it must be sent under
    enters: int | None = None  # the mode it enters (a mode line's number)
    navigation: bool = False  # an `exit` or a re-entered mode line the writer added
    context_after: tuple[int, ...] = ()


@dataclass
class Echo:
    text: str
    matched: bool
    error: str = ""
    merged: bool = False  # ran into the line before it (a lost RETURN): one echo for both


@dataclass
class WriteReport:
    """What a push did on the wire."""

    bytes: int = 0
    seconds: float = 0.0
    lines: int = 0
    repairs: int = 0
    unsolicited: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    max_inflight: int = 0

    @property
    def bytes_per_second(self) -> float:
        return self.bytes / self.seconds if self.seconds else 0.0


@dataclass
class _Stream:
    """One pipelined pass over a list of outgoing lines."""

    outgoing: list[Outgoing]
    echoes: list[Echo | None]
    sent_lines: int = 0  # lines whose bytes were completely sent
    sent_bytes: int = 0  # bytes of the payload sent
    cursor: int = 0  # first outgoing line without an echo
    held: str | None = None  # a partial echo that an unsolicited line interrupted
    suspect: list[str] = field(default_factory=list)  # bare mode: lines that are not ours
    last_echo: int = -1
    first_mismatch: int | None = None
    tail: str = ""  # the incomplete last output line


class ConsoleWriter:
    """Pushes config lines over a console channel: pipelined, paced, echo-verified."""

    def __init__(
        self,
        channel: Channel,
        *,
        baud: int,
        window: int = 160,
        style: EchoStyle = IOS_CONFIG,
        idle_timeout: float = 20.0,
        max_repairs: int = 5,
        repair: bool = True,
        undo: Callable[[str], str] = lambda text: f"no {text}",
        clock: Callable[[], float] = time.monotonic,
        chunk: int = 16,
        progress: Callable[[int], None] | None = None,
        progress_every: float = 0.5,
    ) -> None:
        self.channel = channel
        self.rate = line_rate(baud) if baud else 0.0
        self.window = window
        self.style = style
        self.idle_timeout = idle_timeout
        self.max_repairs = max_repairs
        self.repair = repair
        self.undo = undo
        self.clock = clock
        self.chunk = chunk
        self.report = WriteReport()
        # ``progress(bytes sent so far)``, at most every ``progress_every`` seconds and once
        # at the end: what a live page shows while a push crosses a slow line
        self.progress = progress
        self.progress_every = progress_every
        self._progress_at = float("-inf")

    # -- public -------------------------------------------------------------------------------

    def push(
        self,
        lines: Sequence[ConfigLine],
        *,
        prompt: str = "",
        hierarchy: Sequence[ConfigLine] | None = None,
    ) -> WriteReport:
        """Send ``lines`` (in the mode they start from); returns the report or raises
        EchoMismatch / ConfigRejected / NoAnswer / LineDropped naming the line. ``prompt``
        is the prompt the router last printed (the first echo follows it on its line)."""
        started = self.clock()
        self._seed = prompt
        # ``hierarchy``: the whole config when ``lines`` is a part of it (a resumed push).
        everything = list(hierarchy) if hierarchy is not None else list(lines)
        by_number = {line.number: line for line in everything}
        self._paths = mode_paths(everything)
        todo = [self._item(line.text, line) for line in lines]
        context: tuple[int, ...] = ()
        while todo:
            outgoing = navigate(todo, context, by_number)
            stream = self._run(outgoing)
            self._check_rejected(stream)
            if stream.first_mismatch is None:
                break
            if stream.sent_lines:
                context = outgoing[stream.sent_lines - 1].context_after
            todo = self._plan_repair(stream)
        self.report.seconds = self.clock() - started
        if self.progress is not None:
            self.progress(self.report.bytes)
        return self.report

    def _report_progress(self, now: float, sending: int = 0) -> None:
        if self.progress is not None and now - self._progress_at >= self.progress_every:
            self._progress_at = now
            self.progress(self.report.bytes + sending)

    def _item(self, text: str, origin: ConfigLine, *, undo: bool = False) -> Outgoing:
        return Outgoing(
            text,
            None if undo else origin,
            path=self._paths[origin.number],
            enters=origin.number if origin.is_parent and not undo else None,
        )

    # -- one pass -----------------------------------------------------------------------------

    def _run(self, outgoing: list[Outgoing]) -> _Stream:
        newline = self.style.newline
        for item in outgoing:
            item.size = len(item.text) + len(newline)
        payload = "".join(item.text + newline for item in outgoing)
        ends = []
        total = 0
        for item in outgoing:
            total += item.size
            ends.append(total)
        stream = _Stream(outgoing=outgoing, echoes=[None] * len(outgoing))
        stream.tail, self._seed = getattr(self, "_seed", ""), ""
        start = self.clock()
        last_output = start
        base_bytes = self.report.bytes
        while True:
            now = self.clock()
            limit = len(payload)
            if stream.first_mismatch is not None:
                # Stopping: finish the line being sent (a half-sent line would prefix the
                # repair), send nothing after it.
                limit = ends[stream.sent_lines] if stream.sent_lines < len(ends) else limit
                if stream.sent_lines < len(ends) and stream.sent_bytes == (
                    ends[stream.sent_lines - 1] if stream.sent_lines else 0
                ):
                    limit = stream.sent_bytes
            if stream.sent_bytes < limit:
                inflight = stream.sent_bytes - self._consumed(stream)
                room = min(self.window - inflight, limit - stream.sent_bytes)
                if self.rate:
                    allowance = int((now - start) * self.rate) + self.chunk - stream.sent_bytes
                    room = min(room, allowance)
                if room >= min(self.chunk, limit - stream.sent_bytes) or (
                    room > 0 and inflight == 0
                ):
                    piece = payload[stream.sent_bytes : stream.sent_bytes + room]
                    # before the piece goes out, not after: the callback may stop the push
                    # (the engine's fence), and a process that was frozen longer than that
                    # allows must not send one piece more when it wakes. It is told the
                    # bytes sent once this piece is out (the count at the end is exact).
                    self._report_progress(self.clock(), len(piece))
                    self._send(piece)
                    stream.sent_bytes += len(piece)
                    self.report.bytes = base_bytes + stream.sent_bytes
                    self.report.max_inflight = max(self.report.max_inflight, inflight + len(piece))
                    while (
                        stream.sent_lines < len(outgoing)
                        and ends[stream.sent_lines] <= stream.sent_bytes
                    ):
                        stream.sent_lines += 1
            if self._finished(stream):
                break
            wait = self._next_wait(stream, start, len(payload))
            try:
                data = self.channel.recv(wait)
            except ChannelClosed:
                line = self._line_name(stream, stream.cursor)
                raise LineDropped(
                    f"the console line dropped after {self.report.bytes} bytes, "
                    f"while pushing {line}",
                    line=self._line_number(stream, stream.cursor),
                    output="\n".join(self.report.transcript[-20:]),
                ) from None
            now = self.clock()
            if data:
                last_output = now
                self._feed(stream, data)
            elif now - last_output > self._quiet_limit(stream):
                undecided = bool(stream.suspect) or stream.held is not None
                mid_line = stream.sent_bytes not in (0, *ends)
                if not mid_line and (
                    stream.first_mismatch is not None
                    or stream.cursor >= stream.sent_lines
                    or (undecided and stream.sent_bytes == len(payload))
                ):
                    self._finalize_held(stream)
                    break
                line = self._line_name(stream, stream.cursor)
                raise NoAnswer(
                    f"the router stopped answering ({self.idle_timeout:.0f} s without output) "
                    f"while pushing {line}",
                    line=self._line_number(stream, stream.cursor),
                    output="\n".join(self.report.transcript[-20:]),
                )
        self._finalize_held(stream)
        self.report.lines += sum(1 for echo in stream.echoes if echo and echo.matched)
        return stream

    def _send(self, piece: str) -> None:
        try:
            self.channel.send(piece)
        except ChannelClosed:
            raise LineDropped(f"the console line dropped after {self.report.bytes} bytes") from None

    def _finished(self, stream: _Stream) -> bool:
        if stream.first_mismatch is not None:
            return False  # drain until quiet
        if stream.cursor < len(stream.outgoing):
            return False
        if self.style.prompt is None:
            return True
        # Wait for the prompt after the last line: an error for it would come before that.
        return bool(self.style.prompt.match(stream.tail))

    def _quiet_limit(self, stream: _Stream) -> float:
        """How long the line may stay silent before the pass stops waiting."""
        undecided = bool(stream.suspect) or stream.held is not None
        if stream.cursor >= stream.sent_lines and not undecided:
            if stream.first_mismatch is not None:
                return 0.3  # drained: every line sent has its echo (and any error after it)
            if stream.cursor >= len(stream.outgoing):
                return 1.0  # all echoed; the final prompt is late — accept after a second
        if undecided and (
            stream.first_mismatch is not None or stream.sent_lines == len(stream.outgoing)
        ):
            return min(5.0, self.idle_timeout)  # the foreign lines are all we will get: decide
        return self.idle_timeout

    def _next_wait(self, stream: _Stream, start: float, total: int) -> float:
        if stream.first_mismatch is None and stream.sent_bytes < total and self.rate:
            due = start + (stream.sent_bytes + self.chunk) / self.rate - self.clock()
            return min(max(due, 0.002), 0.05)
        return 0.05

    def _consumed(self, stream: _Stream) -> int:
        """Bytes the router has read (echoed) so far in this pass."""
        done = sum(item.size for item in stream.outgoing[: stream.cursor])
        # Lines not (yet) taken for ours still show the router read that much.
        done += sum(len(line) + len(self.style.newline) for line in stream.suspect)
        tail = stream.tail
        if self.style.prompt is not None:
            match = self.style.prompt.match(tail)
            if match:
                tail = tail[match.end() :]
        partial = len(stream.held or "") + len(tail)
        return done + partial

    # -- reading echoes -----------------------------------------------------------------------

    def _feed(self, stream: _Stream, data: str) -> None:
        text = stream.tail + data.replace("\r\n", "\n").replace("\r", "")
        *complete, stream.tail = text.split("\n")
        for line in complete:
            self._take(stream, line.rstrip())

    def _take(self, stream: _Stream, line: str) -> None:
        style = self.style
        self.report.transcript.append(line)
        found = style.unsolicited.search(line)
        if found:
            # A message on its own line, or spliced into an echo: keep the echo part.
            self.report.unsolicited.append(line[found.start() :].strip())
            line = line[: found.start()]
            if not line.strip():
                return
        if style.prompt is not None:
            match = style.prompt.match(line)
            body = line[match.end() :] if match else None
        else:
            body = line
        if (body is None or style.prompt is None) and style.error.search(line):
            self._finalize_held(stream)
            if stream.last_echo >= 0:
                echo = stream.echoes[stream.last_echo]
                if echo is not None:
                    echo.error = (echo.error + "\n" + line.strip()).strip()
            return
        if stream.held is not None:
            expected = self._expected(stream) or ""
            joined = _rejoin(stream.held, line, expected)
            if body is None or (style.prompt is None and expected.startswith(joined)):
                body, stream.held = joined, None  # the rest of an interrupted echo
            elif body == expected and expected.startswith(stream.held):
                stream.held = None  # the router re-printed the interrupted line
            else:
                self._finalize_held(stream)
        if body is None:
            if line == self._expected(stream) and stream.held is None:
                body = line  # echoed without its prompt (reprinted after a syslog message)
            else:
                return  # informational output of a command
        if style.ignore is not None and style.ignore.search(body):
            return
        if body == "":
            return  # a bare prompt or blank line (we never send empty lines)
        self._evaluate(stream, body)

    def _expected(self, stream: _Stream) -> str | None:
        if stream.cursor < len(stream.outgoing):
            return stream.outgoing[stream.cursor].text
        return None

    def _evaluate(self, stream: _Stream, body: str) -> None:
        expected = self._expected(stream)
        if stream.suspect:
            following = [
                item.text for item in stream.outgoing[stream.cursor + 1 : stream.cursor + 4]
            ]
            if body == expected:
                self.report.unsolicited.extend(stream.suspect)  # a command's own output
                stream.suspect = []
            elif body in following or len(stream.suspect) >= 8:
                self._finalize_held(stream)  # the first of them was ours, mangled
                expected = self._expected(stream)
            else:
                stream.suspect.append(body)
                return
        if expected is None:
            self.report.unsolicited.append(body)
            return
        if body == expected:
            stream.echoes[stream.cursor] = Echo(body, True)
            stream.last_echo = stream.cursor
            stream.cursor += 1
            return
        if expected.startswith(body) and stream.first_mismatch is None:
            stream.held = body  # maybe interrupted by a message; decided by the next line
            return
        if self.style.prompt is None:
            # Bare echoes: a line that is not ours is either a command's own output (then our
            # line follows) or our line mangled (then the next one does not match): wait.
            stream.suspect = [body]
            return
        self._mismatch(stream, body)

    def _finalize_held(self, stream: _Stream) -> None:
        if stream.suspect:
            # Our mangled line is the one most like what we sent; the rest is command output.
            expected = self._expected(stream) or ""
            body = max(
                stream.suspect, key=lambda line: SequenceMatcher(None, line, expected).ratio()
            )
            self.report.unsolicited.extend(line for line in stream.suspect if line is not body)
            stream.suspect = []
            self._mismatch(stream, body)
        if stream.held is not None:
            body, stream.held = stream.held, None
            self._mismatch(stream, body)

    def _mismatch(self, stream: _Stream, body: str) -> None:
        # Two (or more) lines run together: the RETURN between them was lost.
        span = 1
        joined = stream.outgoing[stream.cursor].text
        for extra in range(stream.cursor + 1, min(stream.sent_lines, stream.cursor + 4)):
            if len(body) <= len(joined):
                break
            joined += stream.outgoing[extra].text
            span += 1
        if len(body) <= len(stream.outgoing[stream.cursor].text) + 1:
            span = 1
        for index in range(stream.cursor, stream.cursor + span):
            stream.echoes[index] = Echo(body, False, merged=index > stream.cursor)
        if stream.first_mismatch is None:
            stream.first_mismatch = stream.cursor
        stream.last_echo = stream.cursor
        stream.cursor += span

    # -- after a pass -------------------------------------------------------------------------

    def _check_rejected(self, stream: _Stream) -> None:
        last = len(stream.echoes) if stream.first_mismatch is None else stream.first_mismatch
        for index, echo in enumerate(stream.echoes[:last]):
            # (after a mismatch, a refusal may come from the wrong mode: the repair decides)
            if echo is None or not echo.matched or not echo.error:
                continue
            item = stream.outgoing[index]
            if item.origin is None:
                continue  # an undo that found nothing to undo
            raise ConfigRejected(
                f"line {item.origin.number} {item.origin.text!r} was refused by the router: "
                f"{echo.error.splitlines()[0]}",
                line=item.origin.number,
                output="\n".join(self.report.transcript[-20:]),
            )

    def _plan_repair(self, stream: _Stream) -> list[Outgoing]:
        first = stream.first_mismatch
        assert first is not None
        echo = stream.echoes[first]
        seen = echo.text if echo else ""
        name = self._line_name(stream, first)
        if not self.repair or self.report.repairs >= self.max_repairs:
            raise EchoMismatch(
                f"echo mismatch on {name}: the router saw {seen!r}",
                line=self._line_number(stream, first),
                output="\n".join(self.report.transcript[-20:]),
            )
        plan: list[Outgoing] = []
        for index in range(first, len(stream.outgoing)):
            current = stream.outgoing[index]
            echo = stream.echoes[index]
            unsent = index >= stream.sent_lines
            if current.navigation and unsent:
                continue  # navigation is recomputed for the plan
            if echo is not None and echo.matched and not unsent:
                continue  # applied as sent, in its own mode (leaf mismatches keep the mode)
            origin = current.origin
            if origin is not None and unsent:
                plan.append(self._item(current.text, origin))
                continue
            if current.navigation or (origin is not None and origin.is_parent):
                raise EchoMismatch(
                    f"echo mismatch on {self._line_name(stream, index)} (a mode line; the lines "
                    f"under it may have gone elsewhere): the router saw "
                    f"{(echo.text if echo else '')!r}; not repaired",
                    line=origin.number if origin is not None else self._next_number(stream, index),
                    output="\n".join(self.report.transcript[-20:]),
                )
            if origin is None:
                continue  # an undo that went wrong: the line it undoes is sent again anyway
            if echo is not None and not echo.merged and not echo.error and echo.text.strip():
                undo = self._item(self.undo(echo.text), origin, undo=True)  # accepted in error
                plan.append(undo)
            plan.append(self._item(current.text, origin))
        self.report.repairs += 1
        self.report.transcript.append(f"[repair {self.report.repairs}: resend from {name}]")
        return plan

    def _next_number(self, stream: _Stream, index: int) -> int | None:
        for item in stream.outgoing[index:]:
            if item.origin is not None:
                return item.origin.number
        return None

    def _line_number(self, stream: _Stream, index: int) -> int | None:
        if index < len(stream.outgoing) and stream.outgoing[index].origin is not None:
            return stream.outgoing[index].origin.number
        return None

    def _line_name(self, stream: _Stream, index: int) -> str:
        if index >= len(stream.outgoing):
            return "the end of the config"
        item = stream.outgoing[index]
        if item.origin is not None:
            return f"line {item.origin.number} {item.text!r}"
        return repr(item.text)


# ---------------------------------------------------------------------------------------------
# Reading a console outside a push (login dialogs, single commands)


# What a wake sends into a line that says nothing: Ctrl-U, which erases a line left half
# typed by a session that ended mid-push (IOS and Junos line editing both take it), then the
# RETURN. A bare RETURN would run that half line: `username turnup secret 9 $9$…` cut short
# would give the router a secret nobody knows.
CLEAR_LINE = "\x15"
WAKE_RETURN = CLEAR_LINE + "\r"


def read_until(
    channel: Channel,
    pattern: re.Pattern[str],
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    buffer: str = "",
    view: Callable[[str], str] | None = None,
) -> tuple[str, re.Match[str] | None]:
    """Read until ``pattern`` matches the output collected so far (or ``timeout`` passes).
    Returns the output and the match (None on timeout). With ``view`` (e.g. ``without_syslog``)
    the pattern is matched against ``view(output)``, and that is what is returned."""
    deadline = clock() + timeout
    text = buffer
    while True:
        seen = view(text) if view else text
        match = pattern.search(seen)
        if match:
            return seen, match
        left = deadline - clock()
        if left <= 0:
            return seen, None
        text += channel.recv(min(left, 0.05))


def read_reactive(
    channel: Channel,
    patterns: Sequence[re.Pattern[str]],
    *,
    quiet: float,
    limit: float,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Read until one of ``patterns`` matches the end of the output (a prompt or question a
    login loop knows: answered at once, every dialog answered sooner is time saved per
    router), or until nothing arrives for ``quiet`` seconds, or ``limit`` passes."""
    text = ""
    end = clock() + limit
    last = clock()
    while clock() < end:
        try:
            data = channel.recv(min(quiet, 0.05))
        except ChannelClosed as error:
            error.text = text  # what arrived before the close (e.g. "port in use")
            raise
        now = clock()
        if data:
            text += data
            last = now
            if patterns and any(rx.search(text[-300:]) for rx in patterns):
                break
        elif now - last >= quiet:
            break
    return text


def read_quiet(
    channel: Channel,
    *,
    quiet: float,
    limit: float,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Read until nothing arrives for ``quiet`` seconds (at most ``limit`` seconds)."""
    return read_reactive(channel, (), quiet=quiet, limit=limit, clock=clock)


def _rejoin(held: str, rest: str, expected: str) -> str:
    """An echo a message interrupted, put back together. Lines are read with their trailing
    blanks stripped, so an interruption right after a blank loses it: take the blanks the
    sent line has there."""
    joined = held + rest
    if expected.startswith(joined) or not expected.startswith(held):
        return joined
    gap = expected[len(held) :]
    blanks = gap[: len(gap) - len(gap.lstrip(" "))]
    if blanks and expected.startswith(held + blanks + rest):
        return held + blanks + rest
    return joined
