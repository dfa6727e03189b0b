"""The applier: make a plan's changes live through ``Adapter.apply``, logging each.

Changes run in plan order. An adapter that declares ``batch_writes`` gets
each run of consecutive independent changes (same phase, same resource type)
at once through ``Adapter.apply_batch``, cut at its ``batch_limit`` (the local
tenant: 500 changes per transaction), and reports one outcome per change;
the outcomes are recorded exactly as if the changes had run one by one, each
batch's in one state transaction once the adapter has returned. With a parallelism above 1, and only for adapters
that declare ``parallel_writes``, each run of consecutive independent changes
(same phase, same resource type) is spread over at most that many threads;
changes that share a parent object (memberships of one team) stay in one
lane, in order, so they never race. A failure stops the run: nothing new is
started, what was done is recorded, the rest is "not attempted", and the
next plan shows exactly what remains. An object that vanished meanwhile
(:class:`ItemGoneError`) is reported and skipped.
"""

from __future__ import annotations

import getpass
import socket
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING

from accessops.adapters.base import ItemGoneError
from accessops.apply.records import Outcome
from accessops.errors import describe
from accessops.plan.change import Action, Change, Plan
from accessops.plan.drift import cascade_effects
from accessops.progress import Progress

if TYPE_CHECKING:
    from accessops.engine import Context

OnChange = Callable[[int, Change, str], None]


@dataclass
class ApplyResult:
    """What an apply did: per change, ok / failed / gone / not attempted."""

    done: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    gone: list[tuple[Change, str]] = field(default_factory=list)
    not_done: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every change was made."""
        return not self.failed and not self.not_done


def actor() -> str:
    """Who runs the apply, for the log: user@host."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _message(exc: BaseException) -> str:
    return describe(exc)  # a database error names its file


class _Recorder:
    """Turns each change's outcome into the result, the state store and the apply log (main thread only).

    With ``batched``, outcomes wait in :attr:`pending` until :meth:`flush`
    writes them in one state transaction; the applier flushes after each
    batch the adapter committed, so a record is never written before its
    change is live, and a kill in between leaves intents the next run settles.
    """

    def __init__(self, ctx: "Context", target_url: str, run_id: int, result: ApplyResult, on_change: OnChange | None, *, batched: bool = False) -> None:
        self.ctx, self.target_url, self.run_id = ctx, target_url, run_id
        self.result, self.on_change = result, on_change
        self.batched = batched
        self.pending: list[tuple[Outcome, str]] = []  # each outcome and what to tell on_change once recorded

    def ok(self, i: int, change: Change) -> None:
        # the log line, the last-applied record and the intent's confirmation are one transaction
        self.result.done.append(change)
        self._record(Outcome(i, change, "ok"), "ok")
        # a deleted custom role leaves its uses live without it: remember that too
        if change.type == "custom_role" and change.action is Action.DELETE:
            self.flush()  # the cascade is read from the last applied state, this change included
            for effect in cascade_effects(self.ctx.state.last_applied(self.target_url), change):
                self.ctx.state.record_applied(self.target_url, effect)

    def gone(self, i: int, change: Change, exc: BaseException) -> None:
        self.result.gone.append((change, str(exc)))
        self._record(Outcome(i, change, "gone", str(exc)), "gone")

    def failed(self, i: int, change: Change, exc: BaseException) -> None:
        message = _message(exc)
        self.result.failed.append((change, message))
        self._record(Outcome(i, change, "failed", message), "failed")

    def not_attempted(self, i: int, change: Change) -> None:
        self.result.not_done.append(change)
        self._record(Outcome(i, change, "not attempted"), "")

    def _record(self, outcome: Outcome, tell: str) -> None:
        self.pending.append((outcome, tell))
        if not self.batched:
            self.flush()

    def flush(self) -> None:
        """Write the pending outcomes (log lines, last applied, intent confirmations) in one transaction, then report them."""
        if not self.pending:
            return
        pending = self.pending
        outcomes = [outcome for outcome, _ in pending]
        # ok and gone change the last applied state; failed and not attempted leave it
        self.ctx.state.record_changes(self.run_id, outcomes, applied_to=self.target_url)
        self.pending = []
        if self.on_change:
            for outcome, tell in pending:
                if tell:
                    self.on_change(outcome.seq, outcome.change, tell)


def run_meta(plan: Plan) -> dict[str, object]:
    """What the apply log keeps of a plan: its scalar metadata (commit, creation time) and the manifest digest.

    The digest of a saved plan's manifests (each file's SHA-256, the settings
    file's, the commit) is kept as one SHA-256 of its canonical JSON, with its
    commit and file count, so the log names exactly which manifests were applied.
    """
    import hashlib
    import json

    meta: dict[str, object] = {k: v for k, v in sorted(plan.meta.items()) if isinstance(v, (str, int, float, bool)) or "digest" in k}
    manifests = getattr(plan, "manifests", None)
    if isinstance(manifests, dict) and manifests:
        canonical = json.dumps(manifests, sort_keys=True, separators=(",", ":"), default=str)
        meta["manifest_digest"] = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        meta["manifest_files"] = len(manifests.get("files") or [])
        if manifests.get("commit"):
            meta["manifest_commit"] = manifests["commit"]
    return meta


def parallelism_for(ctx: "Context", requested: int | None) -> int:
    """The bound on concurrent writes: the flag, else ``[apply] parallelism``, else 4; 1 for adapters that write one at a time."""
    if not getattr(ctx.adapter, "parallel_writes", False):
        return 1
    if requested is None:
        requested = int(ctx.settings.section("apply").get("parallelism", 4))
    return max(1, requested)


