"""Credentials: where adapters get them, and how every output keeps them out.

Credentials come only from environment variables (``ACCESSOPS_<NAME>_TOKEN``)
or from files named by ``ACCESSOPS_<NAME>_TOKEN_FILE`` or by the settings'
``[credentials]`` section (``<name>_token_file = "path"``); never from
manifests (whose strict models have no field for them, and a value that
equals a known credential is refused by the safety guards).

:func:`redact_text` replaces every known credential in a string; the CLI
wraps stdout and stderr with :class:`RedactingStream`, and saved plans and
the apply log pass their text through it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, TextIO

# KEY: the plan signing key (ACCESSOPS_PLAN_KEY) is a credential too
_TOKEN_ENV = re.compile(r"^ACCESSOPS_[A-Z0-9_]*(TOKEN|PASSWORD|SECRET|KEY)$")
_TOKEN_FILE_ENV = re.compile(r"^ACCESSOPS_[A-Z0-9_]*(TOKEN|PASSWORD|SECRET|KEY)_FILE$")
REDACTED = "[REDACTED]"
#: shorter values are too likely to occur by chance to be redacted everywhere
MIN_SECRET_LENGTH = 6

_config_files: list[Path] = []


def register_token_files(paths: list[Path]) -> None:
    """Token files named in settings (``[credentials]``), so their contents are redacted too."""
    for path in paths:
        if path not in _config_files:
            _config_files.append(path)


def token_files_from_settings(raw: dict[str, Any], base: Path) -> list[Path]:
    """Paths named by ``[credentials] *_file`` keys, relative to the config file's folder."""
    section = raw.get("credentials", {})
    if not isinstance(section, dict):
        return []
    return [(base / str(v)) if not Path(str(v)).is_absolute() else Path(str(v)) for k, v in section.items() if k.endswith("_file")]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def credential(name: str, settings_raw: dict[str, Any] | None = None, base: Path | None = None) -> str | None:
    """An adapter's credential: ``ACCESSOPS_<NAME>_TOKEN``, then its ``_FILE``, then ``[credentials]``."""
    env = f"ACCESSOPS_{name.upper()}_TOKEN"
    if os.environ.get(env):
        return os.environ[env]
    if os.environ.get(env + "_FILE"):
        return _read(Path(os.environ[env + "_FILE"]))
    section = (settings_raw or {}).get("credentials", {})
    path = section.get(f"{name.lower()}_token_file") if isinstance(section, dict) else None
    if path:
        found = Path(str(path))
        return _read(found if found.is_absolute() or base is None else base / found)
    return None


def known_secrets() -> list[str]:
    """Every credential value this process could use, longest first (env vars and token files)."""
    values: set[str] = set()
    for name, value in os.environ.items():
        if _TOKEN_ENV.match(name) and value:
            values.add(value.strip())
        elif _TOKEN_FILE_ENV.match(name) and value:
            content = _read(Path(value))
            if content:
                values.add(content)
    for path in _config_files:
        content = _read(path)
        if content:
            values.add(content)
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def contains_secret(text: str) -> bool:
    """Whether ``text`` holds a known credential."""
    return any(secret in text for secret in known_secrets())


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every known credential replaced by ``[REDACTED]``."""
    for secret in known_secrets() if secrets is None else secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RedactingStream:
    """A text stream that redacts credentials in everything written through it.

    Lines are held until their newline (or a flush), so a credential split
    across two ``write`` calls is still caught. The credentials are looked
    up at each write, so token files named in settings read later count too.
    """

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner
        self.pending = ""

    def write(self, text: str) -> int:
        """Redact and pass on whole lines; keep a partial line until it ends."""
        self.pending += text
        if "\n" in self.pending:
            done, _, self.pending = self.pending.rpartition("\n")
            self.inner.write(redact_text(done + "\n"))
        return len(text)

    def flush(self) -> None:
        """Write out a held partial line (redacted) and flush."""
        if self.pending:
            self.inner.write(redact_text(self.pending))
            self.pending = ""
        self.inner.flush()

    def isatty(self) -> bool:
        """As the wrapped stream."""
        return bool(getattr(self.inner, "isatty", lambda: False)())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def guard_streams() -> tuple[Any, Any]:
    """Wrap ``sys.stdout`` and ``sys.stderr`` so nothing printed carries a credential; return the originals."""
    import sys

    originals = (sys.stdout, sys.stderr)
    sys.stdout = RedactingStream(sys.stdout)
    sys.stderr = RedactingStream(sys.stderr)
    return originals


def restore_streams(originals: tuple[Any, Any]) -> None:
    """Flush the redacting wrappers and put the original streams back."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    sys.stdout, sys.stderr = originals
