"""A thin layer over the ``git`` command line for the git state backend: run, read a tree, write a commit, push.

No work tree is ever touched: commits are built in a private index file
(``GIT_INDEX_FILE``) from blobs written with ``git hash-object``, so the
backend works in the policy repository's own clone (``git:origin``) while
its checkout stays as it is, and in a bare scratch repository for a URL.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accessops.errors import AccessOpsError
from accessops.secrets import redact_text

#: Who commits state (the actor who ran the apply is named in the message).
IDENTITY = {"GIT_AUTHOR_NAME": "accessops", "GIT_AUTHOR_EMAIL": "accessops@localhost", "GIT_COMMITTER_NAME": "accessops", "GIT_COMMITTER_EMAIL": "accessops@localhost"}
#: How a push that lost a race reads: the ref moved before ours (or at the same moment, on the remote's ref lock).
_REJECTED = ("non-fast-forward", "fetch first", "stale info", "already exists", "failed to update ref", "failed to lock", "incorrect old value")


class GitError(AccessOpsError):
    """A git command failed (network, permissions, a missing repository)."""


@dataclass
class Git:
    """``git`` with ``GIT_DIR`` fixed, no terminal prompts, and the accessops identity."""

    git_dir: Path
    timeout: float = 120.0
    #: send ``ACCESSOPS_GIT_TOKEN``; off where the repository already has its own header (two would clash)
    send_token: bool = True

    def env(self, **extra: str) -> dict[str, str]:
        """The environment for one git command (with the state token, if any, as an HTTP header)."""
        token = token_config(os.environ) if self.send_token else {}
        # a caller's repository variables (accessops run from a git hook) must not redirect these commands
        inherited = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
        return {**inherited, "GIT_DIR": str(self.git_dir), "GIT_TERMINAL_PROMPT": "0", **IDENTITY, **token, **extra}

    def has_own_header(self) -> bool:
        """Whether the repository's config already authenticates HTTP (actions/checkout's persisted token)."""
        done = self.run("config", "--get-regexp", r"^http\..*extraheader$", check=False)
        return done.returncode == 0 and bool(done.stdout.strip())

    def run(self, *args: str, stdin: bytes | None = None, check: bool = True, **env: str) -> subprocess.CompletedProcess[bytes]:
        """Run ``git ARGS``; a failure with ``check`` is a :class:`GitError` with git's own last words (redacted)."""
        try:
            done = subprocess.run(["git", *args], input=stdin, capture_output=True, env=self.env(**env), timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GitError(f"git {args[0]}: {exc}") from None
        if check and done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {last_words(done.stderr)}")
        return done

    def out(self, *args: str) -> str:
        """stdout of ``git ARGS``, stripped."""
        return self.run(*args).stdout.decode().strip()

    def push(self, remote: str, *refspecs: str, lease: str | None = None) -> str:
        """Push; return ``""`` when accepted, ``"rejected"`` when the remote moved (or a lease failed).

        Any other failure (network, permission, a hook) is a :class:`GitError`.
        """
        args = ["push", "--porcelain", "--no-verify"]
        if lease is not None:
            args.append(f"--force-with-lease={lease}")
        done = self.run(*args, remote, *refspecs, check=False)
        if done.returncode == 0:
            return ""
        text = (done.stdout + done.stderr).decode(errors="replace")
        if any(line.startswith("!") and any(r in line for r in _REJECTED) for line in text.splitlines()):
            return "rejected"
        raise GitError(f"git push to the state repository failed: {last_words(done.stderr or done.stdout)}")

    def fetch(self, remote: str, refspec: str, *, shallow: bool = False) -> bool:
        """Fetch one ref (``shallow``: its tip only); False when the remote does not have it."""
        depth = ["--depth", "1"] if shallow else []
        done = self.run("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", *depth, remote, refspec, check=False)
        if done.returncode == 0:
            return True
        err = done.stderr.decode(errors="replace")
        if "couldn't find remote ref" in err or "no such remote ref" in err.lower():
            return False
        raise GitError(f"git fetch from the state repository failed: {last_words(done.stderr)}")


TOKEN_ENV = "ACCESSOPS_GIT_TOKEN"
_REPOSITORY_VARIABLES = frozenset({"GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_COMMON_DIR"})


def token_config(environ: Mapping[str, str]) -> dict[str, str]:
    """``ACCESSOPS_GIT_TOKEN`` (e.g. the job's ``github.token``) as git's ``http.extraHeader``, through the environment.

    This is how actions/checkout authenticates git, without writing the token
    to ``.git/config`` (``persist-credentials: false``), a URL or a command
    line; accessops redacts it like every ``ACCESSOPS_*_TOKEN``. Entries are
    appended to any ``GIT_CONFIG_COUNT`` the caller set.
    """
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        return {}
    count = int(environ.get("GIT_CONFIG_COUNT", "0") or 0)
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {"GIT_CONFIG_COUNT": str(count + 1), f"GIT_CONFIG_KEY_{count}": "http.extraHeader", f"GIT_CONFIG_VALUE_{count}": f"AUTHORIZATION: basic {basic}"}


def pretty(data: Any) -> str:
    """Sorted, indented JSON with a final newline: one line per attribute, so diffs are readable."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def last_words(stderr: bytes) -> str:
    """git's last meaningful stderr line, with any credential removed."""
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip() and not ln.startswith("hint:")]
    return redact_text(lines[-1]) if lines else "no message"


