"""``turnup lab`` given a file that is not text or a control address that is not one: a
``CommandError`` that says so."""

import http.server
import threading

import pytest
from django.core.management import CommandError, call_command


def test_lab_start_with_a_binary_file(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError, match="not UTF-8 text: byte 0xff at offset 0"):
        call_command("lab", "start", "--file", str(path))


@pytest.mark.parametrize("control", ["a b", "127.0.0.1:port"])
def test_lab_status_with_a_malformed_control_address(control):
    with pytest.raises(CommandError, match="give host:port"):
        call_command("lab", "status", "--control", control)


def test_lab_status_against_something_that_is_not_a_lab():
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        control = f"127.0.0.1:{server.server_port}"
        with pytest.raises(CommandError, match="is it a lab's control address"):
            call_command("lab", "status", "--control", control)
    finally:
        server.shutdown()
        server.server_close()
