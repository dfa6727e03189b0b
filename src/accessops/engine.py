"""The pipeline, one fixed sequence with named steps (octoDNS style).

load manifests -> compile -> open target -> read live -> plan -> classify
drift -> add extras (access delta, policies) -> render / save / apply.
Adapters override their own hooks; they never rewrite this sequence.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from accessops.access.hooks import access_plan_hook
from accessops.apply.applier import ApplyResult, actor, apply_changes
from accessops.apply.planfile import (
    KEY_ENV,
    SavedPlan,
    digest_differences,
    is_plan_file,
    manifest_digest,
    plan_key,
    read_plan_file,
    save_plan_file,
)
from accessops.adapters.base import Adapter, Target
from accessops.adapters.registry import open_adapter
from accessops.errors import ConfigError, Refusal, StalePlanError, UntrustedPlanError
from accessops.manifest.loader import DesiredModel, load
from accessops.model.compile import Compiled, compile_model
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change, Plan, fingerprint
from accessops.plan.checks import add_refusal, refusals
from accessops.plan.compare import plan_differences
from accessops.plan.simulate import simulate
from accessops.plan import invitations, safety
from accessops.plan.drift import changed_outside
from accessops.plan.guards_config import apply_guard_flags, management_modes
from accessops.plan.planner import PlanOptions, make_plan
from accessops.progress import working
from accessops.runtime import paused_gc
from accessops.secrets import redact_text, register_token_files, token_files_from_settings
from accessops.settings import Settings, load_settings


def redact(url: str) -> str:
    """A target URL without user info or query secrets, safe for output and logs."""
    url = re.sub(r"//[^/@]*@", "//", url)
    return re.sub(r"([?&](?:token|access_token|key|secret|password)=)[^&]*", r"\1REDACTED", url, flags=re.I)


@dataclass
class Context:
    """Everything one command run works with."""

    settings: Settings
    target: Target
    adapter: Adapter
    model: DesiredModel | None = None
    compiled: Compiled | None = None
    live: ResourceMap = field(default_factory=dict)
    last_applied: ResourceMap = field(default_factory=dict)
    state: Any = None  # apply.state.StateStore
    verbose: int = 0
    now: datetime | None = None  # the plan's clock: set to a saved plan's time when re-deriving it
    paths: list[str] = field(default_factory=list)  # the manifest paths as given
    _after: tuple[tuple[tuple[str, Action], ...], ResourceMap] | None = field(default=None, repr=False)

    def after(self, changes: list[Change]) -> ResourceMap:
        """Live with ``changes`` applied, simulated once per set of changes (safety and access both ask)."""
        key = tuple((c.address, c.action) for c in changes)
        if self._after is None or self._after[0] != key:
            self._after = (key, simulate(self.live, changes))
        return self._after[1]

    def close(self) -> None:
        """Close the adapter and the state store; with ``-v``, say how many requests and writes it took."""
        if self.verbose:
            print(
                f"{self.target.scheme}: {self.adapter.requests} request(s), {self.adapter.writes} write(s)",
                file=sys.stderr,
            )
        self.adapter.close()
        if self.state is not None:
            self.state.close()


def settings_for(args: Any, paths: list[str] | None = None) -> Settings:
    """Settings for a parsed command line (paths, --target, --state, guard override flags).

    ``paths`` finds the settings file beside these manifests instead of ``args.paths``.
    """
    settings = load_settings(paths if paths is not None else getattr(args, "paths", None) or [], target=getattr(args, "target", None), state=getattr(args, "state", None))
    apply_guard_flags(settings, args)
    register_token_files(token_files_from_settings(settings.raw, settings.config_file.parent if settings.config_file else Path.cwd()))
    return settings


def open_target(settings: Settings) -> tuple[Target, Adapter]:
    """Parse the target URL and open its adapter."""
    base = settings.config_file.parent if settings.config_file else Path.cwd()
    try:
        # adapters find their token files through the settings (secrets.credential)
        target = Target.parse(settings.target, settings_raw=settings.raw, config_dir=base)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return target, open_adapter(target)


def open_state(settings: Settings, target: Target) -> Any:
    """The state store beside the target (or where settings say)."""
    from accessops.apply.state import StateStore, default_state_path

    path = settings.state or default_state_path(target, Path.cwd())
    return StateStore(path)


#: Attributes that name the manifest's vocabulary rather than live state: a
#: target that cannot store them (a SCIM server has no organization profile)
#: is not refused; they are left out of the comparison instead.
VOCABULARY_ATTRS: dict[str, frozenset[str]] = {"organization": frozenset({"profile"})}


def drop_vocabulary(compiled: Compiled, adapter: Adapter) -> None:
    """Remove vocabulary-only attributes the target cannot store from the desired resources."""
    drops = {t: d for t, attrs in VOCABULARY_ATTRS.items() if (d := attrs - adapter.supports.get(t, frozenset()))}
    if not drops:
        return  # the usual case: no need to walk every resource
    for addr, res in list(compiled.resources.items()):
        drop = drops.get(res.type, frozenset())
        if drop & res.attrs.keys():
            compiled.resources[addr] = Resource(res.type, res.key, {k: v for k, v in res.attrs.items() if k not in drop})


def unsupported(compiled: Compiled, adapter: Adapter) -> list[str]:
    """What the manifests need that the target cannot express, one line per kind of gap."""
    gaps: dict[str, int] = {}
    example: dict[str, str] = {}
    for res in compiled.resources.values():
        allowed = adapter.supports.get(res.type)
        if allowed is None:
            what = f"{res.type} resources"
        else:
            extra = sorted(set(res.attrs) - allowed)
            if not extra:
                continue
            what = f"{res.type}.{extra[0]}"
        gaps[what] = gaps.get(what, 0) + 1
        example.setdefault(what, res.address)
    return [f"target {adapter.scheme} cannot express {what} (e.g. {example[what]}; {n} in all)" for what, n in sorted(gaps.items())]


def open_context(paths: list[str], settings: Settings, *, need_state: bool = True, read_live: bool = True) -> Context:
    """Load and compile manifests, open the target, read live state and last applied.

    ``read_live=False`` leaves the read to the caller (apply reads after it
    holds the lock).
    """
    with paused_gc():
        model = load(paths or ["."])
        compiled = compile_model(model)
    target, adapter = open_target(settings)
    ctx = Context(settings, target, adapter, model, compiled, paths=[str(p) for p in paths])
    try:
        with paused_gc():
            drop_vocabulary(compiled, adapter)
            gaps = unsupported(compiled, adapter)
        if gaps:
            raise ConfigError("; ".join(gaps))
        if read_live:
            with paused_gc(), working(f"reading live access from {redact(target.url)}"):
                ctx.live = adapter.read(model.org_names)
        if need_state:
            ctx.state = open_state(settings, target)
            ctx.last_applied = ctx.state.last_applied(redact(target.url))
    except BaseException:
        ctx.close()
        raise
    return ctx


def plan_options(ctx: Context, paths: list[str]) -> PlanOptions:
    """Planner options from settings: management modes and metadata."""
    additive, ignore = management_modes(ctx.settings)
    meta = {
        "created_at": plan_time(ctx).isoformat(timespec="seconds"),
        "paths": [str(p) for p in paths],
        "organizations": ctx.model.org_names if ctx.model else [],
    }
    return PlanOptions(additive=additive, ignore=ignore, target=redact(ctx.target.url), meta=meta)


def plan_time(ctx: Context) -> datetime:
    """The plan's "now", to the second: the context's clock, else the wall clock (fixed on first use)."""
    if ctx.now is None:
        ctx.now = datetime.now(timezone.utc).replace(microsecond=0)
    return ctx.now


def build_plan(ctx: Context, paths: list[str]) -> Plan:
    """The plan for ``ctx``: changes, drift since the last apply, extras, and the manifests' digest."""
    assert ctx.compiled is not None
    with paused_gc():
        plan = make_plan(ctx.compiled, ctx.live, plan_options(ctx, paths))
        plan.manifests = manifest_digest([str(p) for p in paths], ctx.settings.config_file)
        managed = set(ctx.last_applied)
        plan.drift = changed_outside(ctx.live, ctx.last_applied, managed)
        for hook in PLAN_HOOKS:
            hook(ctx, plan)
    return plan


