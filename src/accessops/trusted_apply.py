"""``apply PLANFILE``: a saved plan is a proposal; only its manifests and live access decide what applies.

The trust model (docs/safety.md): before the target is touched, the plan
file's binding is checked (:func:`open_saved_context`): its manifests must
hash to the digest it records, or, when they are not at hand, it must carry
a valid HMAC signature made with ``ACCESSOPS_PLAN_KEY``. Then, under the
target's lock (:func:`check_saved_plan`), live access is read again, a stale
plan is refused, the plan is re-derived from the manifests and must equal
the saved one change for change, and every guard and policy is run again on
exactly the changes that would be applied. Any refusal exits 3 and nothing
is written.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from accessops.access.hooks import access_plan_hook
from accessops.adapters.base import Target
from accessops.apply.planfile import KEY_ENV, SavedPlan, digest_differences, manifest_digest, plan_key
from accessops.engine import Context, build_plan, open_context, open_state, open_target, open_target_url, reconcile_state, redact, settings_for
from accessops.errors import ConfigError, Refusal, StalePlanError, UntrustedPlanError
from accessops.model.resource import ResourceMap
from accessops.plan import safety
from accessops.plan.change import Plan, fingerprint
from accessops.plan.checks import add_refusal, refusals
from accessops.plan.compare import plan_differences, printable
from accessops.settings import Settings


def stale_addresses(plan: Plan, live: ResourceMap) -> list[str]:
    """Addresses whose live object no longer matches the plan's fingerprint."""
    stale = []
    for addr, fp in plan.fingerprints.items():
        now = live.get(addr)
        if fingerprint(now.attrs if now else None) != fp:
            stale.append(addr)
    return stale


def ensure_target_matches(plan: Plan, settings: Settings, explicit: str | None) -> None:
    """A saved plan applies to its own target; an explicit different --target is an error."""
    if explicit and redact(explicit) != plan.target:  # a credential in it was refused by open_saved_context
        raise ConfigError(f"plan was made for {plan.target}, not {redact(explicit)}")
    settings.target = plan.target


def refresh_and_check(ctx: Context, plan: Plan) -> None:
    """Re-read live and refuse a stale plan (nothing is written)."""
    orgs = set(plan.meta.get("organizations", [])) | set(ctx.model.org_names if ctx.model else [])
    ctx.live = ctx.adapter.read(sorted(orgs))
    stale = stale_addresses(plan, ctx.live)
    if stale:
        raise StalePlanError(stale)


# --- applying a saved plan: what binds it, re-checked under the lock ---------------------------


def saved_manifests(saved: SavedPlan, given: list[str] | None) -> list[str] | None:
    """The manifests to re-derive ``saved`` from: ``--manifests`` paths, else the recorded ones when they are here."""
    if given:
        return list(given)
    recorded = [str(p) for p in (saved.manifests or {}).get("paths") or []]
    return recorded if recorded and all(Path(p).exists() for p in recorded) else None


def _saved_time(plan: Plan) -> datetime | None:
    """The plan's clock, to re-derive it with; never later than now (a forged future time would re-send invitations)."""
    try:
        made = datetime.fromisoformat(str(plan.meta["created_at"]))
    except (KeyError, ValueError):
        return None
    if made.tzinfo is None:
        return None
    return min(made, datetime.now(timezone.utc).replace(microsecond=0))


