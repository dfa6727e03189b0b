"""The state store protocol, the ``state`` URL, and the canonical target identity locks are keyed by.

``state`` (the setting or ``--state``) is a URL:

=================================================  ==========
a plain path (``.accessops/state.db``)             SQLite (one machine)
``git+file://PATH``, ``git+https://…``,            a branch of a git repository
``git+ssh://…``, ``git:REMOTE`` (``git:origin``)   (``?branch=NAME``, default ``accessops-state``)
``postgresql://…`` (``postgres://…``)              PostgreSQL
=================================================  ==========

Any other ``scheme:`` is an error, so ``--state git+flie:///x`` never becomes
a file of that name. Every backend implements :class:`StateStore`.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from accessops.adapters.base import Target
from accessops.apply.records import ApplyRun, Intent, Lock, LockedError, Outcome
from accessops.errors import ConfigError
from accessops.model.resource import ResourceMap
from accessops.plan.change import Change

DEFAULT_BRANCH = "accessops-state"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ssh": 22}


class StateStore(Protocol):
    """Last applied resources, the apply log, intents and locks of one state location.

    ``target`` arguments name the data of one target (its redacted URL);
    ``key`` arguments name its lock (:func:`target_identity`). A store that
    buffers (git) makes everything durable in :meth:`finish_run`.
    """

    url: str

    def close(self) -> None:
        """Release connections and temporary files."""

    def holder(self, key: str) -> Lock | None:
        """The lock on ``key``, if any."""

    def acquire(self, key: str, holder: str, *, force: bool = False) -> Lock:
        """Take the lock or raise :class:`LockedError` naming its holder."""

    def release(self, key: str) -> None:
        """Release this process's lock on ``key``."""

    def force_unlock(self, lock_id: str) -> Lock:
        """Break the lock with this id, whoever holds it; marks its run interrupted."""

    def begin_run(
        self, target: str, actor: str, commit: str | None = None, planned: int = 0, *, changes: list[Change] | None = None, meta: dict[str, Any] | None = None
    ) -> int:
        """Open a run and record its intents (the changes it is about to make) durably; return its id."""

    def record_change(self, run_id: int, seq: int, change: Change, result: str, error: str | None = None, *, applied_to: str | None = None) -> None:
        """Log one change's outcome, confirming its intent; with ``applied_to``, update that target's
        last applied in the same transaction (``ok``: what it left; ``gone``: forgotten)."""

    def record_changes(self, run_id: int, outcomes: Sequence[Outcome], *, applied_to: str | None = None) -> None:
        """:meth:`record_change` for each outcome, all in one transaction: every record of a batch, or none."""

    def record_applied(self, target: str, change: Change) -> None:
        """Remember what a successful change left live."""

    def forget_applied(self, target: str, change: Change) -> None:
        """Drop a resource from the last-applied state."""

    def finish_run(self, run_id: int, status: str) -> None:
        """Close a run: ok, failed or interrupted."""

    def last_applied(self, target: str) -> ResourceMap:
        """What the last applies left on ``target``."""

    def runs(self, target: str | None = None, limit: int = 20) -> list[ApplyRun]:
        """Recent runs, newest first."""

    def intents(self, target: str) -> list[Intent]:
        """Changes of interrupted runs whose outcome was never recorded."""

    def mark_interrupted(self, target: str) -> None:
        """Under the lock: a run of ``target`` still ``running`` died; mark it ``interrupted``."""

    def flush(self, message: str) -> None:
        """Make buffered records durable (git: one commit); a no-op for the databases."""

    def dump(self) -> "StateDump":
        """Everything, for ``state migrate``."""

    def load(self, dump: "StateDump") -> None:
        """Add a dump to an empty store."""


@dataclass
class StateDump:
    """A whole state, backend-neutral: last applied per target, every run, open intents."""

    applied: dict[str, ResourceMap] = field(default_factory=dict)
    runs: list[ApplyRun] = field(default_factory=list)  # oldest first
    intents: list[Intent] = field(default_factory=list)


@dataclass(frozen=True)
class StateURL:
    """A parsed ``state`` setting."""

    backend: str  # sqlite | git | postgresql
    location: str  # the path, the git remote (URL or remote name), or the libpq URL
    branch: str = DEFAULT_BRANCH
    remote_name: bool = False  # git: REMOTE names a remote of the repository in the current folder

    def __str__(self) -> str:
        if self.backend == "sqlite":
            return self.location
        if self.backend == "git":
            tail = "" if self.branch == DEFAULT_BRANCH else f"?branch={self.branch}"
            return (f"git:{self.location}" if self.remote_name else f"git+{self.location}") + tail
        return redact_url(self.location)  # never a password in output


_BRANCH_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/-]{1,100}(?<![./])$")


