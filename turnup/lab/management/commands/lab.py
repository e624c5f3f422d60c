"""``turnup lab``: run and inspect a lab.

turnup lab start --file lab.yaml [--time-scale 0.1]
turnup lab start --site LON-01            (wired as the design's console cabling says)
turnup lab config --site LON-01           (print the lab file a site gives)
turnup lab status [--control 127.0.0.1:7600] [--json]
turnup lab fault --router r1 silent=true slow_factor=3
turnup lab fault --console-server cs1 --line 3 drop_after_bytes=500
turnup lab reload --router r1
"""

from __future__ import annotations

import asyncio
import http.client
import json
import signal
import urllib.error
import urllib.request

import yaml
from django.core.management.base import BaseCommand, CommandError

from turnup.lab.lab import DEFAULT_CONTROL, Lab, LabFileError


def _value(text: str):
    lowered = text.lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


class Command(BaseCommand):
    help = "Run the lab (simulated console servers and routers) or talk to a running one."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        start = sub.add_parser("start", help="run a lab in the foreground (Ctrl-C stops it)")
        start.add_argument("--file", help="YAML lab file")
        start.add_argument("--site", help="build the lab from this site's design")
        start.add_argument("--time-scale", type=float, default=None)
        start.add_argument("--control", default=None, help=f"host:port (default {DEFAULT_CONTROL})")
        config = sub.add_parser("config", help="print the lab file a site's design gives")
        config.add_argument("--site", required=True)
        status = sub.add_parser("status", help="lines, routers, states and byte counts")
        status.add_argument("--control", default=DEFAULT_CONTROL)
        status.add_argument("--json", action="store_true")
        fault = sub.add_parser("fault", help="inject or clear faults: NAME=VALUE …")
        fault.add_argument("--control", default=DEFAULT_CONTROL)
        fault.add_argument("--router")
        fault.add_argument("--console-server")
        fault.add_argument("--line", type=int)
        fault.add_argument("values", nargs="+")
        reload = sub.add_parser("reload", help="power-cycle a router")
        reload.add_argument("--control", default=DEFAULT_CONTROL)
        reload.add_argument("--router", required=True)

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    # -- start / config ------------------------------------------------------------------------
    def _site_config(self, name: str, time_scale: float) -> dict:
        from turnup.dcim.models import Site
        from turnup.lab.design import site_lab_config

        site = Site.objects.filter(name=name).first() or Site.objects.filter(slug=name).first()
        if site is None:
            raise CommandError(f"no site {name!r}")
        return site_lab_config(site=site, time_scale=time_scale)

    def do_config(self, site, **options):
        self.stdout.write(yaml.safe_dump(self._site_config(site, 1.0), sort_keys=False))

    def do_start(self, file=None, site=None, time_scale=None, control=None, **options):
        if bool(file) == bool(site):
            raise CommandError("give exactly one of --file or --site")
        if file:
            try:
                with open(file, encoding="utf-8") as handle:
                    config = yaml.safe_load(handle)
            except OSError as error:
                raise CommandError(f"{file}: {error.strerror}") from None
            except UnicodeDecodeError as error:
                raise CommandError(
                    f"{file}: not UTF-8 text: byte 0x{error.object[error.start]:02x} "
                    f"at offset {error.start}"
                ) from None
            except yaml.YAMLError as error:
                raise CommandError(f"{file}: {error}") from None
        else:
            config = self._site_config(site, time_scale or 1.0)
        if control:
            config["control"] = control
        try:
            lab = Lab(config, time_scale=time_scale)
        except LabFileError as error:
            raise CommandError(f"lab file: {error}") from None

        async def run():
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGTERM, stop.set)
            await lab.start()
            self._print_started(lab)
            try:
                await stop.wait()
            finally:
                await lab.stop()
                self.stdout.write("lab stopped")

        try:
            asyncio.run(run())
        except KeyboardInterrupt:
            pass
        except OSError as error:
            raise CommandError(f"cannot listen: {error}") from None

    def _print_started(self, lab: Lab) -> None:
        self.stdout.write(f"lab {lab.name}: control http://{lab.control_address}/status")
        for server in lab.servers.values():
            ssh = f", ssh {server.host}:{server.ssh_port} (user {server.username}:<line>)"
            self.stdout.write(
                f"  console server {server.name}: {len(server.lines)} lines, telnet "
                f"{server.host}:<port per line>{ssh if server.ssh_port else ''}"
            )
            for number, line in sorted(server.lines.items()):
                router = line.router.name if line.router else "-"
                own = server.ssh_ports.get(number)
                ssh_line = f"  ssh {server.host}:{own}" if own and own != server.ssh_port else ""
                self.stdout.write(
                    f"    line {number:>3} {router:<20} telnet {server.host}:"
                    f"{server.telnet_ports[number]}{ssh_line}  {line.baud} baud"
                )
        self.stdout.flush()

    # -- talking to a running lab ----------------------------------------------------------------
    def _call(self, control: str, path: str, body: dict | None = None) -> dict:
        url = f"http://{control}{path}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
            request.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                message = json.loads(error.read()).get("message", str(error))
            except (ValueError, AttributeError):
                message = f"{control} answered {error.code}: is it a lab's control address?"
            raise CommandError(message) from None
        except (urllib.error.URLError, OSError) as error:
            raise CommandError(f"no lab answers on {control}: {error}") from None
        except json.JSONDecodeError:
            raise CommandError(
                f"{control} did not answer JSON: is it a lab's control address?"
            ) from None
        except (ValueError, http.client.HTTPException):  # InvalidURL: spaces, a bad port …
            raise CommandError(f"--control {control!r}: give host:port") from None

    def do_status(self, control, json=False, **options):
        status = self._call(control, "/status")
        if json:
            import json as json_module

            self.stdout.write(json_module.dumps(status, indent=2))
            return
        self.stdout.write(f"lab {status['name']} (time scale {status['time_scale']})")
        header = (
            f"{'server':<10} {'line':>4} {'telnet':>6} {'ssh':>6} {'router':<18} {'platform':<14} "
            f"{'state':<14} {'in use':<6} {'baud':>6} {'bytes in':>9} {'bytes out':>9} "
            f"{'drops':>6} mgmt"
        )
        self.stdout.write(header)
        for server in status["console_servers"]:
            for line in server["lines"]:
                self.stdout.write(
                    f"{server['name']:<10} {line['line']:>4} {line['telnet_port'] or '':>6} "
                    f"{line.get('ssh_port') or '':>6} "
                    f"{line['router'] or '-':<18} {line['platform'] or '-':<14} "
                    f"{line['router_state'] or '-':<14} {'yes' if line['in_use'] else 'no':<6} "
                    f"{line['baud']:>6} {line['bytes_in']:>9} {line['bytes_out']:>9} "
                    f"{line['drops']:>6} {' '.join(line.get('mgmt') or []) or '-'}"
                )
        for router, error in sorted(status.get("mgmt_errors", {}).items()):
            self.stderr.write(f"{router}: management listener failed: {error}")

    def do_fault(self, control, values, router=None, console_server=None, line=None, **options):
        faults = {}
        for item in values:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"{item!r}: use NAME=VALUE")
            faults[name] = _value(value)
        body = {"faults": faults}
        if router:
            body["router"] = router
        elif console_server and line is not None:
            body.update(console_server=console_server, line=line)
        else:
            raise CommandError("give --router, or --console-server and --line")
        self._call(control, "/faults", body)
        self.stdout.write("ok")

    def do_reload(self, control, router, **options):
        self._call(control, "/reload", {"router": router})
        self.stdout.write("ok")
