"""``accessops explain`` and ``accessops who-can``: effective access with its reasons.

Both read the manifests (desired state) by default, or the live system with
``--live``, and ask the same access engine, so they always agree. On the
manifests with ``--target``, what they leave out (undeclared tables and
fields, invitation status) comes from the live system.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from accessops.access.engine import AccessEngine, UnknownCapability
from accessops.access.origins import with_origins
from accessops.access.policies import model_profiles
from accessops.cli.common import add_format, add_paths, add_target, print_json
from accessops.errors import ConfigError
from accessops.manifest.loader import load
from accessops.manifest.profiles import load_profile
from accessops.model.compile import compile_model
from accessops.model.profile import Profile
from accessops.model.resource import Resource, ResourceMap, address

FALLBACK_PROFILE = "union"  # a live organization that does not name its profile
LIVE_MEMBER_ATTRS = ("status", "superuser")  # what only the target knows about a declared member


def _add_source(p: argparse.ArgumentParser) -> None:
    add_paths(p)
    p.add_argument(
        "--live", action="store_true",
        help="read the live system (the target) instead of the manifests; without it, a --target completes the manifests from live",
    )
    add_target(p)
    add_format(p, ("text", "json"))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``explain`` and ``who-can`` commands."""
    p = sub.add_parser("explain", help="every capability of a member, with its chain of reasons", description=__doc__)
    p.add_argument("member", metavar="MEMBER", help="an email, a unique email prefix, or a local part (bo)")
    _add_source(p)
    p.add_argument("--allowed", action="store_true", help="show only what the member can do")
    p.set_defaults(func=run_explain)
    w = sub.add_parser("who-can", help="the members who can do ACTION on RESOURCE, and why", description=__doc__)
    w.add_argument("action", metavar="ACTION", help="e.g. edit, read, delete_organization, Billing:View, archive_space")
    w.add_argument("resource", metavar="RESOURCE", help="e.g. crm/customers, crm/customers/address, acme, roadmap")
    _add_source(w)
    w.add_argument("--all", action="store_true", help="list the members who cannot too")
    w.set_defaults(func=run_who_can)


def live_profiles(resources: ResourceMap, base_dir: Path | None = None) -> dict[str, Profile]:
    """Profiles of live organizations (and workspace overrides) by the names they carry."""
    profiles: dict[str, Profile] = {}
    for res in resources.values():
        if res.type == "organization":
            profiles[res.key] = load_profile(str(res.attrs.get("profile") or FALLBACK_PROFILE), base_dir)
        elif res.type == "workspace" and res.attrs.get("profile"):
            profiles[res.key] = load_profile(str(res.attrs["profile"]), base_dir)
    return profiles


def read_live(args: argparse.Namespace, orgs: list[str] | None = None) -> tuple[ResourceMap, dict[str, Profile]]:
    """Live resources of the target and their profiles; organizations from the manifests when paths are given."""
    from accessops.engine import open_target, settings_for

    settings = settings_for(args)
    _target, adapter = open_target(settings)
    with adapter:
        if orgs is None:
            orgs = load(args.paths).org_names if args.paths else adapter.organizations()
        resources = adapter.read(orgs)
    return resources, live_profiles(resources, Path.cwd())


def access_state(args: argparse.Namespace) -> tuple[ResourceMap, dict[str, Profile]]:
    """Resources and profiles: the compiled manifests, or the live system with ``--live``."""
    resources, profiles, _origins = access_state_with_origins(args)
    return resources, profiles


def access_state_with_origins(args: argparse.Namespace) -> tuple[ResourceMap, dict[str, Profile], dict[str, tuple[str, ...]]]:
    """:func:`access_state` plus where each per-person grant came from (team grants, default role).

    With ``--live`` and manifests given, a live grant that equals the one the
    manifests compile to is credited to the same team grants. On the
    manifests with a target named (``--target`` or ACCESSOPS_TARGET), what
    they leave out comes from live state (see :func:`overlay_live`).
    """
    if getattr(args, "live", False):
        if not args.paths:
            resources, profiles = read_live(args)
            return resources, profiles, {}
        loaded = load(args.paths)  # once: it names the organizations to read and the grants' origins
        resources, profiles = read_live(args, loaded.org_names)
        compiled = compile_model(loaded)
        origins = {a: o for a, o in compiled.origins.items() if a in resources and a in compiled.resources and resources[a].attrs == compiled.resources[a].attrs}
        return resources, profiles, origins
    model = load(args.paths or ["."])
    compiled = compile_model(model)
    resources = compiled.resources
    if getattr(args, "target", None) or os.environ.get("ACCESSOPS_TARGET"):
        live, _profiles = read_live(args, model.org_names)
        resources = overlay_live(resources, live)
    return resources, model_profiles(model), compiled.origins


