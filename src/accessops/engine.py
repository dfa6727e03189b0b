"""The pipeline, one fixed sequence with named steps (octoDNS style).

load manifests -> compile -> open target -> read live -> plan -> classify
drift -> add extras (access delta, policies) -> render / save / apply.
Adapters override their own hooks; they never rewrite this sequence.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from accessops.access.hooks import access_plan_hook
from accessops.apply.applier import ApplyResult, actor, apply_changes
from accessops.apply.planfile import is_plan_file, manifest_digest, read_plan_file, save_plan_file
from accessops.adapters.base import Adapter, Target
from accessops.adapters.registry import open_adapter
from accessops.errors import ConfigError
from accessops.manifest.compiled_cache import compile_cached, remember_compiled
from accessops.manifest.loader import DesiredModel, load
from accessops.model.compact import pooled_strings
from accessops.model.compile import Compiled, compile_model
from accessops.model.release import release_documents, release_sources
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change, Plan
from accessops.plan.simulate import simulate
from accessops.plan import grant_notes, invitations, safety
from accessops.plan.drift import changed_outside
from accessops.plan.guards_config import apply_guard_flags, guard_config, management_modes
from accessops.plan.planner import PlanOptions, make_plan
from accessops.progress import working
from accessops.runtime import paused_gc
from accessops.secrets import redact_url, refuse_credentials_in_url, register_token_files, token_files_from_settings
from accessops.settings import Settings, load_settings


def redact(url: str) -> str:
    """A target URL without user info or query secrets, safe for output and logs (see secrets.redact_url)."""
    return redact_url(url)


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
            self._after = (key, simulate(self.live, changes, self.adapter.new_member_status))
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
    try:  # the target URL (flag, environment or file) is refused here if it holds a credential, before any use
        refuse_credentials_in_url(settings.target, settings.target.partition(":")[0].partition("+")[0] or "target")
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    apply_guard_flags(settings, args)
    guard_config(settings), management_modes(settings)  # every command checks every value up front
    if settings.state:  # a bad state URL fails before anything is opened
        from accessops.apply.store import parse_state_url

        parse_state_url(settings.state, Path.cwd())
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


def open_state(settings: Settings, target: Target, *, create: bool = True) -> Any:
    """The state store the ``state`` URL names (SQLite beside the target by default; git; PostgreSQL)."""
    from accessops.apply.store import default_sqlite_path, open_store, parse_state_url

    url = settings.state or str(default_sqlite_path(target, Path.cwd()))
    return open_store(parse_state_url(url, Path.cwd()), create=create)


def open_target_url(settings: Settings) -> Target:
    """The target URL parsed, without opening its adapter (log, force-unlock, state migrate)."""
    try:
        return Target.parse(settings.target)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def lock_key(target: Target) -> str:
    """The lock of a target, keyed by its canonical identity (local:X and local:./X share one)."""
    from accessops.apply.store import target_identity

    return target_identity(target, Path.cwd())


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


def drop_grouping_teams(compiled: Compiled, adapter: Adapter) -> None:
    """On a target without teams, teams that only group team grants are not written.

    Their grants were expanded per person at compile (the target has nothing
    else to hold them); a team no grant names is still refused by
    :func:`unsupported`, as before.
    """
    if "team" in adapter.supports or not compiled.grant_teams:
        return
    for addr, res in list(compiled.resources.items()):
        team = "/".join(res.key.split("/")[:2])
        if res.type in ("team", "team_member") and team in compiled.grant_teams:
            del compiled.resources[addr]


def unsupported(compiled: Compiled, adapter: Adapter) -> list[str]:
    """What the manifests need that the target cannot express, one line per kind of gap."""
    gaps: dict[str, int] = {}
    example: dict[str, str] = {}
    for res in compiled.resources.values():
        allowed = adapter.supports.get(res.type)
        if allowed is None:
            what = f"{res.type} resources"
        elif res.attrs.keys() <= allowed:  # the usual case, without building a set per resource
            continue
        else:
            what = f"{res.type}.{sorted(set(res.attrs) - allowed)[0]}"
        gaps[what] = gaps.get(what, 0) + 1
        example.setdefault(what, res.address)
    return [f"target {adapter.scheme} cannot express {what} (e.g. {example[what]}; {n} in all)" for what, n in sorted(gaps.items())]


def open_context(paths: list[str], settings: Settings, *, need_state: bool = True, read_live: bool = True) -> Context:
    """Load and compile manifests, open the target, read live state and last applied.

    ``read_live=False`` leaves the read to the caller (apply reads after it
    holds the lock).
    """
    with pooled_strings():  # desired, live and last applied share one string per address and key
        return _open_context(paths, settings, need_state, read_live)


def _open_context(paths: list[str], settings: Settings, need_state: bool, read_live: bool) -> Context:
    with paused_gc():
        model = release_sources(load(paths or ["."], compiled=True, settings_file=settings.config_file))  # validated: the raw mappings can go
        compiled = compile_cached(model, remember=False)  # the compiled cache's, when the manifest set is unchanged
        model = release_documents(model)  # a plan reads only names, profiles and policies from here on
        remember_compiled(model, compiled)  # a fresh compile is written once the documents are gone
    state = open_state(settings, open_target_url(settings)) if need_state else None  # a bad state fails before the target is touched
    try:
        target, adapter = open_target(settings)
    except BaseException:
        if state is not None:
            state.close()
        raise
    ctx = Context(settings, target, adapter, model, compiled, state=state, paths=[str(p) for p in paths])
    try:
        with paused_gc():
            drop_vocabulary(compiled, adapter)
            drop_grouping_teams(compiled, adapter)
            gaps = unsupported(compiled, adapter)
        if gaps:
            raise ConfigError("; ".join(gaps))
        if read_live:
            with paused_gc(), working(f"reading live access from {redact(target.url)}"):
                ctx.live = adapter.read(model.org_names)
        if need_state:
            from accessops.apply.reconcile import last_applied_view

            ctx.last_applied = last_applied_view(ctx.state, redact(target.url), ctx.live)
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
    from accessops.plan.empty_target import check_not_empty

    check_not_empty(ctx.live, ctx.last_applied, redact(ctx.target.url), ctx.model.org_names if ctx.model else None)
    with paused_gc():
        plan = make_plan(ctx.compiled, ctx.live, plan_options(ctx, paths))
        plan.manifests = manifest_digest([str(p) for p in paths], ctx.settings.config_file)
        plan.prior = ctx.live  # Terraform's prior_state; planned_values is it with the changes made
        plan.timestamp = plan_time(ctx).strftime("%Y-%m-%dT%H:%M:%SZ")
        plan.drift = changed_outside(ctx.live, ctx.last_applied, None, plan.changes)  # managed: what was applied
        for hook in PLAN_HOOKS:
            hook(ctx, plan)
    return plan


#: Steps that add sections to a plan after the changes are known (access
#: delta, policy results, lint warnings). Each takes (ctx, plan).
PLAN_HOOKS: list[Callable[[Context, Plan], None]] = [grant_notes.plan_hook, invitations.plan_hook, safety.plan_hook, access_plan_hook]


# --- saved plans ---------------------------------------------------------------


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file: the plan JSON, its manifest digest, checksum and (with a key) signature."""
    save_plan_file(plan, path)


