"""Name the team behind each per-person grant in the plan (issue 13).

A target without group grants receives a team grant as one grant per team
member. Each such change, and each drift on such a grant, says which team
grant produced it ("via team support"), so a reviewer reads the plan, and
drift, against the manifest line they would edit. Display only: apply never
decides anything from these notes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from accessops.model.grants import describe
from accessops.plan.change import Plan

if TYPE_CHECKING:
    from accessops.engine import Context


def annotate(plan: Plan, origins: dict[str, tuple[str, ...]]) -> None:
    """Add a ``via team …`` note to every change and drift whose grant came from a team or default role."""
    if not origins:
        return
    touched: dict[str, list[str]] = {}
    for i, change in enumerate(plan.changes):
        found = origins.get(change.address)
        if found:
            plan.changes[i] = replace(change, notes=(*change.notes, describe(found)))
            touched[change.address] = list(found)
    for i, drift in enumerate(plan.drift):
        found = origins.get(drift.address)
        if found:
            plan.drift[i] = replace(drift, notes=(*drift.notes, f"granted {describe(found)}"))
            touched[drift.address] = list(found)
    if touched:
        plan.extras["grant_origins"] = dict(sorted(touched.items()))


def plan_hook(ctx: "Context", plan: Plan) -> None:
    """The pipeline step: origins come from the compiled manifests."""
    if ctx.compiled is not None:
        annotate(plan, ctx.compiled.origins)