@dataclass
class Tree:
    """The files of one commit (or none), read lazily, with edits kept until :meth:`commit`."""

    git: Git
    commit: str | None
    blobs: dict[str, str] = field(default_factory=dict)  # path -> blob id in ``commit``
    edits: dict[str, str | None] = field(default_factory=dict)  # path -> new text, None = removed
    cache: dict[str, str] = field(default_factory=dict)  # blob id -> text
    docs: dict[str, Any] = field(default_factory=dict)  # path -> decoded JSON being edited (written out by :meth:`settle`)

    def __post_init__(self) -> None:
        if self.commit:
            raw = self.git.run("ls-tree", "-r", "-z", "--full-tree", self.commit).stdout.decode()
            for entry in filter(None, raw.split("\0")):
                meta, path = entry.split("\t", 1)
                self.blobs[path] = meta.split()[2]

    def fresh(self) -> "Tree":
        """The same commit without edits, sharing the blob cache."""
        tree = Tree(self.git, None, dict(self.blobs), {}, self.cache)
        tree.commit = self.commit
        return tree

    def paths(self, prefix: str) -> list[str]:
        """Every path under ``prefix``, sorted."""
        found = {p for p in self.blobs if p.startswith(prefix)} | {p for p in self.edits if p.startswith(prefix)} | {p for p in self.docs if p.startswith(prefix)}
        return sorted(p for p in found if (self.docs[p] if p in self.docs else self.edits.get(p, "present")))

    def read(self, path: str) -> str | None:
        """A file's text, or None."""
        if path in self.docs:
            data = self.docs[path]
            return pretty(data) if data else None
        if path in self.edits:
            return self.edits[path]
        blob = self.blobs.get(path)
        if blob is None:
            return None
        if blob not in self.cache:
            self.preload([path])
        return self.cache[blob]

    def preload(self, paths: list[str]) -> None:
        """Read many blobs with one ``git cat-file --batch``."""
        wanted = [self.blobs[p] for p in paths if p in self.blobs and self.blobs[p] not in self.cache]
        if not wanted:
            return
        out = self.git.run("cat-file", "--batch", stdin="\n".join(wanted).encode() + b"\n").stdout
        pos = 0
        for blob in wanted:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            self.cache[blob] = out[header_end + 1 : header_end + 1 + size].decode()
            pos = header_end + 1 + size + 1

    def json(self, path: str, default: Any) -> Any:
        """A JSON file decoded (``default`` when absent); a damaged one is a one-line error naming it."""
        text = self.read(path)
        if not text:
            return default
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise GitError(f"{path} in commit {(self.commit or '')[:12]} is not valid JSON ({exc.msg}, line {exc.lineno})") from None

    def load(self, path: str, default: Any) -> Any:
        """A JSON file decoded once per tree, for editing in place; ``default`` when absent."""
        if path not in self.docs:
            self.docs[path] = self.json(path, default)
        return self.docs[path]

    def settle(self) -> None:
        """Write every edited JSON document back (an empty one removes its file)."""
        docs, self.docs = self.docs, {}
        for path, data in docs.items():
            if data:
                self.write(path, pretty(data))
            else:
                self.delete(path)

    def write(self, path: str, text: str) -> None:
        """Set a file's text."""
        if self.read(path) != text:
            self.edits[path] = text

    def delete(self, path: str) -> None:
        """Remove a file."""
        if self.read(path) is not None:
            self.edits[path] = None

    @property
    def changed(self) -> bool:
        """Whether any edit differs from the commit."""
        self.settle()
        return bool(self.edits)

    def commit_edits(self, message: str, *, parent: str | None) -> str:
        """A new commit: ``parent``'s tree (or none) with the edits, and ``message``; returns its id."""
        self.settle()
        with tempfile.TemporaryDirectory(prefix="accessops-index-") as tmp:
            index = str(Path(tmp) / "index")
            if parent:
                self.git.run("read-tree", parent, GIT_INDEX_FILE=index)
            lines = []
            for path, text in sorted(self.edits.items()):
                if text is None:
                    lines.append(f"0 {'0' * 40}\t{path}")
                else:
                    blob = self.git.run("hash-object", "-w", "--stdin", stdin=text.encode()).stdout.decode().strip()
                    lines.append(f"100644 {blob}\t{path}")
            if lines:
                self.git.run("update-index", "--index-info", stdin=("\n".join(lines) + "\n").encode(), GIT_INDEX_FILE=index)
            tree = self.git.run("write-tree", GIT_INDEX_FILE=index).stdout.decode().strip()
        args = ["commit-tree", tree, "-F", "-"] + (["-p", parent] if parent else [])
        return self.git.run(*args, stdin=message.encode()).stdout.decode().strip()
