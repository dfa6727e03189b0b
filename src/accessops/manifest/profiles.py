"""Built-in profiles (one per seed model, and their union) and user profile files."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from accessops.errors import ConfigError
from accessops.model.profile import Profile


def builtin_names() -> list[str]:
    """Names of the profiles that ship with accessops."""
    folder = resources.files("accessops") / "profiles"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@lru_cache(maxsize=None)
def _builtin(name: str) -> Profile:
    text = (resources.files("accessops") / "profiles" / f"{name}.yaml").read_text()
    return Profile.model_validate(yaml.safe_load(text), strict=False)


@lru_cache(maxsize=64)
def _from_file(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text())
        return Profile.model_validate(data, strict=False)
    except OSError as exc:
        raise ConfigError(f"profile file {path}: {exc.strerror}") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"profile file {path}: {str(exc).splitlines()[0]}") from None


def load_profile(ref: str, base_dir: Path | None = None) -> Profile:
    """A built-in profile by name, or a profile file by path (relative to ``base_dir``)."""
    if ref in builtin_names():
        return _builtin(ref)
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.suffix in (".yaml", ".yml") and path.exists():
        return _from_file(path.resolve())
    raise ConfigError(f"unknown profile {ref!r} (built-in: {', '.join(builtin_names())}; or a path to a profile .yaml)")
