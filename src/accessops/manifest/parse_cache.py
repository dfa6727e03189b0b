"""A cache of parsed manifest files, so unchanged files are not parsed again.

A pull request usually changes one file of many; parsing the rest again is
most of a large plan's time. Each entry holds what :func:`load_documents`
returned for one file's text, keyed by the SHA-256 of that text, as JSON
(never pickle: the cache folder sits beside the manifests, and a committed
or planted entry must not be able to run code).

What it remembers: the documents of a text that parsed without problems and
holds only JSON's types (string keys; strings, numbers, booleans, null).
Anything else (dates, binary, integer keys) is simply not cached.

When it is invalid: never by time. An entry is trusted only if its HMAC,
made with a key kept outside the repository (in the user's cache folder,
created on first use, mode 0600), checks out; otherwise it is ignored and
the file is parsed. So an entry planted in ``.accessops/cache/`` by whoever
can push a branch is worthless: a fresh runner has a fresh key.

Cached documents come back as plain dicts and lists without positions; the
loader re-parses a file only when it must point at a line in it (an error).
Set ``ACCESSOPS_PARSE_CACHE=off`` to turn the cache off, or
``ACCESSOPS_CACHE_DIR`` to move it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from accessops import __version__
from accessops.manifest.yamlsrc import Pos

# Part of every entry's HMAC: an entry made by another release (whose parser
# may build other values) is not ours.
FORMAT = f"accessops-parse-cache/1/{__version__}".encode()
_SCALARS = (str, int, float, bool, type(None))


def digest(text: str) -> str:
    """The cache key of a file's text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _json_safe(value: Any) -> bool:
    """Whether ``value`` comes back from JSON exactly as it went in."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if type(key) is not str:
                    return False
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif not isinstance(item, _SCALARS):
            return False
    return True


def _key_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accessops" / "parse-cache.key"


def _secret() -> bytes | None:
    """The machine's cache key, made on first use; None when it cannot be kept."""
    path = _key_file()
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key
    except FileExistsError:  # another process made it first
        try:
            key = path.read_bytes()
        except OSError:
            return None
        return key if len(key) >= 32 else None
    except OSError:
        return None


class SignedEntries:
    """``<key>.json`` files in one folder: an HMAC line, then the payload it signs.

    The HMAC covers the cache's format tag (its release), the entry's key and
    the payload, made with a secret kept outside the repository; an entry
    that fails it was not written by us for this key and is ignored.
    """

    def __init__(self, folder: Path, secret: bytes, tag: bytes) -> None:
        self.folder = folder
        self._secret = secret
        self._tag = tag

    def mac(self, key: str, payload: bytes) -> bytes:
        """The signature line of ``payload`` stored under ``key``."""
        return hmac.new(self._secret, self._tag + key.encode() + b"\0" + payload, hashlib.sha256).hexdigest().encode()

    def read(self, key: str) -> bytes | None:
        """The payload under ``key`` if it is there and ours, else None."""
        try:
            raw = (self.folder / f"{key}.json").read_bytes()
        except OSError:
            return None
        mac, _, payload = raw.partition(b"\n")
        return payload if hmac.compare_digest(mac, self.mac(key, payload)) else None

    def write(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key`` atomically; a read-only checkout or a full disk only costs speed."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# accessops caches: never commit\n*\n")
            tmp = self.folder / f".{key}.{os.getpid()}.tmp"
            tmp.write_bytes(self.mac(key, payload) + b"\n" + payload)
            os.replace(tmp, self.folder / f"{key}.json")
        except OSError:
            return


class ParseCache:
    """Parsed documents by content hash, in one folder, authenticated by HMAC."""

    def __init__(self, folder: Path, key: bytes) -> None:
        self.folder = folder
        self._key = key
        self.entries = SignedEntries(folder, key, FORMAT)
        self.hits = 0
        self.misses = 0

    @classmethod
    def open_default(cls) -> ParseCache | None:
        """The cache under ``.accessops/cache/parse`` (or ``ACCESSOPS_CACHE_DIR``); None when off."""
        if os.environ.get("ACCESSOPS_PARSE_CACHE", "").lower() in ("0", "off", "no", "false"):
            return None
        key = _secret()
        if key is None:
            return None
        root = Path(os.environ.get("ACCESSOPS_CACHE_DIR") or Path(".accessops") / "cache")
        return cls(root / "parse", key)

    def _mac(self, key: str, payload: bytes) -> bytes:
        return self.entries.mac(key, payload)

    def get(self, key: str) -> list[tuple[Any, Pos]] | None:
        """The documents cached for ``key``, or None (missing, damaged or not ours)."""
        payload = self.entries.read(key)
        if payload is None:
            self.misses += 1
            return None
        try:
            docs = json.loads(payload)
            out = [(data, Pos(int(line), int(col))) for data, line, col in docs]
        except (ValueError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return out

    def put(self, key: str, documents: list[tuple[Any, Pos]]) -> None:
        """Remember ``documents`` for ``key`` if JSON can carry them; never fails the caller."""
        if not all(_json_safe(data) for data, _ in documents):
            return
        try:
            payload = json.dumps([[data, pos.line, pos.column] for data, pos in documents], separators=(",", ":")).encode()
        except (ValueError, TypeError, RecursionError):
            return
        self._write(key, payload)

    def put_json(self, key: str, documents: list[tuple[str, Pos]]) -> None:
        """Remember documents given as JSON text (what the native parser wrote and json read back); never fails."""
        self._write(key, b"[" + b",".join(f"[{text},{pos.line},{pos.column}]".encode("utf-8") for text, pos in documents) + b"]")

    def _write(self, key: str, payload: bytes) -> None:
        self.entries.write(key, payload)