#: Steps that add sections to a plan after the changes are known (access
#: delta, policy results, lint warnings). Each takes (ctx, plan).
PLAN_HOOKS: list[Callable[[Context, Plan], None]] = [invitations.plan_hook, safety.plan_hook, access_plan_hook]


# --- saved plans ---------------------------------------------------------------


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file: the plan JSON, its manifest digest, checksum and (with a key) signature."""
    save_plan_file(plan, path)


def read_plan(path: Path) -> Plan:
    """Load a plan file, refusing one whose checksum does not match (for ``show``; apply verifies more)."""
    return read_plan_file(path).plan


def stale_addresses(plan: Plan, live: ResourceMap) -> list[str]:
    """Addresses whose live object no longer matches the plan's fingerprint."""
    stale = []
    for addr, fp in plan.fingerprints.items():
        now = live.get(addr)
        if fingerprint(now.attrs if now else None) != fp:
            stale.append(addr)
    return stale


# --- apply ------------------------------------------------------------------------


def acquire_lock(ctx: Context) -> None:
    """Take the target's lock or refuse, naming who holds it."""
    ctx.state.acquire(redact(ctx.target.url), actor())


def release_lock(ctx: Context) -> None:
    """Release the target's lock."""
    ctx.state.release(redact(ctx.target.url))


