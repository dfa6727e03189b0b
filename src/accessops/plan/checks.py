"""Refusals gathered while planning (safety guards, failing policies), raised after display.

Steps that judge a plan put :class:`~accessops.errors.Refusal` objects in
``plan.extras["refusals"]`` (as dicts); the plan is still shown so the
reader sees what was refused, then :func:`raise_if_refused` exits 3.
"""

from __future__ import annotations

from accessops.errors import Refusal, RefusedError
from accessops.plan.change import Plan


def add_refusal(plan: Plan, refusal: Refusal) -> None:
    """Record a refusal in the plan's data."""
    plan.extras.setdefault("refusals", []).append(
        {"guard": refusal.guard, "message": refusal.message, "override": refusal.override}
    )


def refusals(plan: Plan) -> list[Refusal]:
    """The refusals recorded in a plan."""
    return [Refusal(r["guard"], r["message"], r.get("override", "")) for r in plan.extras.get("refusals", [])]


def raise_if_refused(plan: Plan) -> None:
    """Raise :class:`RefusedError` (exit 3) when anything refused the plan."""
    found = refusals(plan)
    if found:
        raise RefusedError(found)
