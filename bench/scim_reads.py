"""Requests and wall time for the scim adapter to read, and to apply from empty, 1,000 Users and 100 Groups.

Starts a real ``scim2-server`` on a free port, creates the users and groups
with plain HTTP (each group holds 10 users), then reads them through
:class:`ScimAdapter` and prints what the read cost. Then applies the same
users, groups and memberships from empty to a second tenant through the
applier and prints its requests per change: with Bulk, as scim2-server
advertises it, and (``--no-bulk``) with a ServiceProviderConfig that does not.

    python bench/scim_reads.py [--users 1000] [--groups 100] [--page-size N] [--no-bulk]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import socket
import subprocess
import sys
import time

import requests

from accessops.adapters.base import Target
from accessops.adapters.scim import ScimAdapter
from accessops.apply.applier import apply_changes
from accessops.apply.state import StateStore
from accessops.engine import Context
from accessops.plan.change import Action, Change, Plan
from accessops.settings import Settings

TOKEN = "bench-token"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, limit: float = 30.0) -> None:
    """Poll until the server answers."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1).ok:
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    sys.exit(f"scim2-server did not answer {url}")


def populate(base: str, users: int, groups: int) -> None:
    """Create the users, then the groups with 10 members each."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    ids = []
    for i in range(users):
        body = {"userName": f"user{i:04d}@acme.test", "displayName": f"User {i}", "active": True, "roles": [{"value": "Member", "primary": True}]}
        ids.append(session.post(f"{base}/Users", json=body, timeout=10).json()["id"])
    for g in range(groups):
        members = [{"value": ids[(g * 10 + k) % users]} for k in range(10)]
        session.post(f"{base}/Groups", json={"displayName": f"team{g:03d}", "members": members}, timeout=10).raise_for_status()


def apply_from_empty(base: str, users: int, groups: int) -> str:
    """Apply the same users, groups and memberships to an empty tenant; one line of figures."""
    emails = [f"user{i:04d}@acme.test" for i in range(users)]
    changes = [Change(Action.CREATE, "member", f"acme/{e}", None, {"role": "Member", "name": f"User {i}"}) for i, e in enumerate(emails)]
    for g in range(groups):
        changes.append(Change(Action.CREATE, "team", f"acme/team{g:03d}", None, {}))
        changes += [Change(Action.CREATE, "team_member", f"acme/team{g:03d}/{emails[(g * 10 + k) % users]}", None, {}) for k in range(10)]
    plan = Plan(changes=sorted(changes, key=Change.sort_key))
    with ScimAdapter(Target.parse(f"scim+{base}")) as adapter, tempfile.TemporaryDirectory() as tmp:
        adapter.read(["acme"])
        before = adapter.requests
        ctx = Context(Settings(), adapter.target, adapter)
        ctx.state = StateStore(os.path.join(tmp, "state.db"))
        started = time.perf_counter()
        result = apply_changes(ctx, plan, parallelism=4)
        elapsed = time.perf_counter() - started
        ctx.state.close()
        used = adapter.requests - before
        bulk = "Bulk" if adapter.writes_in_batches() else "no Bulk"
        if not result.ok:
            sys.exit(f"apply failed: {result.failed[:1]}")
        return f"apply from empty ({bulk}): {len(plan.pending)} changes, {used} requests = {used / len(plan.pending):.3f} requests per change, {elapsed:.2f}s wall"


def main() -> None:
    """Run the measurement and print one line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=None, help="ACCESSOPS_SCIM_PAGE_SIZE (default: the adapter's)")
    parser.add_argument("--no-bulk", action="store_true", help="serve a ServiceProviderConfig without Bulk")
    args = parser.parse_args()
    port = free_port()
    argv = ["scim2-server", "--port", str(port), "--bearer-token", TOKEN, "--dynamic-tenants"]
    config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    if args.no_bulk:
        json.dump({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], "patch": {"supported": True},
                   "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0}, "filter": {"supported": True, "maxResults": 1000},
                   "changePassword": {"supported": False}, "sort": {"supported": True}, "etag": {"supported": True},
                   "authenticationSchemes": [{"type": "oauthbearertoken", "name": "bearer_token", "description": "HTTP Bearer Token"}]}, config)
        config.close()
        argv += ["--service-provider-config", config.name]
    server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/read/v2"
        wait_ready(f"{base}/ServiceProviderConfig")
        populate(base, args.users, args.groups)
        os.environ["ACCESSOPS_SCIM_TOKEN"] = TOKEN
        if args.page_size:
            os.environ["ACCESSOPS_SCIM_PAGE_SIZE"] = str(args.page_size)
        with ScimAdapter(Target.parse(f"scim+{base}")) as adapter:
            started = time.perf_counter()
            live = adapter.read(["acme"])
            elapsed = time.perf_counter() - started
            kinds = {t: sum(r.type == t for r in live.values()) for t in ("member", "team", "team_member")}
            print(
                f"read {kinds['member']} members, {kinds['team']} teams, {kinds['team_member']} memberships "
                f"(page size {adapter.page_size}): {adapter.requests} requests, {elapsed:.2f}s wall"
            )
        print(apply_from_empty(f"http://127.0.0.1:{port}/apply/v2", args.users, args.groups))
    finally:
        os.unlink(config.name)
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
