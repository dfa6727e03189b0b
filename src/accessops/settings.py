"""Settings: ``accessops.toml`` at the manifest root, overridden by flags and env.

Secrets never live here: adapters read their tokens from the environment
(or files this config names). Sections are read by the parts that own them:
``[guards]``, ``[modes]``, ``[lint]``, ``[invitations]``.

    target = "local:.accessops/tenant.db"
    state = ".accessops/state.db"     # or git:origin, git+https://…, postgresql://… (see apply/store.py)
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accessops.errors import ConfigError, SettingsError

CONFIG_NAME = "accessops.toml"
DEFAULT_TARGET = "local:.accessops/tenant.db"


@dataclass
class Settings:
    """Resolved settings for one command run."""

    target: str = DEFAULT_TARGET
    state: str | None = None  # a state URL; a relative path in the file is relative to it
    config_file: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        """One ``[section]`` of the config file (empty when absent)."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise self.error(f"[{name}] must be a table")
        return value

    # --- checked values: every one names the file and the key when it is wrong ---------------

    def error(self, message: str) -> ConfigError:
        """A settings error naming the settings file (or "settings" when only flags set it)."""
        if self.config_file is None:
            return ConfigError(f"settings: {message}")
        return SettingsError(str(self.config_file), message)

    def count(self, section: str, key: str, value: Any, minimum: int = 0) -> int:
        """A whole number of at least ``minimum`` (not a bool, not a float such as 1.0 or nan)."""
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(f"[{section}] {key} must be a whole number of at least {minimum}, not {value!r}")
        return value

    def share(self, section: str, key: str, value: Any) -> float:
        """A fraction from 0 to 1; nan and inf are refused (they would turn a budget off)."""
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and 0 <= value <= 1
        if not ok:
            raise self.error(f"[{section}] {key} is a fraction from 0 to 1 (0.25 = 25%), not {value!r}")
        return float(value)

    def switch(self, section: str, key: str, value: Any) -> bool:
        """``true`` or ``false``."""
        if not isinstance(value, bool):
            raise self.error(f"[{section}] {key} must be true or false, not {value!r}")
        return value

    def strings(self, section: str, key: str, value: Any) -> list[str]:
        """A list of strings."""
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"[{section}] {key} must be a list of strings, not {value!r}")
        return value

    def known_keys(self, section: str, table: dict[str, Any], known: Iterable[str]) -> None:
        """Refuse a key of ``[section]`` that is none of ``known`` (a typo would silently do nothing)."""
        names = sorted(known)
        unknown = sorted(str(k) for k in table if k not in names)
        if unknown:
            raise self.error(f"[{section}] unknown key {unknown[0]!r} (known: {', '.join(names)})")


def find_config(paths: list[str]) -> Path | None:
    """``accessops.toml`` in the first manifest folder, else the current directory."""
    candidates = []
    if paths:
        first = Path(paths[0])
        candidates.append(first if first.is_dir() else first.parent)
    candidates.append(Path.cwd())
    for folder in candidates:
        cfg = folder / CONFIG_NAME
        if cfg.is_file():
            return cfg
    return None


def load_settings(paths: list[str] | None = None, *, target: str | None = None, state: str | None = None) -> Settings:
    """Settings from file, then environment, then flags (each overriding the last)."""
    cfg = find_config(paths or [])
    raw: dict[str, Any] = {}
    if cfg is not None:
        raw = read_config(cfg)
    settings = Settings(config_file=cfg, raw=raw)
    check_settings(settings)
    base = cfg.parent if cfg else Path.cwd()
    if isinstance(raw.get("target"), str):
        settings.target = _relative_target(raw["target"], base)
    if raw.get("state"):
        settings.state = _relative_state(str(raw["state"]), base)
    if os.environ.get("ACCESSOPS_STATE"):
        settings.state = os.environ["ACCESSOPS_STATE"]
    if os.environ.get("ACCESSOPS_TARGET"):
        settings.target = os.environ["ACCESSOPS_TARGET"]
    if target:
        settings.target = target
    if state:
        settings.state = state
    return settings


def read_config(cfg: Path) -> dict[str, Any]:
    """Parse ``accessops.toml``; a file that is not UTF-8 or not TOML is an error naming the file and line."""
    try:
        data = cfg.read_bytes()
    except OSError as exc:
        raise SettingsError(str(cfg), f"cannot read the settings: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SettingsError(str(cfg), f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at line {line}); save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        message = str(exc)[: at.start()].strip() if at else str(exc)
        raise SettingsError(str(cfg), message, int(at.group(1)) if at else None, int(at.group(2)) if at else None) from None


def check_settings(settings: Settings) -> None:
    """Check the values this module and the apply step own; each section's owner checks the rest.

    ``[guards]``, ``[invitations]``, ``[modes]`` and ``[ignore]`` are checked by
    :mod:`accessops.plan.guards_config` when a plan is judged.
    """
    raw = settings.raw
    if "target" in raw and not isinstance(raw["target"], str):
        raise settings.error(f"target must be a string (a target URL), not {raw['target']!r}")
    if "state" in raw and not isinstance(raw["state"], str):
        raise settings.error(f"state must be a string (a file path or URL), not {raw['state']!r}")
    for name in ("guards", "modes", "ignore", "invitations", "lint", "apply", "credentials"):
        settings.section(name)  # a table, or an error
    apply = settings.section("apply")
    if "parallelism" in apply:
        settings.count("apply", "parallelism", apply["parallelism"], minimum=1)
    lint = settings.section("lint")
    if "errors" in lint:
        settings.strings("lint", "errors", lint["errors"])


def _relative_target(url: str, base: Path) -> str:
    """A ``local:`` path in the config file is relative to the config file."""
    if url.startswith("local:") and not Path(url[6:]).is_absolute():
        return f"local:{base / url[6:]}"
    return url


def _relative_state(url: str, base: Path) -> str:
    """A plain ``state`` path in the config file is relative to the config file; a URL is left as it is."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", url) or Path(url).expanduser().is_absolute():
        return url
    return str(base / url)