def open_saved_context(saved: SavedPlan, args: Any) -> Context:
    """Check what binds a saved plan before the target is touched, and open the context to re-check it in.

    Refused (exit 3, nothing read or written): a plan file not bound to its
    manifests (format 1); with ``ACCESSOPS_PLAN_KEY`` set, a plan without a
    valid signature; manifests whose content differs from the plan's digest;
    and a plan whose manifests are not here when there is no key to verify it.
    """
    if getattr(args, "target", None):
        try:
            Target.parse(args.target)  # a credential in --target is refused before anything else is said
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if saved.format < 2 or saved.manifests is None:
        from accessops import __version__

        raise UntrustedPlanError(f"{saved.path}: this plan file is not bound to its manifests (format {saved.format}); nothing applied: re-plan with accessops {__version__}")
    key = plan_key()
    if key is not None:
        saved.verify_signature(key)
    paths = saved_manifests(saved, getattr(args, "manifests", None))
    if paths is None:
        if key is None:
            named = printable(", ".join(saved.manifests.get("paths") or []) or "none recorded")
            raise UntrustedPlanError(
                f"{saved.path}: the plan's manifests are not here ({named}), and without them only a signature can vouch for it: "
                f"pass --manifests PATH, or set {KEY_ENV} to apply a plan signed with it; nothing applied"
            )
        settings = settings_for(args)
        ensure_target_matches(saved.plan, settings, args.target)
        state = open_state(settings, open_target_url(settings))  # a bad state fails before the target is touched
        try:
            target, adapter = open_target(settings)
        except BaseException:
            state.close()
            raise
        return Context(settings, target, adapter, state=state, now=_saved_time(saved.plan))
    settings = settings_for(args, paths=paths)
    recorded = [str(p) for p in saved.manifests.get("paths") or []]
    digest = manifest_digest(paths, settings.config_file, labels=recorded if len(recorded) == len(paths) else None)
    differences = digest_differences(saved.manifests, digest)
    if differences:
        shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
        raise UntrustedPlanError(f"{saved.path}: the manifests differ from those the plan was made from ({shown}); nothing applied: re-plan (did main move since the plan?)")
    if redact(settings.target) != saved.plan.target:  # before the target is opened: a local one would be created
        raise UntrustedPlanError(f"{saved.path}: the plan was made for {printable(saved.plan.target)}, but its manifests' settings target {redact(settings.target)} (give the same --target as the plan had); nothing applied")
    ctx = open_context(paths, settings, read_live=False)
    ctx.now = _saved_time(saved.plan)
    saved.plan.manifests = digest  # what is applied: these very files, at this commit
    return ctx


def _judge_saved(ctx: Context, plan: Plan) -> None:
    """Run every guard (and, with manifests, every policy) on exactly the saved plan's changes against live now."""
    probe = Plan(changes=[replace(c, notes=(), flags=()) for c in plan.changes], target=plan.target, meta=dict(plan.meta))
    ctx._after = None  # the simulation cache is keyed by address and action only; the probe's values may differ
    safety.judge(ctx, probe)
    access_plan_hook(ctx, probe)  # policies need the manifests: a no-op without them
    for refusal in refusals(probe):
        add_refusal(plan, refusal)


def check_saved_plan(ctx: Context, saved: SavedPlan) -> Plan:
    """Under the lock: re-read live, refuse a stale plan, re-derive it from its manifests, re-run guards and policies.

    Returns the saved plan with every refusal recorded in it; the caller shows
    it and ``raise_if_refused`` exits 3. With the manifests, the re-derived
    changes must be exactly the saved ones; without them (a signed plan) the
    saved changes are judged by every guard against live state now.
    """
    plan = saved.plan
    plan.extras.pop("refusals", None)  # a plan file's own refusals mean nothing: they are found afresh
    refresh_and_check(ctx, plan)
    reconcile_state(ctx)  # what a killed apply left unconfirmed, settled by live before anything is judged
    if ctx.model is None:
        _judge_saved(ctx, plan)
        return plan
    derived = build_plan(ctx, ctx.paths)
    differences = plan_differences(plan, derived)
    if not differences:
        for refusal in refusals(derived):  # the same changes on the same live state: its guards and policies are ours
            add_refusal(plan, refusal)
        return plan
    shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
    add_refusal(plan, Refusal(
        "reviewed_plan",
        f"the saved plan does not match what its manifests give with live access now ({len(differences)} difference(s): {shown}); nothing applied: re-plan",
        "none: re-plan, review the new plan, and apply that",
    ))
    _judge_saved(ctx, plan)
    return plan
