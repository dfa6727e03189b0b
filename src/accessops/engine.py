"""The pipeline, one fixed sequence with named steps (octoDNS style).

load manifests -> compile -> open target -> read live -> plan -> classify
drift -> add extras (access delta, policies) -> render / save / apply.
Adapters override their own hooks; they never rewrite this sequence.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from accessops.access.hooks import access_plan_hook
from accessops.apply.applier import ApplyResult, actor, apply_changes
from accessops.adapters.base import Adapter, Target
from accessops.adapters.registry import open_adapter
from accessops.errors import AccessOpsError, ConfigError, StalePlanError
from accessops.manifest.loader import DesiredModel, load
from accessops.model.compile import Compiled, compile_model
from accessops.model.resource import Resource, ResourceMap
from accessops.plan.change import Action, Change, Plan, fingerprint
from accessops.plan.simulate import simulate
from accessops.plan import invitations, safety
from accessops.plan.drift import changed_outside
from accessops.plan.guards_config import apply_guard_flags, management_modes
from accessops.plan.planfile import PLAN_FILE_KIND, SNIFF, from_file, to_file
from accessops.plan.planner import PlanOptions, make_plan
from accessops.progress import working
from accessops.runtime import paused_gc
from accessops.secrets import redact_text, register_token_files, token_files_from_settings
from accessops.settings import Settings, load_settings

__all__ = ["PLAN_FILE_KIND", "build_plan", "read_plan", "save_plan"]  # PLAN_FILE_KIND: from plan.planfile


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


def settings_for(args: Any) -> Settings:
    """Settings for a parsed command line (paths, --target, --state, guard override flags)."""
    settings = load_settings(getattr(args, "paths", None) or [], target=getattr(args, "target", None), state=getattr(args, "state", None))
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
    ctx = Context(settings, target, adapter, model, compiled)
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
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "paths": [str(p) for p in paths],
        "organizations": ctx.model.org_names if ctx.model else [],
    }
    return PlanOptions(additive=additive, ignore=ignore, target=redact(ctx.target.url), meta=meta)


def build_plan(ctx: Context, paths: list[str]) -> Plan:
    """The plan for ``ctx``: changes, drift since the last apply, and extras."""
    assert ctx.compiled is not None
    with paused_gc():
        plan = make_plan(ctx.compiled, ctx.live, plan_options(ctx, paths))
        plan.prior = ctx.live  # Terraform's prior_state; planned_values is it with the changes made
        plan.timestamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        managed = set(ctx.last_applied)
        plan.drift = changed_outside(ctx.live, ctx.last_applied, managed)
        for hook in PLAN_HOOKS:
            hook(ctx, plan)
    return plan


#: Steps that add sections to a plan after the changes are known (access
#: delta, policy results, lint warnings). Each takes (ctx, plan).
PLAN_HOOKS: list[Callable[[Context, Plan], None]] = [invitations.plan_hook, safety.plan_hook, access_plan_hook]


# --- saved plans ---------------------------------------------------------------


def _checksum(plan_json: dict[str, Any]) -> str:
    raw = json.dumps(plan_json, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def save_plan(plan: Plan, path: Path) -> None:
    """Write a plan file: the plan JSON (Terraform-shaped, at the top level) and its checksum."""
    data = plan.to_json()
    data = json.loads(redact_text(json.dumps(data)))  # a credential never reaches a plan file
    # one line, as `terraform show -json` writes it (terraform-compliance reads only the first line)
    envelope = {"kind": PLAN_FILE_KIND, "checksum": _checksum(data), "plan": data}
    path.write_text(json.dumps(to_file(envelope)) + "\n")


def is_plan_file(path: Path) -> bool:
    """Whether ``path`` is a saved plan (rather than a manifest)."""
    if not path.is_file() or path.suffix in (".yaml", ".yml"):
        return False
    try:
        with path.open("rb") as fh:
            return SNIFF in fh.read(200)
    except OSError:
        return False


def read_plan(path: Path) -> Plan:
    """Load a plan file, refusing one whose checksum does not match."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise AccessOpsError(f"{path}: not a readable plan file ({exc})") from None
    envelope = from_file(data)  # the plan at the file's top level, or nested (0.1)
    if envelope is None:
        raise AccessOpsError(f"{path}: not an accessops plan file")
    plan_json = envelope["plan"]
    if _checksum(plan_json) != envelope.get("checksum"):
        raise AccessOpsError(f"{path}: checksum mismatch; the plan file was edited or damaged")
    try:
        return Plan.from_json(plan_json)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a checksum anyone can recompute proves nothing
        raise AccessOpsError(f"{path}: not a valid accessops plan: {exc}") from None


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
    orgs = sorted(set(plan.meta.get("organizations", [])))
    ctx.live = ctx.adapter.read(orgs)
    stale = stale_addresses(plan, ctx.live)
    if stale:
        raise StalePlanError(stale)


__all__ = [
    "ApplyResult",
    "Context",
    "PLAN_HOOKS",
    "acquire_lock",
    "apply_changes",
    "build_plan",
    "open_context",
    "read_plan",
    "redact",
    "release_lock",
    "save_plan",
    "settings_for",
]
