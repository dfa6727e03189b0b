"""``accessops tenant``: act on a local tenant the way the product's own users would.

These changes happen behind git's back (an invitation accepted, a role
changed in the product, a space made private), so ``plan`` and ``drift``
see them as live changes. They need a ``local:`` target.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from accessops.adapters.base import Target
from accessops.cli.common import print_json
from accessops.errors import ConfigError
from accessops.settings import load_settings


def _bool(text: str) -> bool:
    if text.lower() in ("true", "yes", "on", "1"):
        return True
    if text.lower() in ("false", "no", "off", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``tenant`` command and its subcommands."""
    p = sub.add_parser("tenant", help="change a local tenant behind git's back (accept invites, change roles, ...)", description=__doc__)
    p.add_argument("--target", metavar="URL", help="local:PATH (default: ACCESSOPS_TARGET, accessops.toml or local:.accessops/tenant.db)")
    ops = p.add_subparsers(dest="tenant_command", metavar="SUBCOMMAND", required=True)

    def op(name: str, help_: str, *, email: bool = True, org: bool = True) -> argparse.ArgumentParser:
        q: argparse.ArgumentParser = ops.add_parser(name, help=help_, description=help_)
        if email:
            q.add_argument("email", metavar="EMAIL")
        if org:
            q.add_argument("--org", help="organization (default: the tenant's only one)")
        return q

    op("accept", "the invited member accepts: invited -> active, joined now")
    op("set-role", "change a member's organization role").add_argument("role", metavar="ROLE")
    op("suspend", "deactivate a member (no access while suspended; an identity provider's offboarding)")
    op("reactivate", "end a member's suspension")
    add = op("add-member", "add a member directly (active, or --invited)")
    add.add_argument("--role", help="organization role")
    add.add_argument("--invited", action="store_true", help="only invite them (status invited)")
    op("remove-member", "remove a member and every membership they have")
    private = op("set-private", "toggle a space's Make private", email=False)
    private.add_argument("space", metavar="SPACE")
    private.add_argument("private", metavar="true|false", type=_bool)
    op("set-actor", "the member email accessops applies as (never removed or demoted)", org=False)
    expire = op("expire-invite", "backdate a pending invitation by N days")
    expire.add_argument("--days", type=int, required=True, metavar="N")
    listing = op("list", "members with role and status", email=False)
    listing.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def tenant_path(target_url: str) -> Path:
    """The file of a ``local:`` target; other targets are refused."""
    try:
        target = Target.parse(target_url)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if target.scheme != "local":
        raise ConfigError(f"accessops tenant acts on local tenants only, not {target.scheme} (use --target local:PATH)")
    return Path(target.location).expanduser()


def run(args: argparse.Namespace) -> int:
    """Make one change to the local tenant; exit 0."""
    from accessops.adapters.local import LocalAdapter
    from accessops.adapters.local_tenant import Tenant

    url = load_settings([], target=args.target).target
    path = tenant_path(url)
    command = args.tenant_command
    if command != "set-actor" and not path.exists():
        raise ConfigError(f"no local tenant at {path} (run accessops apply first, or pass --target local:PATH)")
    with LocalAdapter(Target.parse(f"local:{path}")) as adapter:
        assert isinstance(adapter, LocalAdapter)
        tenant = Tenant(adapter)
        org = getattr(args, "org", None)
        if command == "list":
            rows = tenant.members(org)
            if args.format == "json":
                print_json([row.__dict__ for row in rows])
            from accessops.model.names import escape_controls  # a tampered tenant's values stay on their line

            for row in rows if args.format == "text" else ():
                since = f"joined {row.joined_at}" if row.joined_at else f"invited {row.invited_at or '-'}"
                print("\t".join(escape_controls(str(v)) for v in (row.org, row.email, row.role or "-", row.status, since)))
            return 0
        email = getattr(args, "email", "").lower()
        if command == "accept":
            tenant.accept(email, org)
            print(f"{email} accepted the invitation")
        elif command in ("suspend", "reactivate"):
            tenant.suspend(email, org, suspended=command == "suspend")
            print(f"{email} {'suspended' if command == 'suspend' else 'reactivated'}")
        elif command == "set-role":
            tenant.set_role(email, args.role, org)
            print(f"{email} is now {args.role}")
        elif command == "add-member":
            from accessops.model.names import email_problem, shown

            if email_problem(email):
                raise ConfigError(f"{shown(email)}: {email_problem(email)}")
            tenant.add_member(email, org, role=args.role, invited=args.invited)
            print(f"{email} {'invited' if args.invited else 'added'}")
        elif command == "remove-member":
            tenant.remove_member(email, org)
            print(f"{email} removed")
        elif command == "set-private":
            tenant.set_private(args.space, args.private, org)
            print(f"space {args.space} is now {'private' if args.private else 'not private'}")
        elif command == "set-actor":
            tenant.set_actor(email)
            print(f"accessops applies as {email}")
        elif command == "expire-invite":
            tenant.expire_invite(email, args.days, org)
            print(f"{email}'s invitation backdated by {args.days} day(s)")
    return 0
