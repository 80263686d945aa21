"""The ``neurocore`` server only serves its own user: it listens on 127.0.0.1
unless told otherwise, and refuses HTTP requests and WebSockets addressed to a
name it does not serve (DNS rebinding: a page at ``evil.example`` whose name
resolves to 127.0.0.1 must not read the app or drive a session).  Raw requests
with hand-set Host and Origin headers, as such a page's browser would send."""

from __future__ import annotations

import asyncio
import http.client
import sys

import pytest

from neurocore_gui.__main__ import HostGuard, machine_names, parse_args, served_hosts
from tests.gui.conftest import ARTIFACTS, ROOT, BokehWS, examples_menu, start_command, stop_server

EVIL = "evil.example"


def serve(*extra):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return start_command([sys.executable, "-m", "neurocore_gui", "--port", "0", *extra], cwd=ROOT,
                         name="secure_serve")


def listening_addresses(port: int) -> set[str]:
    """Local IPv4/IPv6 addresses with a socket listening on ``port`` (Linux /proc)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if state == "0A" and int(p, 16) == port:  # 0A: LISTEN
                if width == 8:
                    found.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
                else:
                    found.add(addr)
    return found


def get(port: int, path: str = "/app", host: str | None = None, origin: str | None = None,
        connect: str = "127.0.0.1") -> int:
    conn = http.client.HTTPConnection(connect, port, timeout=60)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", f"127.0.0.1:{port}" if host is None else host)
        if origin is not None:
            conn.putheader("Origin", origin)
        conn.endheaders()
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def websocket(port: int, host: str, origin: str | None):
    """'refused' or the Examples menu of the session the WebSocket opened."""
    async def go():
        headers = {"Host": host} | ({"Origin": origin} if origin else {})
        try:
            ws = await BokehWS.connect(f"ws://127.0.0.1:{port}/app/ws", headers=headers)
        except Exception as exc:  # noqa: BLE001 - tornado raises HTTPClientError(403) on a refused upgrade
            return f"refused ({getattr(exc, 'code', exc)})"
        try:
            return examples_menu(await asyncio.wait_for(ws.pull_document(), 120))
        finally:
            ws.close()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def local_server():
    proc, base, log = serve()
    try:
        yield int(base.rsplit(":", 1)[1])
    finally:
        stop_server(proc, log)


def test_default_listens_on_loopback_only(local_server):
    assert listening_addresses(local_server) == {"127.0.0.1"}


def test_http_addressed_to_another_name_is_refused(local_server):
    port = local_server
    assert get(port) == 200
    assert get(port, host=f"localhost:{port}") == 200
    assert get(port, host=f"127.0.0.1:{port}", origin=f"http://127.0.0.1:{port}") == 200
    for host in (EVIL, f"{EVIL}:{port}", f"127.0.0.1:{port + 1}", ""):
        assert get(port, host=host) == 403, host
        assert get(port, "/liveness", host=host) == 403, host
    # the right Host, but a request made by another site's page
    assert get(port, origin=f"http://{EVIL}") == 403
    assert get(port, origin=f"http://{EVIL}:{port}") == 403
    assert get(port, origin="null") == 403


def test_websocket_from_another_site_is_refused(local_server):
    port = local_server
    assert websocket(port, f"{EVIL}:{port}", f"http://{EVIL}:{port}").startswith("refused (403")
    assert websocket(port, f"127.0.0.1:{port}", f"http://{EVIL}:{port}").startswith("refused (403")
    assert websocket(port, f"{EVIL}:{port}", None).startswith("refused (403")
    # the page's own WebSocket opens a session (with the example networks in its menu)
    menu = websocket(port, f"127.0.0.1:{port}", f"http://127.0.0.1:{port}")
    assert isinstance(menu, list) and "cuba" in menu


def outward_address() -> str | None:
    addrs = sorted(a for a in machine_names() if a[0].isdigit() and not a.startswith("127."))
    return addrs[0] if addrs else None


@pytest.mark.slow
def test_network_option_serves_other_machines_and_still_checks_host():
    ip = outward_address()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    proc, base, log = serve("--network", "--allow-host", "neurocore.lab.test")
    try:
        port = int(base.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"0.0.0.0"}
        # reached over the machine's own address, as another machine would
        assert get(port, host=f"{ip}:{port}", connect=ip) == 200
        assert get(port, host=f"neurocore.lab.test:{port}", connect=ip) == 200
        assert get(port, host=f"{EVIL}:{port}", connect=ip) == 403
        assert get(port, host=f"{ip}:{port}", origin=f"http://{EVIL}", connect=ip) == 403
    finally:
        stop_server(proc, log)


def test_the_loopback_server_is_not_reachable_from_the_network(local_server):
    ip = outward_address()
    if ip is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    with pytest.raises(ConnectionRefusedError):
        get(local_server, host=f"{ip}:{local_server}", connect=ip)


# -- the guard's rules, without a server ------------------------------------------------

def test_served_hosts():
    assert served_hosts(None, False, [], 5006) == {"127.0.0.1:5006", "localhost:5006"}
    assert served_hosts("10.1.2.3", False, ["Lab.Example", "x.test:8443"], 5006) == {
        "10.1.2.3:5006", "lab.example:5006", "x.test:8443"}
    assert "localhost:80" in served_hosts(None, False, [], 80) and "localhost" in served_hosts(None, False, [], 80)


def test_guard_accepts_only_served_host_and_origin():
    guard = HostGuard(app=None, allowed={"127.0.0.1:5006", "localhost:5006"})
    assert guard.accepts("127.0.0.1:5006", None)
    assert guard.accepts("LOCALHOST:5006", "http://localhost:5006")
    assert guard.accepts("localhost:5006", "http://127.0.0.1:5006")  # the two loopback names are one site
    assert not guard.accepts(None, None) and not guard.accepts("", None)
    assert not guard.accepts("evil.example:5006", None)
    assert not guard.accepts("127.0.0.1:5006", "http://evil.example")
    assert not guard.accepts("127.0.0.1:5006", "null")
    assert not guard.accepts("127.0.0.1:5006", "file://")
    assert not guard.accepts("127.0.0.1", None)  # port 80 is not the served one


@pytest.mark.parametrize("argv, word", [
    (["--address", "evil.example"], "--address"),
    (["--address", "::1"], "--address"),
    (["--port", "70000"], "--port"),
    (["--allow-host", "a/b"], "--allow-host"),
    (["--allow-host", "x:notaport"], "--allow-host"),
    (["--network", "--address", "127.0.0.1"], "--address"),
])
def test_bad_arguments_are_refused_naming_the_option(argv, word, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert word in capsys.readouterr().err
