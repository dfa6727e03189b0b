"""Compare a saved plan with the plan re-derived at apply time: only what the manifests say may apply.

Pure: two plans in, the differences out, one line each. Notes and flags are
display only and are not compared; the action, ``before`` and ``after`` of
every pending change and the target are.
"""

from __future__ import annotations

import json
from typing import Any

from accessops.plan.change import Change, Plan


def printable(text: object) -> str:
    """``text`` with control characters escaped: a forged plan's names must not make lines or terminal codes."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in str(text))


def _essence(change: Change) -> str:
    return json.dumps([change.action.value, change.before, change.after], sort_keys=True, separators=(",", ":"), default=str)


def _differing(a: dict[str, Any] | None, b: dict[str, Any] | None) -> list[str]:
    a, b = a or {}, b or {}
    return sorted(k for k in set(a) | set(b) if json.dumps(a.get(k), sort_keys=True, default=str) != json.dumps(b.get(k), sort_keys=True, default=str))


def plan_differences(saved: Plan, derived: Plan) -> list[str]:
    """Every way ``saved`` differs from ``derived`` (empty when they would apply the very same changes)."""
    out: list[str] = []
    if saved.target != derived.target:
        out.append(f"target: the saved plan is for {printable(saved.target)}, the manifests' settings for {derived.target}")
    mine = {c.address: c for c in saved.pending}
    theirs = {c.address: c for c in derived.pending}
    for key in sorted(mine.keys() | theirs.keys()):
        have, want = mine.get(key), theirs.get(key)
        addr = printable(key)
        if want is None:
            assert have is not None
            out.append(f"{addr}: the saved plan would {have.action.value} it, which is not what the manifests plan")
        elif have is None:
            out.append(f"{addr}: the manifests plan to {want.action.value} it, the saved plan does not")
        elif _essence(have) != _essence(want):
            if have.action is not want.action:
                out.append(f"{addr}: the saved plan would {have.action.value} it, the manifests plan to {want.action.value} it")
            else:
                attrs = _differing(have.before, want.before) and ["before"] or _differing(have.after, want.after)
                out.append(f"{addr}: the saved plan's {have.action.value} differs in {printable(', '.join(attrs))}")
    return out
