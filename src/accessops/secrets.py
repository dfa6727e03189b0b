"""Credentials: where adapters get them, and how every output keeps them out.

Credentials come only from environment variables (``ACCESSOPS_<NAME>_TOKEN``)
or from files named by ``ACCESSOPS_<NAME>_TOKEN_FILE`` or by the settings'
``[credentials]`` section (``<name>_token_file = "path"``); never from
manifests (whose strict models have no field for them, and a value that
equals a known credential is refused by the safety guards).

:func:`redact_text` replaces every known credential in a string; the CLI
wraps stdout and stderr with :class:`RedactingStream`, and saved plans and
the apply log pass their text through it.

A credential never belongs in a target URL: :func:`url_credential` finds a
user-info password (or bare user-info token) or a query parameter named like
a secret, and ``Target.parse`` refuses such a URL before anything can print
or store it; :func:`redact_url` is the belt to those braces.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

# The CLI imports this module before it parses a word (its streams are guarded
# from the start), so it imports little: pathlib, typing and accessops.errors
# only where they are used. ``TYPE_CHECKING`` without typing, which mypy honours.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, TextIO
    from urllib.parse import SplitResult

# KEY: the plan signing key (ACCESSOPS_PLAN_KEY) is a credential too
_TOKEN_ENV = re.compile(r"^ACCESSOPS_[A-Z0-9_]*(TOKEN|PASSWORD|SECRET|KEY)$")
_TOKEN_FILE_ENV = re.compile(r"^ACCESSOPS_[A-Z0-9_]*(TOKEN|PASSWORD|SECRET|KEY)_FILE$")
REDACTED = "[REDACTED]"
#: shorter values are too likely to occur by chance to be redacted everywhere
MIN_SECRET_LENGTH = 6
#: a URL user name this long (https://ghp_xxx@host) is taken for a token, not a name
TOKEN_LIKE_USER = 16

_config_files: list[Path] = []


def register_token_files(paths: list[Path]) -> None:
    """Token files named in settings (``[credentials]``), so their contents are redacted too."""
    for path in paths:
        if path not in _config_files:
            _config_files.append(path)


def token_files_from_settings(raw: dict[str, Any], base: Path) -> list[Path]:
    """Paths named by ``[credentials] *_file`` keys, relative to the config file's folder."""
    from pathlib import Path

    section = raw.get("credentials", {})
    if not isinstance(section, dict):
        return []
    return [(base / str(v)) if not Path(str(v)).is_absolute() else Path(str(v)) for k, v in section.items() if k.endswith("_file")]


