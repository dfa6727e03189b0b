"""Locks of the git state backend: one ref per target, taken and broken by compare-and-swap pushes.

``refs/accessops/lock/<target-id>`` points at a commit whose ``lock.json``
names the holder. It is created with ``--force-with-lease=REF:`` (only if it
does not exist), so of two runners exactly one wins; before its first write
the holder adds its run and intents to it (``run.json``, ``intents.json``),
which ``force-unlock`` moves to the state branch when the holder died.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from accessops.adapters.local_write import utc_now
from accessops.apply.git_tree import Git, GitError, Tree, pretty
from accessops.apply.records import ApplyRun, Lock
from accessops.errors import AccessOpsError
from accessops.plan.change import Change

LOCK_PREFIX = "refs/accessops/lock/"


class GitLocks:
    """The lock half of :class:`~accessops.apply.state_git.GitStore`."""

    url: str
    remote: str
    git: Git
    held: dict[str, tuple[Lock, str]]
    ops: list[Callable[[Tree, dict[int, int]], None]]

    def flush(self, message: str = "") -> None:  # pragma: no cover - GitStore's
        raise NotImplementedError

    def _view(self) -> Tree:  # pragma: no cover - GitStore's
        raise NotImplementedError

    def _provisional(self) -> int:  # pragma: no cover - GitStore's
        raise NotImplementedError

    def _put_run(self, tree: Tree, ids: dict[int, int], run: ApplyRun) -> None:  # pragma: no cover - GitStore's
        raise NotImplementedError

    def _add_intents(self, tree: Tree, ids: dict[int, int], target: str, pid: int, changes: list[Change]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _lock_ref(self, key: str) -> str:
        return LOCK_PREFIX + key

    def _read_lock(self, key: str) -> tuple[Lock, str] | None:
        local = f"refs/accessops/fetched-lock/{key}"
        try:
            found = self.git.fetch(self.remote, f"+{self._lock_ref(key)}:{local}")
        except GitError as exc:
            raise AccessOpsError(f"state {self.url}: {exc}") from None
        if not found:
            return None
        sha = self.git.out("rev-parse", local)
        try:
            data = Tree(self.git, sha).json("lock.json", None)
            return (Lock.from_json(data), sha) if data else None
        except (GitError, KeyError, TypeError, ValueError) as exc:
            raise AccessOpsError(f"state {self.url}: the lock ref {self._lock_ref(key)} is damaged ({exc}); delete it with git push --delete") from None

    def holder(self, key: str) -> Lock | None:
        """Who holds ``key``'s lock ref, if anyone."""
        found = self._read_lock(key)
        return found[0] if found else None

    def acquire(self, key: str, holder: str, *, force: bool = False) -> Lock:
        """Create the lock ref, only if it does not exist (an atomic compare-and-swap on the remote)."""
        mine = Lock.mine(key, holder)
        tree = Tree(self.git, None)
        tree.write("lock.json", pretty(mine.to_json()))
        commit = tree.commit_edits(f"accessops lock {key}\n\nheld by {mine}\nlock id {mine.id}\n", parent=None)
        ref = self._lock_ref(key)
        for _ in range(5):
            try:
                verdict = self.git.push(self.remote, f"{commit}:{ref}", lease=f"{ref}:")
            except GitError as exc:
                raise AccessOpsError(f"state {self.url}: cannot take the lock: {exc}") from None
            if verdict == "":
                self.held[key] = (mine, commit)
                return mine
            found = self._read_lock(key)
            if found is None:
                continue  # released meanwhile: try again
            held, sha = found
            if force and held.stale:
                self.git.push(self.remote, f":{ref}", lease=f"{ref}:{sha}")
                continue
            raise held.refusal(self.url)
        raise AccessOpsError(f"state {self.url}: could not take the lock {key}")

    def release(self, key: str) -> None:
        """Delete this process's lock ref (only if it is still ours)."""
        held = self.held.pop(key, None)
        if held is None:
            return
        lock, sha = held
        if self.ops:  # records that never reached the branch: the lock's journal is what recovers them
            print(
                f"warning: state {self.url}: this run was not recorded; lock {lock.id} is kept with its intents. "
                f"Run accessops force-unlock {lock.id}, then apply again: it settles them by what live shows",
                file=sys.stderr,
            )
            return
        ref = self._lock_ref(key)
        try:
            self.git.push(self.remote, f":{ref}", lease=f"{ref}:{sha}")
        except GitError as exc:
            print(f"warning: state {self.url}: could not release lock {lock.id} ({exc}); run: accessops force-unlock {lock.id}", file=sys.stderr)

    def force_unlock(self, lock_id: str) -> Lock:
        """Break the lock with this id; a run it journalled lands on the branch as ``interrupted`` with its intents."""
        listing = self.git.run("ls-remote", self.remote, f"{LOCK_PREFIX}*", check=False)
        if listing.returncode != 0:
            raise AccessOpsError(f"state {self.url}: cannot list locks: {listing.stderr.decode(errors='replace').strip()[-200:]}")
        for line in listing.stdout.decode().splitlines():
            key = line.split("\t", 1)[1][len(LOCK_PREFIX) :]
            found = self._read_lock(key)
            if found is None or found[0].id != lock_id:
                continue
            lock, sha = found
            self._fold_journal(lock, Tree(self.git, sha))
            ref = self._lock_ref(key)
            if self.git.push(self.remote, f":{ref}", lease=f"{ref}:{sha}") == "rejected":
                raise AccessOpsError(f"lock {lock_id} changed while it was being broken; look again")
            return lock
        raise AccessOpsError(f"no lock {lock_id!r} in state {self.url} (it was released, or the id is wrong)")

    def _fold_journal(self, lock: Lock, journal: Tree) -> None:
        started = journal.json("run.json", None)
        if not started:
            return  # the lock was taken but nothing was started
        run = ApplyRun.from_json(started)
        view = self._view()
        recent = [p for p in view.paths("runs/")][-50:]
        view.preload(recent)
        if any((view.json(p, {}).get("meta") or {}).get("lock_id") == lock.id for p in recent):
            return  # that run was recorded; it died after its commit
        changes = [Change.from_json(c) for c in journal.json("intents.json", [])]
        run.status, run.finished_at = "interrupted", utc_now()
        pid = self._provisional()
        run.id = pid
        self.ops.append(lambda tree, ids: self._put_run(tree, ids, run))
        self.ops.append(lambda tree, ids: self._add_intents(tree, ids, run.target, pid, changes))
        self.flush(f"force-unlock {lock.id}: run by {run.actor} since {run.started_at} interrupted\n\n{len(changes)} change(s) to settle by live\n")

    def _journal(self, run: ApplyRun, changes: list[Change]) -> None:
        """Record the run and its intents on the lock ref before the first write."""
        for key, (lock, sha) in list(self.held.items()):
            tree = Tree(self.git, sha)
            tree.write("run.json", pretty(run.to_json()))
            tree.write("intents.json", json.dumps([c.to_json() for c in changes], sort_keys=True) + "\n")
            commit = tree.commit_edits(f"accessops intents of a run on {run.target}: {len(changes)} change(s)\n", parent=sha)
            ref = self._lock_ref(key)
            try:
                verdict = self.git.push(self.remote, f"{commit}:{ref}", lease=f"{ref}:{sha}")
            except GitError as exc:
                raise AccessOpsError(f"state {self.url}: cannot record the run's intents, so nothing was applied: {exc}") from None
            if verdict:
                raise AccessOpsError(f"state {self.url}: the lock {lock.id} was broken by someone else; nothing was applied")
            self.held[key] = (lock, commit)
