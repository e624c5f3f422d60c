"""A netmiko session seen as a console ``Channel`` (send / receive with a timeout).

netmiko owns the transport (telnet through its vendored telnetlib, or paramiko SSH), the
telnet option negotiation and, after ``redispatch``, the prompts; the console writer and the
login glue only need raw bytes in and out, waiting on the socket instead of polling.
"""

from __future__ import annotations

import select

from turnup.provisioning.drivers.base import close_quietly
from turnup.provisioning.drivers.console import ChannelClosed


def netmiko_connect(**params):
    """``ConnectHandler(**params)`` and the device type's session preparation, without the
    RETURN netmiko types first to make the far end say something (and its 0.1 s sleep): on a
    console line that RETURN answers whatever the box is asking (at a factory IOS-XE's
    "[yes/no]:" it is a wrong answer, and ~110 bytes of line time), and a vty greets with its
    prompt anyway. A connection that fails half-way is closed (netmiko's log filter too)."""
    from netmiko import ConnectHandler

    connection = ConnectHandler(**params, auto_connect=False)
    try:
        connection.establish_connection()
        connection._try_session_preparation(force_data=False)
    except BaseException:
        close_quietly(connection.disconnect)
        raise
    return connection


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
            remote = self.connection.remote_conn
            closed = getattr(remote, "closed", False) or getattr(remote, "eof_received", False)
            if closed is True:
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