def lane_of(change: Change) -> str:
    """Changes in one lane run in order: memberships of one parent, or one object."""
    parts = change.key.split("/")
    if change.type.endswith("_member"):
        return "/".join(parts[:2])
    return change.key


def apply_changes(
    ctx: "Context",
    plan: Plan,
    *,
    commit: str | None = None,
    on_change: OnChange | None = None,
    parallelism: int = 1,
) -> ApplyResult:
    """Apply the plan's changes under the target's lock (held by the caller), logging each."""
    from accessops.secrets import redact_url  # URL redaction lives with secrets; nothing here imports the engine

    target_url = redact_url(ctx.target.url)
    result = ApplyResult()
    changes = plan.pending
    # the intents (every change, before any is made) are durable before the first write
    run_id = ctx.state.begin_run(target_url, actor(), commit, changes=changes, meta=run_meta(plan))
    batched = ctx.adapter.writes_in_batches()
    record = _Recorder(ctx, target_url, run_id, result, on_change, batched=batched)
    progress = Progress("applying", len(changes))
    try:
        if batched:
            _batched(ctx, changes, record, progress)
        elif parallelism <= 1:
            _sequential(ctx, changes, record, progress)
        else:
            _parallel(ctx, changes, record, progress, parallelism)
    finally:
        progress.close()
        ctx.state.finish_run(run_id, "ok" if result.ok else "failed")
    return result


def _sequential(ctx: "Context", changes: list[Change], record: _Recorder, progress: Progress) -> None:
    for i, change in enumerate(changes):
        progress.step(i)
        try:
            ctx.adapter.apply(change)
        except ItemGoneError as exc:
            record.gone(i, change, exc)
            continue
        except Exception as exc:
            record.failed(i, change, exc)
            for j in range(i + 1, len(changes)):
                record.not_attempted(j, changes[j])
            return
        record.ok(i, change)
    progress.step(len(changes))  # the closing line reads N/N


def runs_of(changes: list[Change]) -> list[list[tuple[int, Change]]]:
    """Consecutive changes of one phase and resource type, with their plan index: each run is independent."""
    return [list(g) for _, g in groupby(enumerate(changes), key=lambda ic: ic[1].sort_key()[:3])]


def batches_of(changes: list[Change], limit: int | None) -> list[list[tuple[int, Change]]]:
    """Each run (:func:`runs_of`) cut into batches of at most ``limit`` changes, in plan order."""
    out: list[list[tuple[int, Change]]] = []
    for run in runs_of(changes):
        step = limit if limit and limit > 0 else len(run)
        out.extend(run[k : k + step] for k in range(0, len(run), step))
    return out


def _batched(ctx: "Context", changes: list[Change], record: _Recorder, progress: Progress) -> None:
    """Hand each batch to ``Adapter.apply_batch``; record its outcomes per change, in plan order, in one state transaction."""
    stopped = False
    done = 0
    for batch in batches_of(changes, ctx.adapter.batch_limit):
        if stopped:
            for i, change in batch:
                record.not_attempted(i, change)
            continue
        progress.step(done)
        outcomes = ctx.adapter.apply_batch([change for _, change in batch])
        for k, (i, change) in enumerate(batch):
            outcome = outcomes[k] if k < len(outcomes) else None
            if k >= len(outcomes):
                stopped = True
                record.not_attempted(i, change)
            elif outcome is None:
                record.ok(i, change)
            elif isinstance(outcome, ItemGoneError):
                record.gone(i, change, outcome)
            else:
                stopped = True
                record.failed(i, change, outcome)
        record.flush()  # the batch is live: now its records
        done += len(batch)
    record.flush()  # the not-attempted tail, in one transaction
    progress.step(done)


def _parallel(ctx: "Context", changes: list[Change], record: _Recorder, progress: Progress, bound: int) -> None:
    stop = threading.Event()
    batches = runs_of(changes)
    done = 0
    with ThreadPoolExecutor(max_workers=bound, thread_name_prefix="accessops-apply") as pool:
        for batch in batches:
            if stop.is_set():
                for i, change in batch:
                    record.not_attempted(i, change)
                continue
            lanes: dict[str, list[tuple[int, Change]]] = {}
            for i, change in batch:
                lanes.setdefault(lane_of(change), []).append((i, change))
            outcomes: dict[int, tuple[str, BaseException | None]] = {}
            futures: set[Future[None]] = {pool.submit(_run_lane, ctx, lane, stop, outcomes) for lane in lanes.values()}
            while futures:
                finished, futures = wait(futures, return_when=FIRST_COMPLETED)
                for fut in finished:
                    fut.result()
            for i, change in batch:  # record in plan order once the batch settles
                outcome, exc = outcomes.get(i, ("not attempted", None))
                if outcome == "ok":
                    record.ok(i, change)
                elif outcome == "gone":
                    assert exc is not None
                    record.gone(i, change, exc)
                elif outcome == "failed":
                    assert exc is not None
                    record.failed(i, change, exc)
                else:
                    record.not_attempted(i, change)
                done += 1
                progress.step(done)


def _run_lane(ctx: "Context", lane: list[tuple[int, Change]], stop: threading.Event, outcomes: dict[int, tuple[str, BaseException | None]]) -> None:
    for i, change in lane:
        if stop.is_set():
            return
        try:
            ctx.adapter.apply(change)
        except ItemGoneError as exc:
            outcomes[i] = ("gone", exc)
            continue
        except Exception as exc:
            outcomes[i] = ("failed", exc)
            stop.set()
            return
        outcomes[i] = ("ok", None)
