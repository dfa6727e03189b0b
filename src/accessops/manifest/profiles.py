"""Built-in profiles (one per seed model, and their union) and user profile files."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from accessops.errors import ConfigError
from accessops.model.profile import Profile

if TYPE_CHECKING:
    from accessops.manifest.loader import DesiredModel
    from accessops.model.resource import ResourceMap


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
    """A user's profile file, loaded as safely as a manifest (encoding, control characters, duplicate keys, huge numbers)."""
    from accessops.manifest.yamlsrc import YamlProblem, decode_text, load_documents

    try:
        documents = load_documents(decode_text(path.read_bytes()))
        if len(documents) != 1:
            raise ConfigError(f"profile file {path}: expected one YAML document, found {len(documents)}")
        return Profile.model_validate(documents[0][0], strict=False)
    except OSError as exc:
        raise ConfigError(f"profile file {path}: {exc.strerror}") from None
    except YamlProblem as exc:
        where = f":{exc.pos.line}:{exc.pos.column}" if exc.pos.line else ""
        raise ConfigError(f"profile file {path}{where}: {exc.message}") from None
    except ValidationError as exc:
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


def switched_profiles(model: "DesiredModel", live: "ResourceMap") -> dict[str, Profile]:
    """The profiles live state is judged by, where it names another profile than the manifests.

    Keys as the access engine takes them: an organization name, or
    ``org/workspace`` for a workspace's effective profile (its own, else its
    organization's). Only entries that differ from the manifests' are
    returned, so an empty answer means "no profile switch". A live profile
    that cannot be resolved any more (a deleted profile file) is left out:
    the manifests' profile is the best judge left.
    """
    switched: dict[str, Profile] = {}
    for name, org in model.organizations.items():
        res = live.get(f'organization["{name}"]')
        ref = res.attrs.get("profile") if res is not None else None
        if not ref or ref == org.doc.spec.profile or name not in model.profiles:
            continue
        try:
            before = load_profile(str(ref), Path(org.file).parent)
        except ConfigError:
            continue
        if before != model.profiles[name]:
            switched[name] = before
    for key, ws in model.workspaces.items():
        after = model.workspace_profiles.get(key)
        res = live.get(f'workspace["{key}"]')
        if after is None or res is None:
            continue  # a new workspace has no admins to lose
        ref = res.attrs.get("profile")
        org_name = key.split("/", 1)[0]
        try:
            was = load_profile(str(ref), Path(ws.file).parent) if ref else switched.get(org_name, model.profiles.get(org_name))
        except ConfigError:
            continue
        if was is not None and was != after:
            switched[key] = was
    return switched
