"""A netmiko session seen as a console ``Channel`` (send / receive with a timeout).

netmiko owns the transport (telnet through its vendored telnetlib, or paramiko SSH), the
telnet option negotiation and, after ``redispatch``, the prompts; the console writer and the
login glue only need raw bytes in and out, waiting on the socket instead of polling.
"""

from __future__ import annotations

import functools
import re
import select
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from turnup.provisioning.drivers.base import (
    DriverError,
    LineDropped,
    NoAnswer,
    Unreachable,
    close_quietly,
)
from turnup.provisioning.drivers.console import ChannelClosed


def netmiko_connect(*, prepare: bool = True, **params):
    """``ConnectHandler(**params)`` and (with ``prepare``) the device type's session
    preparation, without the RETURN netmiko types first to make the far end say something (and
    its 0.1 s sleep): on a console line that RETURN answers whatever the box is asking (at a
    factory IOS-XE's "[yes/no]:" it is a wrong answer, and ~110 bytes of line time), and a vty
    greets with its prompt anyway. A connection that fails half-way is closed (netmiko's log
    filter too).

    Both transports send at once (``TCP_NODELAY``): an SSH handshake is a dozen small
    messages, each waiting for the answer to the one before, and with Nagle's algorithm
    meeting the server's delayed ACK two of those rounds waited 40 ms each (an SSH login to
    the lab took 92 ms, 5 ms with it); on a telnet console line a typed line would wait for
    the ACK of the one before."""
    from netmiko import ConnectHandler

    sock = None
    if "telnet" not in params["device_type"] and params.get("sock") is None:
        sock = params["sock"] = tcp_connect(
            params["host"], params.get("port") or 22, timeout=params.get("conn_timeout", 10)
        )
    connection = ConnectHandler(**params, auto_connect=False)
    try:
        connection.establish_connection()
        if connection.protocol == "ssh":
            closing = closing_ssh_channel()
            connection.channel = closing(conn=connection.remote_conn, encoding=connection.encoding)
        else:  # telnet: its socket is telnetlib's
            tcp_nodelay(getattr(connection.remote_conn, "get_socket", lambda: None)())
        if prepare:
            connection._try_session_preparation(force_data=False)
    except BaseException:
        close_quietly(connection.disconnect)
        if sock is not None:
            close_quietly(sock.close)
        raise
    return connection


@functools.cache
def closing_ssh_channel() -> type:
    """netmiko's ``SSHChannel`` class, made to notice a closed channel (netmiko is imported on
    first use: web processes never load it)."""
    from netmiko.channel import SSHChannel
    from netmiko.exceptions import ReadException

    class ClosingSSHChannel(SSHChannel):
        """netmiko's SSH channel, which also tells a channel the far end has closed. netmiko
        reads only while paramiko's ``recv_ready()``, and that stays False on a closed
        channel: a console server that dropped the line mid-command left netmiko waiting for
        the echo until its read timed out (12 s into a push). Now the read that finds nothing
        more to come raises netmiko's own "Channel stream closed", as telnet's end of file
        does, and the driver names the drop at once."""

        def read_channel(self) -> str:
            output = super().read_channel()
            if not output and ssh_channel_closed(self.remote_conn):
                raise ReadException("Channel stream closed by remote device.")
            return output

    return ClosingSSHChannel


def tcp_connect(host: str, port: int, *, timeout: float) -> socket.socket:
    """A TCP connection that sends each write at once (see ``netmiko_connect``)."""
    sock = socket.create_connection((host, port), timeout=timeout)
    tcp_nodelay(sock)
    return sock