def parse_state_url(text: str, base: Path | None = None) -> StateURL:
    """Parse a ``state`` setting; a plain relative path is taken from ``base``."""
    if not text or not text.strip():
        raise ConfigError("state: empty location")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", text)
    windows_drive = scheme is not None and len(scheme.group(1)) == 1
    if scheme is None or windows_drive:
        file = Path(text).expanduser()
        if not file.is_absolute() and base is not None:
            file = base / file
        return StateURL("sqlite", str(file))
    name = scheme.group(1).lower()
    if name in ("postgresql", "postgres"):
        if urlsplit(text).password or re.search(r"[?&]password=", text):
            raise ConfigError(f"state {redact_url(text)}: a password in the URL is refused; set PGPASSWORD or use ~/.pgpass (libpq reads both)")
        return StateURL("postgresql", text)
    if name in ("git+file", "git+https", "git+http", "git+ssh", "git"):
        rest, _, query = text.partition("?")
        branch = DEFAULT_BRANCH
        if query:
            params = parse_qs(query, keep_blank_values=True)
            unknown = set(params) - {"branch"}
            if unknown:
                raise ConfigError(f"state {redact_url(text)}: unknown option {sorted(unknown)[0]!r} (only ?branch=NAME)")
            branch = params.get("branch", [DEFAULT_BRANCH])[-1]
            if not _BRANCH_RE.match(branch) or branch.endswith(".lock"):
                raise ConfigError(f"state {redact_url(text)}: {branch!r} is not a usable branch name")
        if name == "git":
            remote = rest[4:]
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", remote):
                raise ConfigError(f"state {redact_url(text)}: git:REMOTE needs a remote name of the repository in the current folder, e.g. git:origin")
            return StateURL("git", remote, branch, remote_name=True)
        location = rest[4:]
        if name == "git+file":
            path = location[len("file://") :] if location.startswith("file://") else location[len("file:") :]
            if not path:
                raise ConfigError(f"state {redact_url(text)}: git+file:// needs a repository path")
            if not Path(path).is_absolute() and base is not None:
                path = str(base / path)
            location = "file://" + path
        elif urlsplit(location).password or (name in ("git+https", "git+http") and "@" in urlsplit(location).netloc):
            # https://TOKEN@host is a credential too; ssh's user name (git@host) is not
            raise ConfigError(f"state {redact_url(text)}: a password in the URL is refused; use a credential helper or the checkout's token")
        return StateURL("git", location, branch)
    raise ConfigError(
        f"state {redact_url(text)}: unknown scheme {name!r}; use a path (SQLite), git+file://, git+https://, git+ssh://, git:REMOTE or postgresql://"
    )


def redact_url(text: str) -> str:
    """A URL without its user info or the values of secret-named parameters (the one rule, in secrets)."""
    from accessops.secrets import redact_url as redact

    return redact(text)


def canonical_target(target: Target, base: Path) -> str:
    """The target's identity: ``local:`` + resolved absolute path, or scheme://host:port/path normalised.

    ``local:X`` and ``local:./X`` are one target; so are ``scim+https://H/v2/``
    and ``scim+HTTPS://h:443/v2``. User info, query and fragment never count.
    """
    if target.scheme == "local":
        path = Path(target.location).expanduser()
        return f"local:{(path if path.is_absolute() else base / path).resolve()}"
    parts = urlsplit(target.location)
    transport = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(transport)
    where = posixpath.normpath(parts.path or "/")
    where = "" if where in ("/", ".") else where.rstrip("/")
    return f"{target.scheme.lower()}+{transport}://{host}{f':{port}' if port else ''}{where}"


def target_identity(target: Target, base: Path) -> str:
    """The lock key of a target: readable, safe as a git ref name, unique by its canonical form."""
    canonical = canonical_target(target, base)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", canonical.split(":", 1)[1] if target.scheme == "local" else canonical).strip("-")[-40:]
    return f"{target.scheme.lower()}-{slug.strip('-')}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


def parse_duration(text: str) -> float:
    """``30s``, ``2m``, ``1h``, ``1m30s`` or plain seconds, as seconds."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConfigError(f"--lock-timeout {text!r}: expected a duration like 30s, 2m or 1h")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def acquire_waiting(store: StateStore, key: str, holder: str, timeout: float = 0.0, *, sleep: Callable[[float], None] = time.sleep) -> Lock:
    """Take the lock, retrying while it is held for up to ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.2
    while True:
        try:
            return store.acquire(key, holder)
        except LockedError:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            sleep(min(pause, left))
            pause = min(pause * 2, 5.0)


def default_sqlite_path(target: Target, root: Path) -> Path:
    """Where a target's SQLite state lives unless settings say otherwise.

    ``local:.accessops/tenant.db`` keeps ``.accessops/state.db`` beside the
    tenant; a remote target keeps ``ROOT/.accessops/state-HOST.db``.
    """
    if target.scheme == "local":
        tenant = Path(target.location).expanduser()
        tenant = tenant if tenant.is_absolute() else root / tenant
        return tenant.with_name("state.db" if tenant.name != "state.db" else "state.state.db")
    parts = urlsplit(target.location)
    host = parts.hostname or parts.path or target.scheme
    if parts.port:
        host = f"{host}-{parts.port}"
    return root / ".accessops" / f"state-{re.sub(r'[^A-Za-z0-9.-]+', '-', host).strip('-.')}.db"


def open_store(url: StateURL, *, create: bool = True) -> StateStore:
    """Open the backend a state URL names (``create=False``: a missing SQLite file is an error)."""
    if url.backend == "sqlite":
        from accessops.apply.state import SqliteStore

        if not create and not Path(url.location).exists():
            raise ConfigError(f"no state file at {url.location}: nothing has been applied with this state yet")
        return SqliteStore(url.location)
    if url.backend == "git":
        from accessops.apply.state_git import GitStore

        return GitStore(url)
    from accessops.apply.state_pg import PostgresStore

    return PostgresStore(url.location)
