"""The plan step that adds access insight: the delta, lint warnings and policy results.

Registered by the engine in ``PLAN_HOOKS``; it reads only what the context
already holds (desired model, live resources) and calls the pure functions.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from accessops.access.delta import DELTA_LIMIT, apply_changes, plan_access_delta
from accessops.access.engine import AccessEngine
from accessops.access.lint import lint
from accessops.access.policies import evaluate_policies, model_profiles
from accessops.errors import Refusal
from accessops.manifest.profiles import switched_profiles
from accessops.plan.change import Plan
from accessops.plan.checks import add_refusal
from accessops.plan.simulate import configured


def access_plan_hook(ctx: Any, plan: Plan, lint_errors: Collection[str] | None = None) -> None:
    """Put ``access_delta`` and ``warnings`` in the plan; record a refusal (exit 3) per failing policy.

    Policies are checked on what the plan leaves behind: live with the changes applied.
    """
    model = ctx.model
    if model is None or ctx.compiled is None:
        return
    profiles = model_profiles(model)
    # One simulated after-state and one engine over it serve the delta, lint
    # and policies; lint ignores invitation status, so the configured state
    # (invitees as if accepted) fits all three.
    after = configured(ctx.after(plan.pending)) if hasattr(ctx, "after") else configured(apply_changes(ctx.live, plan.pending))
    engine = AccessEngine(after, profiles)
    cut: dict[str, int] = {}
    # a profile switch: live is judged by the profiles it names, so a role that stops bypassing shows as lost
    switched = switched_profiles(model, ctx.live)
    plan.extras["access_delta"] = plan_access_delta(
        ctx.compiled.resources, ctx.live, plan.changes, profiles, DELTA_LIMIT, cut, after=after, after_engine=engine,
        before_profiles={**profiles, **switched} if switched else None,
    )
    if cut:
        plan.extras["access_delta_cut"] = cut
        plan.extras.setdefault("warnings", []).append({
            "code": "access_delta.cut",
            "message": f"access delta stops at {cut['limit']} capabilities: {cut['members_not_compared']} more member(s) not compared (accessops explain EMAIL shows one)",
        })
    if lint_errors is None:
        lint_errors = ctx.settings.section("lint").get("errors", []) if getattr(ctx, "settings", None) else []
    plan.extras.setdefault("warnings", []).extend(w.to_json() for w in lint(after, profiles, lint_errors, engine.views))  # other steps warn too
    plan.extras.setdefault("warnings", []).extend(auto_join_warnings(plan))
    failures = evaluate_policies(model, after, engine)
    plan.extras["policy_failures"] = [f.to_json() for f in failures]
    for failure in failures:  # shown with the plan, then exit 3
        add_refusal(plan, Refusal("policy", str(failure)))


def auto_join_warnings(plan: Plan) -> list[dict[str, str]]:
    """Seed 004 auto join, turned on by this plan: say what accessops counts and what the product does.

    accessops counts every organization member as a member of an auto-join
    space (docs/access-model.md, seed decisions); the product adds only
    people who join after the toggle, so the access delta may over-report.
    """
    out = []
    for change in plan.pending:
        if change.type != "space" or not (change.after or {}).get("auto_join") or (change.before or {}).get("auto_join"):
            continue
        out.append({
            "code": "auto_join.existing_members",
            "message": f"space {change.key} gets auto join: accessops counts every member of the organization as a member (via auto join); "
            "the product adds only people who join from now on, so list existing members explicitly if they should join too",
        })
    return out
