"""Maps a target URL scheme to its adapter; third parties add adapters by entry point.

A package registers ``[project.entry-points."accessops.adapters"]
myscheme = "mypkg.adapter:MyAdapter"``.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from accessops.adapters.base import Adapter, Target
from accessops.errors import ConfigError

_BUILTIN = {
    "local": "accessops.adapters.local:LocalAdapter",
    "scim": "accessops.adapters.scim:ScimAdapter",
    "directus": "accessops.adapters.directus:DirectusAdapter",
}


def _load(spec: str) -> type[Adapter]:
    module_name, _, attr = spec.partition(":")
    module = __import__(module_name, fromlist=[attr])
    cls: type[Adapter] = getattr(module, attr)
    return cls


def available() -> dict[str, str]:
    """Scheme to ``module:Class`` for built-in and installed adapters."""
    found = dict(_BUILTIN)
    for ep in entry_points(group="accessops.adapters"):
        found.setdefault(ep.name, ep.value)
    return found


def adapter_class(scheme: str) -> type[Adapter]:
    """The adapter class for ``scheme``."""
    specs = available()
    if scheme not in specs:
        raise ConfigError(f"no adapter for target scheme {scheme!r} (known: {', '.join(sorted(specs))})")
    return _load(specs[scheme])


def open_adapter(target: Target) -> Adapter:
    """Instantiate the adapter for ``target``."""
    return adapter_class(target.scheme)(target)
