"""Real servers the tests start, and a fault-injecting reverse proxy to put in front of them.

* :func:`scim_server` runs the PyPI ``scim2-server`` on a free loopback port
  with a bearer token and dynamic tenants, so every test gets a fresh,
  isolated tenant from one process.
* :class:`FaultProxy` forwards to a real server and answers 429 (with
  Retry-After) or 5xx to the first N requests matching a path, recording
  every request, so tests prove retries, backoff and paging from outside.

A missing server binary is a test failure, never a skip: the test extras pin
it, and CI must not go green without having run against it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

SCIM_TOKEN = "conformance-scim-token"
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "server", "date"}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ScimServer:
    """A running scim2-server; :meth:`tenant` hands out isolated base URLs."""

    root: str  # http://127.0.0.1:PORT
    token: str
    process: subprocess.Popen[bytes]

    def tenant(self) -> str:
        """The http base URL of a new, empty tenant (created on first request)."""
        return f"{self.root}/t{uuid.uuid4().hex[:12]}/v2"


def _require_binary(name: str, hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed ({hint}); these tests need the real server", pytrace=False)
    return path


@contextmanager
def scim_server(token: str = SCIM_TOKEN, *, args: tuple[str, ...] = ()) -> Iterator[ScimServer]:
    """Start ``scim2-server`` on a free port (with extra ``args``), wait until it answers, stop it afterwards."""
    binary = _require_binary("scim2-server", "pip install -e '.[test]'")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bearer-token", token, "--dynamic-tenants", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, f"{root}/ServiceProviderConfig", token)
        yield ScimServer(root, token, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, token: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            pytest.fail(f"scim2-server exited with {proc.returncode}: {err.strip()[-500:]}", pytrace=False)
        try:
            if requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"scim2-server did not answer {url} within {limit:g}s", pytrace=False)


@dataclass
class Fault:
    """Answer ``status`` to the next ``times`` requests whose path contains ``path``."""

    path: str
    status: int
    times: int
    retry_after: str | None = None
    method: str | None = None
    served: int = 0
    not_before: float = 0.0  # monotonic time before which a retry ignores Retry-After


@dataclass
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class FaultProxy:
    """A reverse proxy on loopback that injects faults before forwarding to ``upstream``."""

    upstream: str  # http://host:port
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    early_retries: int = 0  # requests that came back before the Retry-After they were given
    port: int = 0

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT`` of the proxy."""
        return f"http://127.0.0.1:{self.port}"

    def fail(self, path: str, status: int, times: int, *, retry_after: str | None = None, method: str | None = None) -> Fault:
        """Inject a fault for the next ``times`` matching requests."""
        fault = Fault(path, status, times, retry_after, method)
        self.faults.append(fault)
        return fault

    def requests_to(self, path: str, method: str = "GET") -> list[Seen]:
        """The requests received whose path contains ``path``."""
        return [s for s in self.seen if s.method == method and path in s.path]

    def _fault_for(self, method: str, path: str) -> Fault | None:
        now = time.monotonic()
        for fault in self.faults:
            if fault.path in path and (fault.method is None or fault.method == method):
                if now < fault.not_before:
                    self.early_retries += 1
                if fault.served < fault.times:
                    fault.served += 1
                    if fault.retry_after and fault.retry_after.isdigit():
                        fault.not_before = now + int(fault.retry_after)
                    return fault
        return None


def _handler(proxy: FaultProxy, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with lock:
                fault = proxy._fault_for(self.command, self.path)
            if fault is not None:
                # record before answering: the client may look as soon as it has the answer
                with lock:
                    proxy.seen.append(Seen(self.command, self.path, fault.status, dict(self.headers)))
                self._answer(fault.status, {"Retry-After": fault.retry_after} if fault.retry_after else {}, b"injected fault")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            resp = requests.request(self.command, proxy.upstream + self.path, headers=headers, data=body, timeout=30)
            out = {k: v for k, v in resp.headers.items() if k.lower() not in _HOP_BY_HOP}
            with lock:
                proxy.seen.append(Seen(self.command, self.path, resp.status_code, dict(self.headers)))
            self._answer(resp.status_code, out, resp.content)

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            pass  # keep test output clean

    return Handler


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    """Run a :class:`FaultProxy` in a thread for the duration of the block."""
    proxy = FaultProxy(upstream.rstrip("/"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy, threading.Lock()))
    proxy.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()
