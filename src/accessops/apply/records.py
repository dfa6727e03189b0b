"""What every state backend stores, in one shape: locks, apply runs, logged changes, intents.

The backends (SQLite, git, PostgreSQL) differ only in where these live;
the records, their JSON forms and the merge rule for last-applied
attributes are shared here so a state migrated between backends reads the
same.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from accessops.adapters.local_write import utc_now
from accessops.errors import AccessOpsError
from accessops.model.resource import RESOURCE_TYPES, Resource
from accessops.plan.change import Action, Change

#: The results a logged change may have.
RESULTS = ("ok", "failed", "gone", "skipped", "not attempted")


class LockedError(AccessOpsError):
    """Another apply holds the target's lock."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


@dataclass(frozen=True)
class Lock:
    """Who holds a target's lock; ``id`` names this one holding, for ``force-unlock``."""

    target: str
    holder: str
    host: str
    pid: int
    since: str
    id: str = ""

    @classmethod
    def mine(cls, target: str, holder: str) -> "Lock":
        """A new lock for this process."""
        return cls(target, holder, socket.gethostname(), os.getpid(), utc_now(), uuid.uuid4().hex[:16])

    def __str__(self) -> str:
        return f"{self.holder} (pid {self.pid} on {self.host}) since {self.since}"

    @property
    def stale(self) -> bool:
        """Held by a process of this host that no longer runs."""
        return self.host == socket.gethostname() and not _pid_alive(self.pid)

    def refusal(self, store_url: str) -> LockedError:
        """The error for someone who wants this lock: who, since when, and how to break it (as Terraform says it)."""
        gone = " That process is gone." if self.stale else ""
        return LockedError(
            f"target {self.target} is locked by {self}; lock id {self.id or '?'}.{gone} "
            f"Wait for that apply (--lock-timeout 5m), or if it is dead: accessops force-unlock {self.id or '?'} --state {store_url}"
        )

    def to_json(self) -> dict[str, Any]:
        """JSON form (git backend, migrate)."""
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Lock":
        """Inverse of :meth:`to_json`."""
        return cls(str(data["target"]), str(data["holder"]), str(data["host"]), int(data["pid"]), str(data["since"]), str(data.get("id", "")))


@dataclass
class LoggedChange:
    """One change of an apply run, as logged."""

    seq: int
    address: str
    action: str
    result: str
    error: str | None
    at: str


@dataclass
class ApplyRun:
    """One apply run and its changes; ``meta`` holds e.g. the plan's manifest digest."""

    id: int
    target: str
    started_at: str
    finished_at: str | None
    actor: str
    git_commit: str | None
    planned: int
    status: str
    changes: list[LoggedChange] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON form for ``accessops log --format json`` (and the git backend's run files)."""
        data = dict(self.__dict__)
        data["changes"] = [dict(c.__dict__) for c in self.changes]
        data["meta"] = dict(self.meta)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ApplyRun":
        """Inverse of :meth:`to_json`."""
        run = cls(
            int(data["id"]),
            str(data["target"]),
            str(data["started_at"]),
            None if data.get("finished_at") is None else str(data["finished_at"]),
            str(data["actor"]),
            None if data.get("git_commit") is None else str(data["git_commit"]),
            int(data.get("planned") or 0),
            str(data["status"]),
        )
        run.changes = [LoggedChange(**c) for c in data.get("changes", [])]
        run.meta = dict(data.get("meta") or {})
        return run


@dataclass(frozen=True)
class Intent:
    """A change an apply announced before making it, not yet confirmed by its outcome."""

    target: str
    run_id: int
    seq: int
    change: Change


@dataclass(frozen=True)
class Outcome:
    """One change's outcome, to be logged (``StateStore.record_changes``): its plan index, result and error."""

    seq: int
    change: Change
    result: str
    error: str | None = None


def intent_json(change: Change) -> dict[str, Any]:
    """A change as the databases store its intent: accessops's own fields only (a tenth of its Terraform form, written for every change)."""
    data: dict[str, Any] = {"action": change.action.value, "type": change.type, "key": change.key, "before": change.before, "after": change.after}
    if change.notes:
        data["notes"] = list(change.notes)
    if change.flags:
        data["flags"] = list(change.flags)
    return data


def intent_change(data: Any) -> Change:
    """Inverse of :func:`intent_json`; also reads the Terraform form intents were stored in before. ValueError when it is neither."""
    if not isinstance(data, dict):
        raise ValueError("not a change")
    if "action" not in data:
        return Change.from_json(data)
    type_, key, before, after = data.get("type"), data.get("key"), data.get("before"), data.get("after")
    if type_ not in RESOURCE_TYPES or not isinstance(key, str) or len(key.split("/")) != len(RESOURCE_TYPES[type_].key_parts):
        raise ValueError(f"not a change of an accessops resource: {type_!r} {key!r}")
    if not all(side is None or isinstance(side, dict) for side in (before, after)):
        raise ValueError("a change's before and after are objects")
    notes = tuple(str(n) for n in data.get("notes") or [])
    flags = tuple(str(f) for f in data.get("flags") or [])
    return Change(Action(data["action"]), type_, key, before, after, notes, flags)


def check_result(result: str) -> None:
    """Refuse a result outside the closed set (the SQLite schema checks it too)."""
    if result not in RESULTS:
        raise ValueError(f"unknown change result {result!r} (expected one of {', '.join(RESULTS)})")


def applied_after(change: Change, previous: dict[str, Any] | None) -> Resource | None:
    """What a successful change leaves in the last-applied state: the resource, or None when removed.

    Live-only attributes (status, times) are dropped, and an update, which may
    name only what it changed, is merged over the previous record.
    """
    if change.action is Action.DELETE:
        return None
    readonly = RESOURCE_TYPES[change.type].readonly
    attrs = {k: v for k, v in (change.after or {}).items() if k not in readonly}
    if change.action is Action.UPDATE:
        attrs = {**(previous or {}), **attrs}
    return Resource(change.type, change.key, attrs)


def applied_by_outcomes(outcomes: Sequence[Outcome], stored: Callable[[str], dict[str, Any] | None]) -> dict[str, Resource | None]:
    """What a batch of outcomes does to the last-applied state: address -> the resource it leaves, or None (dropped).

    ``ok`` records what the change left, ``gone`` forgets the object, the
    other results leave it. Each address ends as its last outcome leaves it;
    an update merges over what an earlier outcome of the batch recorded, else
    over ``stored(address)``, the backend's row.
    """
    final: dict[str, Resource | None] = {}
    for o in outcomes:
        change = o.change
        if o.result == "gone":
            final[change.address] = None
        elif o.result == "ok" and change.action is not Action.NOOP:
            previous = None
            if change.action is Action.UPDATE:
                if change.address in final:
                    earlier = final[change.address]
                    previous = earlier.attrs if earlier else None
                else:
                    previous = stored(change.address)
            final[change.address] = applied_after(change, previous)
    return final


def resource_json(res: Resource) -> dict[str, Any]:
    """One last-applied resource as JSON."""
    return {"type": res.type, "key": res.key, "attrs": res.attrs}
