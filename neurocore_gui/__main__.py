"""``neurocore`` console command: serve the app.

    neurocore [--port N] [--show]                   this machine only (127.0.0.1)
    neurocore --network [--allow-host NAME] ...     every interface: other machines too
    neurocore --address ADDR [--allow-host NAME]    one interface

The server answers only requests addressed to it by a name it serves under:
an HTTP request (a WebSocket's included) whose ``Host`` is another name, or
whose ``Origin`` is another site, gets 403 before it reaches the app.  A web
page the user visits could otherwise point a name of its own at 127.0.0.1
(DNS rebinding) and drive the user's session.  See docs/server.md.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from tornado import httputil

APP = Path(__file__).with_name("app.py")
LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="neurocore", description="Serve the NeuroCore app.")
    p.add_argument("--port", type=int, default=5006, help="port (default 5006; 0 picks a free one)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--address", default=None,
                       help="IPv4 address of the interface to listen on "
                            "(default 127.0.0.1: this machine only)")
    where.add_argument("--network", action="store_true",
                       help="listen on every IPv4 interface, so other machines can open the app")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                   help="another name the server is reached under (repeatable), e.g. its DNS name")
    p.add_argument("--show", action="store_true", help="open the app in a browser")
    args = p.parse_args(argv)
    if not 0 <= args.port <= 65535:
        p.error(f"--port must be 0..65535, not {args.port}")
    if args.address is not None:
        try:
            ipaddress.IPv4Address(args.address)
        except ValueError:
            p.error(f"--address must be an IPv4 address of this machine, not {args.address!r}")
    for entry in args.allow_host:
        try:
            split_host(entry)
        except ValueError as exc:
            p.error(str(exc))
    return args


def split_host(entry: str) -> tuple[str, int | None]:
    """``name`` or ``name:port`` -> (name, port or None)."""
    if not entry or any(c in entry for c in "[]@/?# "):
        raise ValueError(f"--allow-host {entry!r}: expected a host name or IPv4 address, optionally :port")
    parts = urlsplit(f"//{entry}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"--allow-host {entry!r}: the port is not a number in 0..65535") from None
    if not parts.hostname:
        raise ValueError(f"--allow-host {entry!r}: no host name")
    return parts.hostname, port


def machine_names() -> set[str]:
    """Names and IPv4 addresses this machine is known by (for ``--network``)."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names |= {info[4][0] for info in socket.getaddrinfo(name, None, socket.AF_INET)}
        except OSError:
            pass
    try:  # the address of the interface that routes outwards (a UDP connect sends nothing)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            names.add(s.getsockname()[0])
    except OSError:
        pass
    return {n for n in names if n}


def served_hosts(address: str | None, network: bool, allow: list[str], port: int) -> set[str]:
    """The ``host:port`` values (lower case) of a Host header the server answers to."""
    if network:
        hosts = set(LOOPBACK_NAMES) | machine_names()
    elif address is None or ipaddress.ip_address(address).is_loopback:
        hosts = set(LOOPBACK_NAMES) | ({address} if address else set())
    else:
        hosts = {address}
    served = {f"{h}:{port}".lower() for h in hosts}
    for entry in allow:
        host, p = split_host(entry)
        served.add(f"{host}:{p or port}".lower())
    if port == 80:  # browsers leave the default port out of Host
        served |= {h[:-3] for h in served if h.endswith(":80")}
    return served


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


class HostGuard(httputil.HTTPServerConnectionDelegate):
    """Wraps the server's application: a request whose ``Host`` is not one of
    ``allowed`` (``host:port``, lower case), or whose ``Origin`` is not one of
    them, is answered 403 and never reaches the application."""

    def __init__(self, app: httputil.HTTPServerConnectionDelegate, allowed: set[str]):
        self.app = app
        self.allowed = {a.lower() for a in allowed}

    def accepts(self, host: str | None, origin: str | None) -> bool:
        if not host or host.lower() not in self.allowed:
            return False
        if origin is None:  # browsers send Origin with every cross-site request and WebSocket
            return True
        parts = urlsplit(origin)
        return parts.scheme in ("http", "https") and parts.netloc.lower() in self.allowed

    def start_request(self, server_conn, request_conn):
        return _Guarded(self, self.app.start_request(server_conn, request_conn), request_conn)

    def on_close(self, server_conn) -> None:
        self.app.on_close(server_conn)


class _Guarded(httputil.HTTPMessageDelegate):
    def __init__(self, guard: HostGuard, inner: httputil.HTTPMessageDelegate, conn):
        self.guard, self.inner, self.conn = guard, inner, conn
        self.refused = False

    def headers_received(self, start_line, headers):
        if self.guard.accepts(headers.get("Host"), headers.get("Origin")):
            return self.inner.headers_received(start_line, headers)
        self.refused = True
        body = b"403: this server answers only requests addressed to it (Host/Origin refused)\n"
        self.conn.write_headers(
            httputil.ResponseStartLine("HTTP/1.1", 403, "Forbidden"),
            httputil.HTTPHeaders({"Content-Type": "text/plain", "Content-Length": str(len(body)),
                                  "Connection": "close"}),
            body)
        self.conn.finish()
        return None

    def data_received(self, chunk):
        return None if self.refused else self.inner.data_received(chunk)

    def finish(self) -> None:
        if not self.refused:
            self.inner.finish()

    def on_connection_close(self) -> None:
        if not self.refused:
            self.inner.on_connection_close()


def make_server(args: argparse.Namespace):
    """The Panel server of the app, guarded, not started: (server, address, port)."""
    from panel.io.server import get_server

    address = "0.0.0.0" if args.network else (args.address or "127.0.0.1")
    port = args.port or free_port(address)  # the allowed Host values name the port
    allowed = served_hosts(args.address, args.network, args.allow_host, port)
    server = get_server({"app": str(APP)}, port=port, address=address, show=False, start=False,
                        title="NeuroCore", liveness=True, num_procs=1,
                        websocket_origin=sorted(allowed))  # Bokeh's own WebSocket check as well
    # Bokeh's Server keeps its tornado HTTPServer in ``_http``; the request
    # callback there is the application, behind tornado's public delegate interface
    server._http.request_callback = HostGuard(server._http.request_callback, allowed)
    return server, address, port


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server, address, port = make_server(args)
    shown = "127.0.0.1" if address == "0.0.0.0" else address
    extra = " and on this machine's network addresses" if args.network else ", this machine only"
    print(f"NeuroCore at http://{shown}:{port}/app{extra}", flush=True)
    server.start()
    if args.show:
        server.io_loop.add_callback(server.show, "/app")
    try:
        server.io_loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
