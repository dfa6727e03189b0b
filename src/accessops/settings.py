"""Settings: ``accessops.toml`` at the manifest root, overridden by flags and env.

Secrets never live here: adapters read their tokens from the environment
(or files this config names). Sections are read by the parts that own them:
``[guards]``, ``[modes]``, ``[lint]``, ``[invitations]``.

    target = "local:.accessops/tenant.db"
    state = ".accessops/state.db"     # or git:origin, git+https://…, postgresql://… (see apply/store.py)
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accessops.errors import ConfigError

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
            raise ConfigError(f"{self.config_file}: [{name}] must be a table")
        return value


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
        try:
            raw = tomllib.loads(cfg.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{cfg}: {exc}") from None
    settings = Settings(config_file=cfg, raw=raw)
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
