"""``accessops state migrate --to URL``: copy a state (last applied, apply log, open intents) to another backend.

The source is the usual ``state`` (settings or ``--state``). The
destination must hold no state yet, so nothing is ever merged or
overwritten; run ids are renumbered by the destination, in the same order.
Afterwards, point ``state`` at the new URL.
"""

from __future__ import annotations

import argparse

from accessops.cli.common import add_paths, add_target
from accessops.errors import AccessOpsError
from accessops.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``state`` command group (``state migrate``)."""
    p = sub.add_parser("state", help="work with the state store itself (state migrate --to URL)", description=__doc__)
    actions = p.add_subparsers(dest="state_command", metavar="ACTION", required=True)
    m = actions.add_parser("migrate", help="copy last applied and the apply log to another state URL", description=__doc__)
    m.add_argument("--to", required=True, metavar="URL", help="destination: a path (SQLite), git:origin, git+https://…, git+file://…, postgresql://…")
    add_paths(m)
    add_target(m)
    m.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when copied, 1 when the destination already holds state."""
    from pathlib import Path

    from accessops.apply.store import open_store, parse_state_url
    from accessops.engine import open_state, open_target_url

    settings = load_settings(args.paths or [], target=args.target, state=args.state)
    source = open_state(settings, open_target_url(settings), create=False)
    try:
        dump = source.dump()
        where = source.url
    finally:
        source.close()
    dest = open_store(parse_state_url(args.to, Path.cwd()))
    try:
        held = dest.dump()
        if held.runs or any(held.applied.values()):
            raise AccessOpsError(f"state {dest.url} already holds state ({len(held.runs)} run(s)); migrate only into an empty one")
        dest.load(dump)
    finally:
        dest.close()
    resources = sum(len(r) for r in dump.applied.values())
    print(f"Copied {resources} last-applied resource(s) of {len(dump.applied)} target(s) and {len(dump.runs)} run(s) from {where} to {dest.url}.")
    return 0