def read_plan(path: Path) -> Plan:
    """Load a plan file, refusing one whose checksum does not match (for ``show``; apply verifies more)."""
    return read_plan_file(path).plan


# --- apply ------------------------------------------------------------------------


def acquire_lock(ctx: Context, timeout: float = 0.0) -> None:
    """Take the target's lock (waiting up to ``timeout`` seconds) or refuse, naming who holds it."""
    from accessops.apply.store import acquire_waiting

    acquire_waiting(ctx.state, lock_key(ctx.target), actor(), timeout)


def release_lock(ctx: Context) -> None:
    """Release the target's lock."""
    ctx.state.release(lock_key(ctx.target))


def reconcile_state(ctx: Context) -> None:
    """Under the lock, with live read: settle what a killed apply left, then reload last applied."""
    from accessops.apply.reconcile import reconcile

    name = redact(ctx.target.url)
    settled = reconcile(ctx.state, name, ctx.live)
    if settled:
        print(f"note: settled {settled} change(s) an interrupted apply left unconfirmed, by what live shows (see accessops log)", file=sys.stderr)
    ctx.last_applied = ctx.state.last_applied(name)


__all__ = [
    "ApplyResult",
    "Context",
    "PLAN_HOOKS",
    "acquire_lock",
    "apply_changes",
    "build_plan",
    "open_context",
    "is_plan_file",
    "read_plan",
    "redact",
    "release_lock",
    "save_plan",
    "settings_for",
]