def ensure_target_matches(plan: Plan, settings: Settings, explicit: str | None) -> None:
    """A saved plan applies to its own target; an explicit different --target is an error."""
    if explicit and redact(explicit) != plan.target:
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
    try:
        return datetime.fromisoformat(str(plan.meta["created_at"]))
    except (KeyError, ValueError):
        return None


def open_saved_context(saved: SavedPlan, args: Any) -> Context:
    """Check what binds a saved plan before the target is touched, and open the context to re-check it in.

    Refused (exit 3, nothing read or written): a plan file not bound to its
    manifests (format 1); with ``ACCESSOPS_PLAN_KEY`` set, a plan without a
    valid signature; manifests whose content differs from the plan's digest;
    and a plan whose manifests are not here when there is no key to verify it.
    """
    if saved.format < 2 or saved.manifests is None:
        from accessops import __version__

        raise UntrustedPlanError(f"{saved.path}: this plan file is not bound to its manifests (format {saved.format}); nothing applied: re-plan with accessops {__version__}")
    key = plan_key()
    if key is not None:
        saved.verify_signature(key)
    paths = saved_manifests(saved, getattr(args, "manifests", None))
    if paths is None:
        if key is None:
            named = ", ".join(saved.manifests.get("paths") or []) or "none recorded"
            raise UntrustedPlanError(
                f"{saved.path}: the plan's manifests are not here ({named}), and without them only a signature can vouch for it: "
                f"pass --manifests PATH, or set {KEY_ENV} to apply a plan signed with it; nothing applied"
            )
        settings = settings_for(args)
        ensure_target_matches(saved.plan, settings, args.target)
        target, adapter = open_target(settings)
        ctx = Context(settings, target, adapter, now=_saved_time(saved.plan))
        try:
            ctx.state = open_state(settings, target)
        except BaseException:
            ctx.close()
            raise
        return ctx
    settings = settings_for(args, paths=paths)
    recorded = [str(p) for p in saved.manifests.get("paths") or []]
    digest = manifest_digest(paths, settings.config_file, labels=recorded if len(recorded) == len(paths) else None)
    differences = digest_differences(saved.manifests, digest)
    if differences:
        shown = "; ".join(differences[:5]) + (f"; and {len(differences) - 5} more" if len(differences) > 5 else "")
        raise UntrustedPlanError(f"{saved.path}: the manifests differ from those the plan was made from ({shown}); nothing applied: re-plan (did main move since the plan?)")
    ctx = open_context(paths, settings, read_live=False)
    if redact(ctx.target.url) != saved.plan.target:
        ctx.close()
        raise UntrustedPlanError(f"{saved.path}: the plan was made for {saved.plan.target}, but its manifests' settings target {redact(ctx.target.url)}; nothing applied")
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


__all__ = [
    "ApplyResult",
    "Context",
    "PLAN_HOOKS",
    "acquire_lock",
    "apply_changes",
    "build_plan",
    "check_saved_plan",
    "open_saved_context",
    "open_context",
    "is_plan_file",
    "read_plan",
    "redact",
    "release_lock",
    "save_plan",
    "settings_for",
]
