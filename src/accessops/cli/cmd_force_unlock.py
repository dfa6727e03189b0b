"""``accessops force-unlock LOCK_ID``: break a target's lock that a dead apply left (as Terraform's).

The id is the one a refused apply printed. Only that lock is broken: a
lock taken since under a new id stays. The dead run is marked
``interrupted``, and the next apply settles its unconfirmed changes by
what live shows.
"""

from __future__ import annotations

import argparse

from accessops.cli.common import add_paths, add_target
from accessops.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``force-unlock`` command."""
    p = sub.add_parser("force-unlock", help="break a lock left by a dead apply (the id a refused apply printed)", description=__doc__)
    p.add_argument("lock_id", metavar="LOCK_ID", help="the lock id from the 'locked by' error")
    add_paths(p)
    add_target(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit 0 when the lock was broken, 1 when there is no such lock."""
    from accessops.engine import open_state, open_target_url

    settings = load_settings(args.paths or [], target=args.target, state=args.state)
    store = open_state(settings, open_target_url(settings), create=False)
    try:
        lock = store.force_unlock(args.lock_id)
    finally:
        store.close()
    print(f"Lock {args.lock_id} on {lock.target} (held by {lock}) is broken; the next apply settles what its run left.")
    return 0
