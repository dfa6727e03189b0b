"""Changes and the plan: data first, in Terraform's JSON plan shape.

The JSON form is the contract: renderers read it, saved plans are it, and
plan-policy tools that read Terraform plans read it (the shape itself lives in
:mod:`accessops.plan.terraform_json`). ``before`` is the live object (``None``
for create), ``after`` the object after apply (``None`` for delete). A
change's ``notes`` are for display only; apply never decides anything from them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from accessops.model.resource import RESOURCE_TYPES, Resource, ResourceMap
from accessops.plan import terraform_json as tfjson

FORMAT_VERSION = tfjson.FORMAT_VERSION


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
        """Terraform's ``resource_changes[]`` entry, notes and flags under ``accessops``."""
        return tfjson.change_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Change":
        """Inverse of :meth:`to_json` (also reads the shape of accessops 0.1)."""
        n = tfjson.native(data, check=True)
        return cls(
            action=Action.from_terraform(n["actions"]),
            type=n["type"],
            key=n["key"],
            before=n["before"],
            after=n["after"],
            notes=tuple(n["notes"]),
            flags=tuple(n["flags"]),
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
        """Terraform's ``resource_drift[]`` entry, the origin and notes under ``accessops``."""
        return tfjson.drift_json(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Drift":
        """Inverse of :meth:`to_json` (also reads the shape of accessops 0.1)."""
        n = tfjson.native(data, check=True)
        return cls(n["type"], n["key"], Origin(n["origin"] or Origin.LIVE.value), n["before"], n["after"], tuple(n["notes"]))


def fingerprint(attrs: dict[str, Any] | None) -> str:
    """A stable hash of one live object, so a saved plan can tell it changed."""
    raw = json.dumps(attrs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass
class Plan:
    """The plan: ordered changes, drift, fingerprints of the live objects touched.

    ``extras`` carries sections added by later pipeline steps (access delta,
    warnings, policy results) under their own top-level JSON keys. ``prior``
    is the live state the plan was made against (Terraform's ``prior_state``;
    ``planned_values`` is it with the changes made); ``timestamp`` is when the
    plan was made (RFC 3339, UTC), set by the engine so the planner stays pure.
    """

    changes: list[Change]
    drift: list[Drift] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)
    target: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    prior: ResourceMap = field(default_factory=dict)
    timestamp: str = ""
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

    def to_json(self, *, states: bool = True) -> dict[str, Any]:
        """The machine form every renderer and saved plan uses: Terraform's JSON plan, plus extras.

        ``states=False``: without the sections only tools read (see :func:`~accessops.plan.terraform_json.plan_document`).
        """
        data = tfjson.plan_document(self, states=states)
        data.update(self.extras)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Plan":
        """Inverse of :meth:`to_json` (also reads the plan JSON of accessops 0.1)."""
        own = tfjson.own(data)
        return cls(
            # no-op entries are derived from prior_state, so they are not kept as changes
            changes=[Change.from_json(c) for c in data.get("resource_changes", []) if not tfjson.is_noop(c)],
            drift=[Drift.from_json(d) for d in data.get("resource_drift", [])],
            fingerprints=dict(own.get("fingerprints", {})),
            target=str(own.get("target", "")),
            meta=dict(own.get("meta", {})),
            extras={k: v for k, v in data.items() if k not in _KNOWN},
            prior=tfjson.prior_from_json(data),
            timestamp=str(data.get("timestamp", "")),
        )


#: Top-level keys :meth:`Plan.to_json` writes itself (the rest are extras).
_KNOWN = frozenset(
    {
        "format_version", "terraform_version", "planned_values", "resource_drift", "resource_changes",
        "output_changes", "prior_state", "configuration", "timestamp", "applyable", "complete", "errored", "relevant_attributes",
        tfjson.EXTRA, "accessops_version", "target", "summary", "fingerprints", "meta",
    }
)


def resource_of(change: Change) -> Resource:
    """The resource a change leaves behind (``after``), or removes (``before``)."""
    return Resource(change.type, change.key, dict(change.after if change.after is not None else change.before or {}))