def tcp_nodelay(sock) -> None:
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket (a serial line, a test's pipe)
        pass


def netmiko_close(connection, *, logout: str | None = None) -> None:
    """netmiko's ``disconnect``. With ``logout`` (the caller has just read the exec prompt),
    that command ends the session without netmiko's cleanup first checking for config mode
    (a RETURN and a read of the prompt: on a console line ~0.03 s)."""
    if logout is not None:
        try:
            connection.write_channel(logout + connection.RETURN)
        except Exception:  # noqa: BLE001 - a session already gone needs no logout
            pass
        connection.cleanup = lambda *args, **kwargs: None  # this instance only: done above
    connection.disconnect()


class NetmikoChannel:
    """Raw access to a connected netmiko ``BaseConnection``."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def _fileno(self) -> int | None:
        remote = self.connection.remote_conn
        try:
            if hasattr(remote, "get_socket"):  # telnet
                return remote.get_socket().fileno()
            return remote.fileno()  # paramiko Channel (a pipe that is readable with data)
        except (AttributeError, OSError, ValueError):
            return None

    def send(self, data: str) -> None:
        try:
            self.connection.write_channel(data)
        except (OSError, EOFError) as error:
            raise ChannelClosed(str(error)) from None
        except Exception as error:  # netmiko's WriteException
            raise ChannelClosed(str(error)) from None

    def _read(self) -> str:
        try:
            return self.connection.channel.read_channel()
        except EOFError:
            raise ChannelClosed("connection closed by the console server") from None
        except OSError as error:
            raise ChannelClosed(str(error)) from None
        except Exception as error:  # netmiko's ReadException ("Channel stream closed")
            raise ChannelClosed(str(error)) from None

    def recv(self, timeout: float) -> str:
        data = self._read()
        if data:
            return data
        fileno = self._fileno()
        if fileno is None:
            return ""
        try:
            ready, _, _ = select.select([fileno], [], [], max(timeout, 0.0))
        except (OSError, ValueError):
            raise ChannelClosed("connection closed") from None
        if not ready:
            if transport_closed(self.connection):
                raise ChannelClosed("connection closed by the console server")
            return ""
        data = self._read()
        if not data:
            remote = self.connection.remote_conn
            if hasattr(remote, "get_socket"):
                # Readable yet empty: telnet negotiation only, or EOF (read raises then).
                return ""
            if getattr(remote, "closed", False) or remote.exit_status_ready():
                raise ChannelClosed("connection closed by the console server")
        return data


#: netmiko's words for a session that is gone ("Channel stream closed by remote device.",
#: "Attempt to read, but there is no active channel.")
CLOSED = re.compile(r"closed|no active channel", re.IGNORECASE)


def transport_closed(connection) -> bool:
    """Whether the far end closed a netmiko session's transport: telnet has read its end of
    file, or the SSH channel was closed (netmiko's own reads over SSH only see nothing
    arrive). A session with no transport is not one: netmiko let it go itself, after a
    failure of its own (its session preparation timing out disconnects), or never had one."""
    remote = getattr(connection, "remote_conn", None)
    if remote is None:
        return False
    if hasattr(remote, "get_socket"):  # telnet
        return bool(getattr(remote, "eof", False))
    return ssh_channel_closed(remote)


def ssh_channel_closed(channel) -> bool:
    """A paramiko channel the far end closed (or sent its end of file on), with nothing left
    in its buffer to read."""
    gone = getattr(channel, "closed", False) or getattr(channel, "eof_received", False)
    return bool(gone) and not channel.recv_ready()


@contextmanager
def session_errors(
    *,
    dropped: Callable[[str], DriverError],
    silent: Callable[[str], DriverError],
    closed: Callable[[], bool] = lambda: False,
) -> Iterator[None]:
    """What the transport raises when a session fails under a driver's call, as the step's
    reason: the session closed (``ChannelClosed``, telnet's ``EOFError``, a socket error,
    netmiko's "Channel stream closed", or netmiko's read timing out on a session that
    ``closed()`` says is gone) is ``dropped(what was said)``; a read timing out on a live
    session is ``silent(…)``. Without it such an error would reach the step as an internal
    error, not retried. A ``DriverError`` passes as it is, and so does netmiko failing to
    parse what it read (a fault of ours, not of the session)."""
    from netmiko.exceptions import ReadException, ReadTimeout, WriteException

    try:
        yield
    except DriverError:
        raise
    except (ReadTimeout, TimeoutError) as error:
        said = str(error).strip().splitlines()[0] if str(error).strip() else "read timed out"
        raise (dropped if closed() else silent)(said) from None
    except (ReadException, WriteException) as error:
        if not CLOSED.search(str(error)):
            raise
        raise dropped(str(error)) from None
    except (ChannelClosed, EOFError, OSError) as error:
        raise dropped(str(error)) from None


def console_errors(
    key: str, doing: str, *, closed: Callable[[], bool] = lambda: False
) -> AbstractContextManager[None]:
    """``session_errors`` on console line ``key``: ``LineDropped`` or ``NoAnswer``, naming
    what was being done."""
    return session_errors(
        dropped=lambda said: LineDropped(f"console line {key} dropped while {doing}: {said}"),
        silent=lambda said: NoAnswer(
            f"the router on {key} stopped answering while {doing}: {said}"
        ),
        closed=closed,
    )


def management_errors(
    host: str, doing: str, *, closed: Callable[[], bool] = lambda: False
) -> AbstractContextManager[None]:
    """``session_errors`` on a management session to ``host``: a closed session is
    ``Unreachable`` (retried in a new session), a silent one ``NoAnswer``."""
    return session_errors(
        dropped=lambda said: Unreachable(f"{host}: the SSH session closed while {doing}: {said}"),
        silent=lambda said: NoAnswer(f"{host} stopped answering while {doing}: {said}"),
        closed=closed,
    )


Method = TypeVar("Method", bound=Callable[..., Any])


def console_call(doing: str) -> Callable[[Method], Method]:
    """A driver's console method under ``console_errors`` (``self.target`` names the line,
    ``self.console`` is the session)."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        def call(self, *args: Any, **kwargs: Any) -> Any:
            gone = lambda: transport_closed(getattr(self, "console", None))  # noqa: E731
            with console_errors(self.target.key, doing, closed=gone):
                return method(self, *args, **kwargs)

        return call  # type: ignore[return-value]

    return decorate


def management_call(doing: str) -> Callable[[Method], Method]:
    """A driver's management method under ``management_errors`` (``self.hostname`` names
    the router, ``self.mgmt`` is the session)."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        def call(self, *args: Any, **kwargs: Any) -> Any:
            gone = lambda: transport_closed(getattr(self, "mgmt", None))  # noqa: E731
            with management_errors(self.hostname, doing, closed=gone):
                return method(self, *args, **kwargs)

        return call  # type: ignore[return-value]

    return decorate
