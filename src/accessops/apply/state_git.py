"""The git state backend: a branch of the policy repository holds last applied and the apply log.

Layout of the branch (``accessops-state`` unless ``?branch=NAME``), small
and diffable so ``git log -p accessops-state`` is the audit trail::

    targets/<target>/applied/<organization>.json   last applied, sorted, pretty
    targets/<target>/intents.json                  changes of a killed run, until settled
    runs/000042.json                               one file per apply run

Each apply is one commit naming the plan's summary, the manifests' commit
and the actor. A push the remote rejects because the branch moved is
replayed on a fresh fetch and tried again, never forced.

The lock of a target is the ref ``refs/accessops/lock/<target-id>``,
created by a compare-and-swap push (``--force-with-lease=REF:`` = "only if
it does not exist"): of two runners, exactly one wins; the other is told
who holds it since when. Before its first write the holder records its
intents on that ref (a journal commit), so a killed apply leaves them
behind; ``force-unlock`` moves them to the branch for the next run to settle.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from accessops.adapters.local_write import utc_now
from accessops.apply.git_lock import GitLocks
from accessops.apply.git_tree import Git, GitError, Tree, pretty
from accessops.apply.records import ApplyRun, Intent, Lock, LoggedChange, Outcome, applied_after, check_result, resource_json
from accessops.apply.store import StateDump, StateURL
from accessops.errors import AccessOpsError, ConfigError
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change
from accessops.secrets import redact_text

Op = Callable[[Tree, dict[int, int]], None]
_MAX_PUSHES = 20


def target_dir(target: str) -> str:
    """The folder of one target's files: readable, unique by a hash of its name."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", target).strip("-")[-50:].strip("-")
    return f"targets/{slug}-{hashlib.sha256(target.encode()).hexdigest()[:10]}"


def org_file(target: str, key: str) -> str:
    """The file of the organization a resource key belongs to (its first segment, quoted: never a path)."""
    org = quote(key.split("/", 1)[0], safe="") or "%00"
    return f"{target_dir(target)}/applied/{'%2E' + org[1:] if org.startswith('.') else org}.json"


def _run_path(run_id: int) -> str:
    return f"runs/{run_id:06d}.json"


def _repository_here() -> Path | None:
    """The git dir of the repository holding the current folder (as actions/checkout leaves it), or None."""
    import subprocess

    try:
        done = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def _run_from(tree: Tree, path: str) -> ApplyRun:
    """One run file; a damaged one is a one-line error naming it."""
    try:
        return ApplyRun.from_json(tree.json(path, {}))
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise AccessOpsError(f"state branch file {path} is damaged ({type(exc).__name__}: {exc})") from None


def _run_ids(tree: Tree) -> list[int]:
    return sorted(int(m.group(1)) for p in tree.paths("runs/") if (m := re.fullmatch(r"runs/(\d+)\.json", p)))