def overlay_live(desired: ResourceMap, live: ResourceMap) -> ResourceMap:
    """The manifests, completed from live state where they say nothing.

    * tables and fields the target holds that no permission declares (live
      ``table`` resources of a declared workspace);
    * each declared member's live invitation status (an invited member's
      access is configured, not effective, until they accept) and whether
      the target makes them a superuser outside accessops.
    """
    out = dict(desired)
    for addr, res in live.items():
        if res.type == "table" and addr not in out and address("workspace", res.key.rsplit("/", 1)[0]) in desired:
            out[addr] = res
        elif res.type == "member" and addr in desired:
            want = desired[addr]
            seen = {k: v for k, v in res.attrs.items() if k in LIVE_MEMBER_ATTRS and k not in want.attrs}
            if seen:
                out[addr] = Resource(want.type, want.key, {**want.attrs, **seen})
    return out


def resolve_member(engine: AccessEngine, query: str) -> str:
    """One member's email from an email, unique prefix or local part."""
    matches = engine.find_members(query)
    emails = sorted({email for _org, email in matches})
    if not emails:
        raise ConfigError(f"no member matches {query!r}")
    if len(emails) > 1:
        shown = ", ".join(emails[:5]) + (" ..." if len(emails) > 5 else "")
        raise ConfigError(f"{query!r} matches {len(emails)} members ({shown}); give more of the email")
    return emails[0]


def run_explain(args: argparse.Namespace) -> int:
    """Print every capability of one member; exit 0."""
    resources, profiles, origins = access_state_with_origins(args)
    engine = AccessEngine(resources, profiles)
    email = resolve_member(engine, args.member)
    every = with_origins(engine.explain(email), origins)
    caps = [c for c in every if c.allowed or not args.allowed]
    if args.format == "json":
        print_json({"member": email, "capabilities": [c.to_json() for c in caps]})
        return 0
    for org in sorted({c.org for c in every}):
        who = engine.views[org].person(email)
        flags = [who.role_name] + (["global admin"] if who.global_admin else []) + (["invited"] if who.invited else [])
        print(f"{email} in {org} ({', '.join(flags)})")
        for cap in caps:
            if cap.org == org:
                print(f"  {cap.line()}")
        allowed = sum(c.allowed for c in every if c.org == org)
        print(f"  {allowed} of {sum(c.org == org for c in every)} capabilities allowed")
    return 0


def run_who_can(args: argparse.Namespace) -> int:
    """Print the members who can do ACTION on RESOURCE; exit 0."""
    resources, profiles, origins = access_state_with_origins(args)
    engine = AccessEngine(resources, profiles)
    try:
        answers = with_origins(engine.who_can(args.action, args.resource), origins)
    except UnknownCapability as exc:
        hint = ""
        if not args.live and not (args.target or os.environ.get("ACCESSOPS_TARGET")):
            hint = " in the manifests (name a --target, or use --live, to ask about tables and fields only the target holds)"
        raise ConfigError(f"{exc}{hint}") from None
    # effective access first; invited members who will have it once they accept are shown too
    can = [a for a in answers if a.allowed or a.configured]
    shown = answers if args.all else can
    if args.format == "json":
        print_json({"action": args.action, "resource": args.resource, "members": [a.to_json() for a in shown]})
        return 0
    for org in sorted({a.org for a in answers}):
        in_org = [a for a in answers if a.org == org]
        name = in_org[0].name
        pending = sum(bool(a.configured and not a.allowed) for a in in_org)
        later = f", {pending} more once they accept" if pending else ""
        print(f"{name} in {org}: {sum(a.allowed for a in in_org)} of {len(in_org)} member(s){later}")
        for a in shown:
            if a.org == org:
                verdict = f"{a.verdict}: " if args.all or not a.allowed else ""
                print(f"  {a.member}: {verdict}{'; '.join(a.reasons)}")
    return 0
