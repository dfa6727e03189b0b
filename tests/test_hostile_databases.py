"""Damaged, read-only and full tenant and state databases: one line naming the file, exit 1, nothing lost.

A full disk is a real small tmpfs where this machine lets the tests mount
one (CI runs as root); elsewhere a file-size limit (RLIMIT_FSIZE) stands in.
A read-only file is a read-only bind mount (or, without mount, the
immutable attribute), or ``chmod`` for a non-root user.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from safety_env import STATE, TENANT, Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

GARBAGE = b"this is not a database\x00\xff" * 200


def applied(workdir: Workdir) -> None:
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    code, _, err = workdir.apply()
    assert code == 0, err


def one_line(err: str, name: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and name in lines[0], err
    assert "internal error" not in lines[0] and "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("which", [TENANT, STATE])
def test_a_garbage_database_names_the_file(which: str, workdir: Workdir) -> None:
    applied(workdir)
    (workdir.root / which).write_bytes(GARBAGE)
    for argv in (("plan",), ("apply", "--auto-approve"), ("drift",)):
        code, _, err = workdir.run(*argv)
        assert code == 1, (argv, err)
        line = one_line(err, which)
        assert "not a SQLite database" in line, line


@pytest.mark.parametrize(
    ("which", "command"),
    [(TENANT, "plan"), (STATE, "plan"), (TENANT, "drift"), (STATE, "drift"), (STATE, "log"), (TENANT, "audit"), (TENANT, "tenant list")],
)
def test_a_garbage_database_with_format_json_prints_an_error_object(which: str, command: str, workdir: Workdir) -> None:
    applied(workdir)
    (workdir.root / which).write_bytes(GARBAGE)
    code, out, _ = workdir.run(*command.split(), "--format", "json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["file"] == which and error["exit_code"] == 1 and "not a SQLite database" in error["message"]


def test_a_tenant_damaged_inside_names_the_file(workdir: Workdir) -> None:
    applied(workdir)
    path = workdir.root / TENANT
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    data[page:] = b"\xa5" * (len(data) - page)  # keep the header, wreck every page after the first
    path.write_bytes(bytes(data))
    code, _, err = workdir.run("plan")
    assert code == 1
    one_line(err, TENANT)


# --- read-only --------------------------------------------------------------------------------


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _umount(folder: Path) -> None:
    """Unmount; a mount still busy means accessops left a file open: detach it anyway, then fail."""
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], check=True)
        raise AssertionError(f"{folder} was still in use: a database handle was left open")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` (and the files in it) unwritable for this process."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if not _mount("--bind", str(folder), str(folder)):  # no mount here: the immutable attribute binds root too
        paths = [str(p) for p in [*folder.iterdir(), folder]]
        assert subprocess.run(["chattr", "+i", *paths], capture_output=True).returncode == 0, "root without mount or chattr"
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *paths], check=True)
        return
    try:
        assert _mount("-o", "remount,ro,bind", str(folder)), "cannot remount read-only"
        yield
    finally:
        _umount(folder)


def test_a_read_only_tenant_and_state_name_the_file(workdir: Workdir) -> None:
    applied(workdir)
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Admin"]))
    before = (workdir.root / TENANT).read_bytes()
    with read_only(workdir.root / ".accessops"):
        code, _, err = workdir.apply()
    assert code == 1
    line = one_line(err, ".accessops/")
    assert "read-only" in line or "readonly" in line or "cannot open" in line, line
    assert (workdir.root / TENANT).read_bytes() == before
    assert workdir.apply()[0] == 0  # writable again: the next apply converges


# --- a full disk ---------------------------------------------------------------------------------


@contextmanager
def small_disk(folder: Path) -> Iterator[str]:
    """``folder`` on a nearly full filesystem: a small tmpfs when mounting works, else a file-size limit."""
    if os.geteuid() == 0 and _mount("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(folder)):
        try:
            yield "tmpfs"
        finally:
            _umount(folder)
        return
    with file_size_limit():
        yield "rlimit"


@contextmanager
def file_size_limit() -> Iterator[None]:
    """No file may grow: writes past a file's end fail (EFBIG) as on a full disk."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, old)


def _fill(folder: Path) -> None:
    try:
        with (folder / "filler").open("wb") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError:
        pass  # full


def test_a_full_disk_names_the_file_and_loses_nothing(workdir: Workdir) -> None:
    folder = workdir.root / ".accessops"
    folder.mkdir()
    with small_disk(folder) as how:
        applied(workdir)
        live = workdir.live()
        many = [f"p{i:03d}@acme.test:Member" for i in range(300)]
        workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member", *many]))
        if how == "tmpfs":
            _fill(folder)
            code, _, err = workdir.apply()
        else:
            with file_size_limit():
                code, _, err = workdir.apply()
        assert code == 1, err
        lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
        assert lines and ".accessops/" in lines[-1] and "internal error" not in err, err
        assert "full" in lines[-1] or "disk I/O" in lines[-1] or "No space" in lines[-1], lines[-1]
        if how == "tmpfs":
            (folder / "filler").unlink()
        now = workdir.live()
        assert all(now[a] == r for a, r in live.items())  # nothing applied before was lost
        code, _, err = workdir.apply()
        assert code == 0, err  # room again: the next apply converges
        assert len(workdir.live()) == len(live) + 300


def test_a_file_size_limit_names_the_file(workdir: Workdir) -> None:
    applied(workdir)
    many = [f"p{i:03d}@acme.test:Member" for i in range(300)]
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member", *many]))
    with file_size_limit():
        code, _, err = workdir.apply()
    assert code == 1, err
    lines = [line for line in err.strip().splitlines() if line.startswith("error: ")]
    assert lines and ".accessops/" in lines[-1] and "internal error" not in err, err
    assert workdir.apply()[0] == 0


@pytest.mark.parametrize("attrs", ["[1]", "{not json", "null"])
def test_a_damaged_last_applied_row_names_the_state_file(attrs: str, workdir: Workdir) -> None:
    import sqlite3

    applied(workdir)
    db = sqlite3.connect(workdir.root / STATE)
    db.execute("UPDATE applied SET attrs = ?", (attrs,))
    db.commit()
    db.close()
    code, _, err = workdir.run("plan")
    assert code == 1
    assert "damaged: the last applied" in one_line(err, STATE)
