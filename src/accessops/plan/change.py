"""Changes and the plan: data first, in Terraform's JSON plan shape.

The JSON form is the contract: renderers read it, saved plans are it, and
plan-policy tools that read Terraform plans read it. ``before`` is the live
object (``None`` for create), ``after`` the object after apply (``None`` for
delete). A change's ``notes`` are for display only; apply never decides
anything from them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from accessops.model.resource import RESOURCE_TYPES, Resource

FORMAT_VERSION = "1.2"


class Action(str, Enum):
    """The closed set of actions, each with its Terraform action list and symbol."""

    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"

    @property
    def terraform(self) -> list[str]:
        """Terraform's ``change.actions`` for this action."""
        return ["delete", "create"] if self is Action.REPLACE else [self.value]

    @property
    def symbol(self) -> str:
        """``+ ~ - -/+``; nothing for no-op."""
        return {"no-op": " ", "create": "+", "update": "~", "delete": "-", "replace": "-/+"}[self.value]

    @classmethod
    def from_terraform(cls, actions: list[str]) -> "Action":
        """Inverse of :attr:`terraform`."""
        return cls.REPLACE if actions == ["delete", "create"] else cls(actions[0])


# Within one resource type: replaces, then updates, then creates.
_PHASE = {Action.REPLACE: 0, Action.UPDATE: 1, Action.CREATE: 2, Action.NOOP: 3, Action.DELETE: 4}


@dataclass(frozen=True, slots=True)
class Change:
    """One planned change to one resource."""

    action: Action
    type: str
    key: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    notes: tuple[str, ...] = ()  # display only
    flags: tuple[str, ...] = ()  # e.g. pending_acceptance, irreversible, cascade

    @property
    def address(self) -> str:
        """``type["key"]``."""
        return f'{self.type}["{self.key}"]'

    def sort_key(self) -> tuple[int, int, int, str]:
        """Creates and updates first, parents before children (a role exists before it
        is granted); then deletes, children before parents (grants are revoked
        before their role goes)."""
        order = RESOURCE_TYPES[self.type].order
        if self.action is Action.DELETE:
            return (1, -order, 0, self.key)
        return (0, order, _PHASE[self.action], self.key)

    def changed_attrs(self) -> list[str]:
        """Attribute names whose value differs between before and after."""
        before, after = self.before or {}, self.after or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))

    def to_json(self) -> dict[str, Any]:
        """Terraform's ``resource_changes[]`` entry, plus accessops notes and flags."""
        data: dict[str, Any] = {
            "address": self.address,
            "mode": "managed",
            "type": self.type,
            "name": self.key,
            "change": {"actions": self.action.terraform, "before": self.before, "after": self.after},
        }
        if self.notes:
            data["notes"] = list(self.notes)
        if self.flags:
            data["flags"] = list(self.flags)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Change":
        """Inverse of :meth:`to_json`."""
        return cls(
            action=Action.from_terraform(data["change"]["actions"]),
            type=data["type"],
            key=data["name"],
            before=data["change"]["before"],
            after=data["change"]["after"],
            notes=tuple(data.get("notes", ())),
            flags=tuple(data.get("flags", ())),
        )


class Origin(str, Enum):
    """Where a drifted difference came from, judged against the last apply."""

    GIT = "changed in git"
    LIVE = "changed live"
    BOTH = "changed in git and live"


@dataclass(frozen=True, slots=True)
class Drift:
    """A difference between live and the last applied state ("changed outside accessops")."""

    type: str
    key: str
    origin: Origin
    last_applied: dict[str, Any] | None
    live: dict[str, Any] | None
    notes: tuple[str, ...] = ()  # display only (e.g. the team grant behind a per-person grant)

    @property
    def address(self) -> str:
        """``type["key"]``."""
        return f'{self.type}["{self.key}"]'

    def to_json(self) -> dict[str, Any]:
        """Terraform's ``resource_drift[]`` entry, with the origin."""
        before, after = self.last_applied, self.live
        actions = ["create"] if before is None else ["delete"] if after is None else ["update"]
        data: dict[str, Any] = {
            "address": self.address,
            "mode": "managed",
            "type": self.type,
            "name": self.key,
            "origin": self.origin.value,
            "change": {"actions": actions, "before": before, "after": after},
        }
        if self.notes:
            data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Drift":
        """Inverse of :meth:`to_json`."""
        return cls(data["type"], data["name"], Origin(data["origin"]), data["change"]["before"], data["change"]["after"], tuple(data.get("notes", ())))


def fingerprint(attrs: dict[str, Any] | None) -> str:
    """A stable hash of one live object, so a saved plan can tell it changed."""
    raw = json.dumps(attrs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass
class Plan:
    """The plan: ordered changes, drift, fingerprints of the live objects touched.

    ``extras`` carries sections added by later pipeline steps (access delta,
    warnings, policy results) under their own top-level JSON keys.
    """

    changes: list[Change]
    drift: list[Drift] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    target: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    #: digest of the manifest set the plan was derived from (each file's path and
    #: SHA-256, the settings file's, the git commit); a plain dict carried by the
    #: saved-plan envelope and the apply log, not part of :meth:`to_json`
    manifests: dict[str, Any] = field(default_factory=dict)

    @property
    def pending(self) -> list[Change]:
        """Changes that are not no-ops."""
        return [c for c in self.changes if c.action is not Action.NOOP]

    def counts(self) -> dict[str, int]:
        """Terraform's summary numbers: add, change, destroy (a replace counts as add and destroy)."""
        add = sum(c.action in (Action.CREATE, Action.REPLACE) for c in self.changes)
        change = sum(c.action is Action.UPDATE for c in self.changes)
        destroy = sum(c.action in (Action.DELETE, Action.REPLACE) for c in self.changes)
        return {"add": add, "change": change, "destroy": destroy}

    def to_json(self) -> dict[str, Any]:
        """The machine form every renderer and saved plan uses."""
        from accessops import __version__

        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "accessops_version": __version__,
            "target": self.target,
            "resource_drift": [d.to_json() for d in self.drift],
            "resource_changes": [c.to_json() for c in self.pending],
            "summary": self.counts(),
            "fingerprints": dict(sorted(self.fingerprints.items())),
            "meta": self.meta,
        }
        data.update(self.extras)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Plan":
        """Inverse of :meth:`to_json`."""
        known = {"format_version", "accessops_version", "target", "resource_drift", "resource_changes", "summary", "fingerprints", "meta"}
        return cls(
            changes=[Change.from_json(c) for c in data.get("resource_changes", [])],
            drift=[Drift.from_json(d) for d in data.get("resource_drift", [])],
            fingerprints=dict(data.get("fingerprints", {})),
            target=data.get("target", ""),
            meta=dict(data.get("meta", {})),
            extras={k: v for k, v in data.items() if k not in known},
        )


def resource_of(change: Change) -> Resource:
    """The resource a change leaves behind (``after``), or removes (``before``)."""
    return Resource(change.type, change.key, dict(change.after if change.after is not None else change.before or {}))
