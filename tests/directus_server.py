"""A real Directus 11 on SQLite, bootstrapped and started by the tests.

``DirectusServer`` creates a temp dir, bootstraps the database with a static
admin token (``ADMIN_TOKEN``), starts the API on a free port by calling the
CLI entry point directly (which skips the update check), waits for
``/server/health`` and creates the collections seed 003 talks about.

Where Directus lives: ``$ACCESSOPS_DIRECTUS_HOME``, else
``${ACCESSOPS_SERVERS:-~/.cache/accessops-servers}/directus``, else
``/opt/accessops-servers/directus``; ``scripts/install-directus.sh`` puts it
there. In CI (``CI=true``) a missing Directus fails the tests; elsewhere it
skips them with the command to run.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"

# Collections for seed 003: (collection, fields besides the id)
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "customers": ("name", "email", "address"),
    "orders": ("customer", "total", "note"),
}


def directus_home() -> Path | None:
    """The directory holding ``node_modules/@directus/api``, if installed anywhere we look."""
    candidates = []
    if os.environ.get("ACCESSOPS_DIRECTUS_HOME"):
        candidates.append(Path(os.environ["ACCESSOPS_DIRECTUS_HOME"]))
    servers = os.environ.get("ACCESSOPS_SERVERS")
    candidates.append(Path(servers) / "directus" if servers else Path.home() / ".cache/accessops-servers/directus")
    candidates.append(Path("/opt/accessops-servers/directus"))
    for home in candidates:
        if (home / "node_modules/@directus/api/dist/cli/run.js").is_file():
            return home
    return None


def require_directus_home() -> Path:
    """The Directus install; a missing one fails the test (never a skip: scripts/test.sh installs it)."""
    home = directus_home()
    if home is None or shutil.which("node") is None:
        pytest.fail("Directus is not installed: run scripts/install-directus.sh")
    return home


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class DirectusServer:
    """One Directus process with its own SQLite file, admin token and port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.dir = Path(tempfile.mkdtemp(prefix="accessops-directus-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self.timings: dict[str, float] = {}
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    @property
    def target(self) -> str:
        """The accessops target URL of this server."""
        return f"directus+{self.url}"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DB_CLIENT="sqlite3",
            DB_FILENAME=str(self.dir / "data.db"),
            KEY=secrets.token_hex(16),
            SECRET=secrets.token_hex(32),
            ADMIN_EMAIL=ADMIN_EMAIL,
            ADMIN_PASSWORD=ADMIN_PASSWORD,
            ADMIN_TOKEN=self.token,
            HOST="127.0.0.1",
            PORT=str(self.port),
            PUBLIC_URL=self.url,
            TELEMETRY="false",
            LOG_LEVEL="warn",
            EXTENSIONS_PATH=str(self.dir / "extensions"),
            STORAGE_LOCAL_ROOT=str(self.dir / "uploads"),
            CACHE_ENABLED="false",
            RATE_LIMITER_ENABLED="false",
            # Directus answers 503 "Under pressure" when its event loop lags,
            # which a busy CI machine causes; the tests are the only load here.
            PRESSURE_LIMITER_ENABLED="false",
        )
        return env

    def start(self, timeout: float = 90.0) -> "DirectusServer":
        """Bootstrap the database, start the API and wait until it is healthy."""
        (self.dir / "extensions").mkdir()
        (self.dir / "uploads").mkdir()
        # Directus looks for package extensions in its working directory.
        (self.dir / "package.json").write_text('{"name": "accessops-directus-test", "private": true}\n')
        run_js = str(self.home / "node_modules/@directus/api/dist/cli/run.js")
        env = self._env()
        started = time.monotonic()
        boot = subprocess.run(["node", run_js, "bootstrap"], cwd=self.dir, env=env, capture_output=True, timeout=timeout)
        if boot.returncode != 0:
            raise RuntimeError(f"directus bootstrap failed: {boot.stderr.decode(errors='replace')[-2000:]}")
        self.timings["bootstrap"] = time.monotonic() - started
        log = open(self.dir / "directus.log", "wb")
        self.process = subprocess.Popen(["node", run_js, "start"], cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT)
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"directus exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if requests.get(f"{self.url}/server/health", timeout=2).ok:
                    self.timings["start"] = time.monotonic() - started
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"directus did not become healthy in {timeout:g}s: {self.log_tail()}")

    def log_tail(self) -> str:
        """The end of the server log, for failure messages."""
        path = self.dir / "directus.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop the process and remove the temp dir."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.session.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- admin helpers for tests (the adapter never uses these) --------------

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the REST API as the admin; return ``data`` of the JSON answer."""
        resp = self.session.request(method, f"{self.url}{path}", timeout=15, **kwargs)
        if resp.status_code >= 400:
            raise AssertionError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:300]}")
        return resp.json().get("data") if resp.content else None

    def create_collections(self, collections: dict[str, tuple[str, ...]] = COLLECTIONS) -> None:
        """Create user collections with an integer id and string fields, one row each."""
        for name, fields in collections.items():
            spec = [{"field": "id", "type": "integer", "meta": {"hidden": True}, "schema": {"is_primary_key": True, "has_auto_increment": True}}]
            spec += [{"field": f, "type": "string"} for f in fields]
            self.api("POST", "/collections", json={"collection": name, "schema": {}, "meta": {}, "fields": spec})
            self.api("POST", f"/items/{name}", json={f: f"{f} of {name} 1" for f in fields})

    def reset(self) -> None:
        """Back to a fresh bootstrap: only the admin user, Directus's own roles and policies."""
        me = self.api("GET", "/users/me", params={"fields": "id,role"})
        roles = self.api("GET", "/roles", params={"limit": "-1", "fields": "id,name,description"})
        bootstrap = [r["id"] for r in roles if r["description"] == "$t:admin_description"][0]
        self.api("PATCH", f"/users/{me['id']}", json={"role": bootstrap})  # accessops may have given it its Admin role
        users = self.api("GET", "/users", params={"limit": "-1", "fields": "id"})
        others = [u["id"] for u in users if u["id"] != me["id"]]
        if others:
            self.api("DELETE", "/users", json=others)
        # the admin's directly attached policies go with the accessops policies below
        roles = [r["id"] for r in roles if r["id"] != bootstrap]
        if roles:
            self.api("DELETE", "/roles", json=roles)
        policies = self.api("GET", "/policies", params={"limit": "-1", "fields": "id,description"})
        ours = [p["id"] for p in policies if (p.get("description") or "").startswith("accessops ")]
        if ours:
            self.api("DELETE", "/policies", json=ours)

    def activate(self, email: str, password: str) -> None:
        """Make an invited user active with a password, as accepting the invite would."""
        users = self.api("GET", "/users", params={"filter[email][_eq]": email, "fields": "id"})
        self.api("PATCH", f"/users/{users[0]['id']}", json={"status": "active", "password": password})

    def login(self, email: str, password: str) -> requests.Session:
        """A session authenticated as that user."""
        resp = requests.post(f"{self.url}/auth/login", json={"email": email, "password": password}, timeout=15)
        resp.raise_for_status()
        member = requests.Session()
        member.headers["Authorization"] = f"Bearer {resp.json()['data']['access_token']}"
        return member


@contextmanager
def running_directus() -> Iterator[DirectusServer]:
    """A fresh Directus with the test collections, stopped afterwards; a missing install fails the test."""
    server = DirectusServer(require_directus_home()).start()
    try:
        server.create_collections()
        yield server
    finally:
        server.stop()