def _read(path: str | Path) -> str | None:
    """A token file's content for redaction; None when it cannot be read as text (it is then never used either)."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _read_token(path: Path, named_by: str) -> str | None:
    """A token file's content for use; a file that cannot be read, or is not UTF-8 text, is an error naming it."""
    from accessops.errors import ConfigError

    try:
        return path.read_text(encoding="utf-8").strip() or None
    except UnicodeDecodeError:
        raise ConfigError(f"token file {path} (named by {named_by}) is not UTF-8 text; write the token as plain UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"token file {path} (named by {named_by}) cannot be read: {exc.strerror or exc}") from None


def credential(name: str, settings_raw: dict[str, Any] | None = None, base: Path | None = None) -> str | None:
    """An adapter's credential: ``ACCESSOPS_<NAME>_TOKEN``, then its ``_FILE``, then ``[credentials]``."""
    from pathlib import Path

    env = f"ACCESSOPS_{name.upper()}_TOKEN"
    if os.environ.get(env):
        return os.environ[env]
    if os.environ.get(env + "_FILE"):
        return _read_token(Path(os.environ[env + "_FILE"]), env + "_FILE")
    section = (settings_raw or {}).get("credentials", {})
    key = f"{name.lower()}_token_file"
    path = section.get(key) if isinstance(section, dict) else None
    if path:
        found = Path(str(path))
        return _read_token(found if found.is_absolute() or base is None else base / found, f"[credentials] {key}")
    return None


# --- credentials in URLs ----------------------------------------------------------

#: query parameter names (lower case, "-" as "_") that carry a credential, and
#: the words that make any parameter name one (``client_secret``, ``X-API-Key``)
_SECRET_WORDS = frozenset({
    "token", "key", "secret", "password", "passwd", "pwd", "pass", "auth", "authorization",
    "credential", "credentials", "signature", "sig", "apikey", "jwt", "bearer", "session", "sessionid", "cookie",
})
_SECRET_SUFFIXES = ("token", "key", "secret", "password")


def is_secret_parameter(name: str) -> bool:
    """Whether a URL query parameter's name says it carries a credential (``token``, ``api_key``, ``X-Api-Key``)."""
    norm = name.strip().lower().replace("-", "_")
    return bool(_SECRET_WORDS.intersection(norm.split("_"))) or norm.replace("_", "").endswith(_SECRET_SUFFIXES)


def _split(url: str) -> tuple[str, SplitResult]:
    """(adapter prefix, split transport URL) of ``scim+https://...`` or a plain URL; ValueError when malformed."""
    scheme, sep, rest = url.partition(":")
    if sep and "+" in scheme:
        adapter, _, transport = scheme.partition("+")
        return adapter + "+", urlsplit(f"{transport}:{rest}")
    return "", urlsplit(url)


def url_credential(url: str) -> str | None:
    """What credential ``url`` carries ("a password in the URL", "query parameter 'api_key'"), or None.

    ``local:`` paths are file names, not URLs, and are never inspected.
    """
    if url.startswith("local:"):
        return None
    try:
        _, parts = _split(url)
    except ValueError as exc:  # never echo a URL that could not even be split
        raise ValueError(f"target URL is malformed ({exc}); it is not shown, as it may hold a credential") from None
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        if ":" in userinfo:
            return "a password in the URL"
        if len(userinfo) >= TOKEN_LIKE_USER:
            return "user info that looks like a token"
        # a short user name (scim+https://bot@host) is no credential; it is never shown (redact_url) nor counted
    for where in (parts.query, parts.fragment):
        for key, _ in parse_qsl(where, keep_blank_values=True):
            if is_secret_parameter(key):
                return f"query parameter {key[:40]!r}"
    return None


def redact_url(url: str) -> str:
    """``url`` without user info and without the values of secret-named query parameters."""
    if url.startswith("local:"):
        return url
    try:
        prefix, parts = _split(url)
    except ValueError:
        return "[malformed URL]"
    netloc = parts.netloc.rpartition("@")[2]

    def clean(text: str) -> str:
        pairs = parse_qsl(text, keep_blank_values=True)
        if not any(is_secret_parameter(k) for k, _ in pairs):
            return text
        return "&".join(f"{k}={REDACTED if is_secret_parameter(k) else v}" for k, v in pairs)

    return prefix + urlunsplit((parts.scheme, netloc, parts.path, clean(parts.query), clean(parts.fragment)))


def redact_urls_in(text: str) -> str:
    """``text`` with every URL-like word passed through :func:`redact_url` (for messages that echo arguments)."""
    return " ".join(redact_url(word) if "://" in word or "?" in word else word for word in text.split(" "))


def credential_hint(adapter: str) -> str:
    """Where a credential for ``adapter`` goes instead of a URL."""
    env = f"ACCESSOPS_{adapter.upper()}_TOKEN"
    return f"set {env}, or name a token file with {env}_FILE or [credentials] {adapter.lower()}_token_file in accessops.toml"


def refuse_credentials_in_url(url: str, adapter: str) -> None:
    """Raise ValueError (one line, no credential in it) when ``url`` carries a credential."""
    found = url_credential(url)
    if found is not None:
        raise ValueError(f"target {redact_url(url)} carries a credential ({found}); remove it from the URL and {credential_hint(adapter)}")


def known_secrets() -> list[str]:
    """Every credential value this process could use, longest first (env vars and token files)."""
    values: set[str] = set()
    for name, value in os.environ.items():
        if _TOKEN_ENV.match(name) and value:
            values.add(value.strip())
        elif _TOKEN_FILE_ENV.match(name) and value:
            content = _read(value)
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
