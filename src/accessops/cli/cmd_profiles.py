"""``accessops profiles [NAME]``: list the built-in profiles, or show one."""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from accessops.manifest.profiles import builtin_names, load_profile
from accessops.model.profile import Profile


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``profiles`` command."""
    p = sub.add_parser(
        "profiles",
        help="list built-in profiles, or show one (or a profile file)",
        description="List the built-in profiles, or show one profile's vocabulary. NAME may be a built-in name or a path to a profile .yaml.",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="a built-in profile name or a profile file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List or show; an unknown name is a ConfigError (exit 1)."""
    if not args.name:
        for name in builtin_names():
            profile = load_profile(name)
            print(f"{name:<20} {profile.description}")
        return 0
    profile = load_profile(args.name, Path.cwd())
    print(render_profile(profile), end="")
    return 0


def render_profile(profile: Profile) -> str:
    """A profile as the YAML a user would write to define it."""
    data = profile.model_dump(mode="json")
    data["org_roles"] = [_trim(role) for role in data["org_roles"]]
    data["workspace_roles"] = [_trim(role) for role in data["workspace_roles"]]
    data = {k: v for k, v in data.items() if v not in ([], {}, "")}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)


def _trim(role: dict[str, object]) -> dict[str, object]:
    """Drop a role's default fields so the listing reads like the profile file."""
    return {k: v for k, v in role.items() if v not in ([], False)}