class GitStore(GitLocks):
    """The state on a branch of a git repository, locks as refs; buffered, made durable per apply."""

    def __init__(self, url: StateURL) -> None:
        self.url = str(url)
        self.branch = url.branch
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if url.remote_name:
            git_dir = _repository_here()
            if git_dir is None:
                raise ConfigError(f"state {self.url}: the current folder is not in a git repository (git:REMOTE uses a remote of it)")
            self.git = Git(git_dir)
            self.git.send_token = not self.git.has_own_header()
            if self.git.run("remote", "get-url", url.location, check=False).returncode != 0:
                raise ConfigError(f"state {self.url}: the repository has no remote {url.location!r}")
            self.remote = url.location
        else:
            if url.location.startswith("file://") and not Path(url.location[7:]).exists():
                raise ConfigError(f"state {self.url}: no git repository at {url.location[7:]}")
            self._scratch = tempfile.TemporaryDirectory(prefix="accessops-state-")
            self.git = Git(Path(self._scratch.name))
            self.git.run("init", "--quiet", "--bare", self._scratch.name)
            self.remote = url.location
        self.fetched = f"refs/accessops/fetched/{self.branch}"
        self.tree = self._fetch()
        self.ops: list[Op] = []
        self.open_runs: dict[int, ApplyRun] = {}
        self.planned: dict[int, list[Change]] = {}
        self.ids: dict[int, int] = {}  # provisional (negative) run id -> its id on the branch
        self.held: dict[str, tuple[Lock, str]] = {}  # lock key -> (lock, the lock ref's commit)
        self.intent_targets: dict[tuple[int, int], str] = {}
        self._next_pid = -1

    def close(self) -> None:
        """Remove the scratch repository."""
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    # --- fetch, replay, push --------------------------------------------------------

    def _fetch(self) -> Tree:
        try:
            # a scratch repository needs only the tip (the next commit's parent); the checkout's own is never made shallow
            found = self.git.fetch(self.remote, f"+refs/heads/{self.branch}:{self.fetched}", shallow=self._scratch is not None)
        except GitError as exc:
            raise AccessOpsError(f"state {self.url}: {exc}") from None
        if not found:
            self.git.run("update-ref", "-d", self.fetched, check=False)
            return Tree(self.git, None)
        return Tree(self.git, self.git.out("rev-parse", self.fetched))

    def _view(self) -> Tree:
        """The fetched state with this process's unpushed records applied."""
        if not self.ops:
            return self.tree
        tree, ids = self.tree.fresh(), dict(self.ids)
        for op in self.ops:
            op(tree, ids)
        return tree

    def flush(self, message: str = "accessops state") -> None:
        """One commit with every buffered record, pushed; replayed on a fresh fetch while the branch moves."""
        for _ in range(_MAX_PUSHES):
            if not self.ops:
                return
            tree, ids = self.tree.fresh(), dict(self.ids)
            for op in self.ops:
                op(tree, ids)
            if not tree.changed:
                self.ops, self.ids = [], ids
                return
            commit = tree.commit_edits(message, parent=self.tree.commit)
            try:
                verdict = self.git.push(self.remote, f"{commit}:refs/heads/{self.branch}")
            except GitError as exc:
                raise AccessOpsError(
                    f"state {self.url}: {exc}. Nothing is lost: the changes are in the target and this run's intents are on its lock; "
                    "after force-unlock the next apply settles them by what live shows"
                ) from None
            if verdict == "":
                self.git.run("update-ref", self.fetched, commit)
                self.tree, self.ids, self.ops = Tree(self.git, commit, cache=self.tree.cache), ids, []
                return
            self.tree = self._fetch()  # the branch moved: replay on what is there now
        raise AccessOpsError(f"state {self.url}: the branch {self.branch} kept moving; {_MAX_PUSHES} pushes were rejected")

    # --- runs -------------------------------------------------------------------------

    def _provisional(self) -> int:
        """A run id for a run not on the branch yet (negative; mapped to the branch's next id when pushed)."""
        self._next_pid -= 1
        return self._next_pid + 1

    def _put_run(self, tree: Tree, ids: dict[int, int], run: ApplyRun) -> None:
        if run.id not in ids:
            ids[run.id] = max([0, *_run_ids(tree), *ids.values()]) + 1
        data = run.to_json()
        data["id"] = ids[run.id]
        tree.docs[_run_path(ids[run.id])] = data

    def begin_run(
        self, target: str, actor: str, commit: str | None = None, planned: int = 0, *, changes: list[Change] | None = None, meta: dict[str, Any] | None = None
    ) -> int:
        """Open a run (kept in memory) and journal its intents on the lock ref; return a provisional id."""
        pid = self._provisional()
        lock_ids = [lock.id for lock, _ in self.held.values()]
        run = ApplyRun(pid, target, utc_now(), None, actor, commit, len(changes) if changes is not None else planned, "running")
        run.meta = {**(meta or {}), **({"lock_id": lock_ids[0]} if lock_ids else {})}
        self.open_runs[pid] = run
        self.planned[pid] = list(changes or [])
        self._journal(run, self.planned[pid])
        return pid

    def record_change(self, run_id: int, seq: int, change: Change, result: str, error: str | None = None, *, applied_to: str | None = None) -> None:
        """Log one outcome: into the open run, or (settling a killed run) into its file on the branch."""
        check_result(result)
        if applied_to is not None and result == "ok":
            self.record_applied(applied_to, change)
        elif applied_to is not None and result == "gone":
            self.forget_applied(applied_to, change)
        logged = LoggedChange(seq, change.address, change.action.value, result, None if error is None else redact_text(error), utc_now())
        run = self.open_runs.get(run_id)
        if run is not None:
            run.changes.append(logged)
            return
        target = self.intent_targets.get((run_id, seq))
        self.ops.append(lambda tree, ids: self._settle(tree, ids, run_id, logged, target))

    def record_changes(self, run_id: int, outcomes: Sequence[Outcome], *, applied_to: str | None = None) -> None:
        """:meth:`record_change` for each outcome; all buffered until the run's one commit."""
        for o in outcomes:
            self.record_change(run_id, o.seq, o.change, o.result, o.error, applied_to=applied_to)

    def _settle(self, tree: Tree, ids: dict[int, int], run_id: int, logged: LoggedChange, target: str | None) -> None:
        real = ids.get(run_id, run_id)
        data = tree.load(_run_path(real), None)
        if data and all(c["seq"] != logged.seq for c in data["changes"]):
            data["changes"] = sorted([*data["changes"], dict(logged.__dict__)], key=lambda c: c["seq"])
        if target is not None:
            path = f"{target_dir(target)}/intents.json"
            tree.docs[path] = [i for i in tree.load(path, []) if (i["run_id"], i["seq"]) != (real, logged.seq)]

    def finish_run(self, run_id: int, status: str) -> None:
        """Close the run and push everything it recorded as one commit."""
        run = self.open_runs.pop(run_id)
        run.status, run.finished_at = status, utc_now()
        self.ops.append(lambda tree, ids: self._put_run(tree, ids, run))
        self.flush(self._message(run, self.planned.pop(run_id, [])))

    def _message(self, run: ApplyRun, changes: list[Change]) -> str:
        add = sum(c.action in (Action.CREATE, Action.REPLACE) for c in changes)
        change = sum(c.action is Action.UPDATE for c in changes)
        destroy = sum(c.action in (Action.DELETE, Action.REPLACE) for c in changes)
        results: dict[str, int] = {}
        for c in run.changes:
            results[c.result] = results.get(c.result, 0) + 1
        digest = next((f"\nManifest digest: {v}" for k, v in sorted(run.meta.items()) if "digest" in k and isinstance(v, str)), "")
        return (
            f"apply {run.status}: {add} to add, {change} to change, {destroy} to destroy on {run.target}\n\n"
            f"Actor: {run.actor}\nManifests commit: {run.git_commit or 'unknown'}{digest}\n"
            f"Results: {', '.join(f'{n} {r}' for r, n in sorted(results.items())) or 'none'}\n"
        )

    def mark_interrupted(self, target: str) -> None:
        """Nothing to do: a killed run reaches the branch only through force-unlock, already ``interrupted``."""

    def runs(self, target: str | None = None, limit: int = 20) -> list[ApplyRun]:
        """The newest runs, open ones first."""
        out = [r for r in self.open_runs.values() if target is None or r.target == target]
        view = self._view()
        paths = list(reversed(view.paths("runs/")))
        for start in range(0, len(paths), 64):
            if limit >= 0 and len(out) >= limit:
                break
            batch = paths[start : start + 64]
            view.preload(batch)
            for p in batch:
                run = _run_from(view, p)
                if target is None or run.target == target:
                    out.append(run)
        return out if limit < 0 else out[:limit]

    def intents(self, target: str) -> list[Intent]:
        """Changes of a killed run, moved here by force-unlock, not yet settled."""
        found = []
        path = f"{target_dir(target)}/intents.json"
        try:
            for item in self._view().json(path, []):
                self.intent_targets[(int(item["run_id"]), int(item["seq"]))] = target
                found.append(Intent(target, int(item["run_id"]), int(item["seq"]), Change.from_json(item["change"])))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise AccessOpsError(f"state branch file {path} is damaged ({type(exc).__name__}: {exc})") from None
        return found

    def _add_intents(self, tree: Tree, ids: dict[int, int], target: str, pid: int, changes: list[Change]) -> None:
        items = tree.load(f"{target_dir(target)}/intents.json", [])
        items += [{"target": target, "run_id": ids.get(pid, pid), "seq": seq, "change": c.to_json()} for seq, c in enumerate(changes)]
        tree.docs[f"{target_dir(target)}/intents.json"] = items

    # --- last applied -----------------------------------------------------------------

    def record_applied(self, target: str, change: Change) -> None:
        """Buffer what a successful change left live."""
        if change.action is not Action.NOOP:
            self.ops.append(lambda tree, ids: self._apply(tree, target, change))

    def forget_applied(self, target: str, change: Change) -> None:
        """Buffer the removal of a resource from last applied."""
        self.ops.append(lambda tree, ids: self._apply(tree, target, Change(Action.DELETE, change.type, change.key, change.before, None)))

    def _apply(self, tree: Tree, target: str, change: Change) -> None:
        data = tree.load(org_file(target, change.key), None) or {"target": target, "organization": change.key.split("/", 1)[0], "resources": {}}
        tree.docs[org_file(target, change.key)] = data
        prev = data["resources"].get(change.address)
        res = applied_after(change, prev["attrs"] if prev else None)
        if res is None:
            data["resources"].pop(change.address, None)
        else:
            data["resources"][change.address] = resource_json(res)
        if not data["resources"]:
            tree.docs[org_file(target, change.key)] = None

    def last_applied(self, target: str) -> ResourceMap:
        """Every organization file of ``target``, merged."""
        view = self._view()
        paths = view.paths(f"{target_dir(target)}/applied/")
        view.preload(paths)
        out: ResourceMap = {}
        for p in paths:
            try:
                for addr, r in view.json(p, {}).get("resources", {}).items():
                    out[addr] = Resource(r["type"], r["key"], r["attrs"])
            except (AttributeError, KeyError, TypeError, GitError) as exc:
                raise AccessOpsError(f"state {self.url}: {p} is damaged ({exc})") from None
        return out

    # --- migrate ------------------------------------------------------------------------

    def dump(self) -> StateDump:
        """Every target's last applied, every run, every open intent."""
        out = StateDump()
        view = self._view()
        targets: set[str] = set()
        for p in view.paths("targets/"):
            if "/applied/" in p or p.endswith("/intents.json"):
                view.preload([p])
                data = view.json(p, None)
                if isinstance(data, dict):
                    targets.add(data["target"])
                elif isinstance(data, list):
                    targets.update(str(i.get("target", "")) for i in data)
        for p in view.paths("runs/"):
            targets.add(_run_from(view, p).target or "")
        for t in sorted(filter(None, targets)):
            applied = self.last_applied(t)
            if applied:
                out.applied[t] = applied
            out.intents.extend(self.intents(t))
        out.runs = list(reversed(self.runs(None, limit=-1)))
        return out

    def load(self, dump: StateDump) -> None:
        """Add a dump as one commit; runs are renumbered after those on the branch."""
        for target, resources in dump.applied.items():
            for res in resources.values():
                self.record_applied(target, Change(Action.CREATE, res.type, res.key, None, dict(res.attrs)))
        renumber: dict[int, int] = {}
        for run in dump.runs:
            copy = ApplyRun.from_json(run.to_json())
            copy.id = renumber[run.id] = self._provisional()
            self.ops.append(lambda tree, ids, copy=copy: self._put_run(tree, ids, copy))  # type: ignore[misc]
        by_run: dict[tuple[str, int], list[Intent]] = {}
        for intent in dump.intents:
            by_run.setdefault((intent.target, intent.run_id), []).append(intent)
        for (target, run_id), items in by_run.items():
            self.ops.append(lambda tree, ids, t=target, r=renumber.get(run_id, run_id), it=items: self._load_intents(tree, ids, t, r, it))  # type: ignore[misc]
        self.flush(f"state migrate: {sum(len(r) for r in dump.applied.values())} resource(s), {len(dump.runs)} run(s)\n")

    def _load_intents(self, tree: Tree, ids: dict[int, int], target: str, run_id: int, items: list[Intent]) -> None:
        data = tree.load(f"{target_dir(target)}/intents.json", [])
        data += [{"target": target, "run_id": ids.get(run_id, run_id), "seq": i.seq, "change": i.change.to_json()} for i in items]
        tree.docs[f"{target_dir(target)}/intents.json"] = data
