"""Requests and wall time for the scim adapter to read 1,000 Users and 100 Groups.

Starts a real ``scim2-server`` on a free port, creates the users and groups
with plain HTTP (each group holds 10 users), then reads them through
:class:`ScimAdapter` and prints what the read cost.

    python bench/scim_reads.py [--users 1000] [--groups 100] [--page-size N]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

import requests

from accessops.adapters.base import Target
from accessops.adapters.scim import ScimAdapter

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


def main() -> None:
    """Run the measurement and print one line of figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=None, help="ACCESSOPS_SCIM_PAGE_SIZE (default: the adapter's)")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(["scim2-server", "--port", str(port), "--bearer-token", TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/v2"
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
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
