"""A real PostgreSQL started by the tests: ``initdb`` and ``pg_ctl`` in a temporary folder.

The binaries come from PATH, else Debian's ``/usr/lib/postgresql/*/bin``
(``scripts/test.sh`` installs the ``postgresql`` package where they are
missing). ``initdb`` refuses to run as root, so as root the cluster is made
and run by an unprivileged user (``postgres`` where Debian created it,
else ``nobody``). The server listens on 127.0.0.1 on a free port and on a
socket in the temporary folder; authentication is ``trust`` (loopback only).
A missing PostgreSQL fails the tests, never skips them.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists():
            return Path(folder)
    raise RuntimeError("PostgreSQL's initdb is not installed: apt-get install postgresql (scripts/test.sh does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user() -> list[str]:
    """The command prefix that runs a server binary as a non-root user (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root with neither a postgres nor a nobody user to run PostgreSQL as")


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a fresh cluster; yield its libpq URL; stop and remove it afterwards."""
    bindir = pg_bin()
    prefix = _as_user()
    tmp = Path(tempfile.mkdtemp(prefix="accessops-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if prefix:
        user = prefix[2]
        os.chmod(tmp, 0o755)
        entry = pwd.getpwnam(user)
        os.chown(sock, entry.pw_uid, entry.pw_gid)
        data.mkdir()
        os.chown(data, entry.pw_uid, entry.pw_gid)
        os.chmod(data, 0o700)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "accessops", "-A", "trust", "-E", "UTF8", "--no-sync"], check=True, capture_output=True, env=env)
    log = sock / "server.log"  # the server's output goes here, never to our pipes (pg_ctl -w would wait on them)
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock} -c fsync=off -c max_connections=40"
    started = subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if started.returncode != 0:
        raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}{log.read_text() if log.exists() else ''}")
    try:
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "accessops", "state"], check=True, capture_output=True, env=env)
        yield f"postgresql://accessops@127.0.0.1:{port}/state"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True, env=env, check=False)
        shutil.rmtree(tmp, ignore_errors=True)


def new_database(url: str, name: str) -> str:
    """A fresh, empty database on the same server (one per test); return its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
