"""Safety guards: judge a plan before anything is written, and say why with numbers.

Each guard reads a :class:`PlanView` (live before, the state the plan leaves
after) and records a :class:`~accessops.errors.Refusal` in the plan; the plan
is still shown, then ``raise_if_refused`` exits 3. Guards never change the
live system and never decide from a change's display notes.

Guards, their defaults and overrides (docs/safety.md has the user's view):

* seats: active plus invited members may not exceed ``seats`` when the plan
  invites or lowers seats; raise ``seats`` or remove members.
* removal budgets per kind: 25% once at least 10 exist; acknowledge an exact
  number with ``--allow-removals KIND=N``.
* last Owner/Admin: an organization or workspace keeps ``min_admins`` (1)
  active bypass-role members; ``[guards] min_admins`` changes the minimum.
* the apply's own identity is never removed or demoted; no override.
* custom-role deletion cascades are irreversible and refused while uses
  remain; ``--allow-cascade``.
* no manifest value carries a credential; no override.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from accessops.errors import Refusal
from accessops.manifest.profiles import switched_profiles
from accessops.model.resource import SUSPENDED_STATUSES, Resource, ResourceMap
from accessops.plan.change import Action, Change, Plan
from accessops.plan.checks import add_refusal
from accessops.plan.guards_config import BUDGET_KINDS, GuardConfig, guard_config
from accessops.plan.invitations import member_address, warn
from accessops.plan.view import NO_ACCESS_YET, PlanView
from accessops.secrets import known_secrets

if TYPE_CHECKING:
    from accessops.engine import Context

_GRANT_TYPES = ("workspace_member", "space_member")
_COUNTED = frozenset({"member", "team_member", *_GRANT_TYPES})  # what removal budgets count
_ROLE_LISTS = {"app_permission": ("allow",), "table_permission": ("read", "create", "edit", "delete"), "field_permission": ("read",)}


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


# --- seats -----------------------------------------------------------------------------


def check_seats(view: PlanView, config: GuardConfig, plan: Plan) -> None:
    """Active plus invited members may not exceed the seats once the plan invites or lowers seats."""
    # filter before sorting: the organizations, not all 36k resources, need an order
    for addr, org in sorted((a, r) for a, r in view.after.items() if r.type == "organization"):
        if org.attrs.get("seats") is None:
            continue
        seats = int(org.attrs["seats"])
        prefix = org.key + "/"  # r.org == org.key, without a property call per resource
        now = {a: r for a, r in view.after.items() if r.type == "member" and (r.key.startswith(prefix) or r.key == org.key)}
        # a member address also in before is a member of the same organization there: no need to list before's
        invites = sorted(a for a in now if a not in view.before)
        old_seats = view.before[addr].attrs.get("seats") if addr in view.before else None
        if len(now) <= seats or not (invites or old_seats != seats):
            continue
        invited = sum(1 for r in now.values() if r.attrs.get("status") == "invited")
        what = f"the plan invites {len(invites)}" if invites else f"the plan lowers seats from {old_seats}"
        add_refusal(plan, Refusal(
            "seats",
            f"organization {org.key}: {len(now)} members ({len(now) - invited} active, {invited} invited) would exceed its {seats} seats; {what}",
            "raise spec.seats of the Organization or remove members",
        ))


# --- removal budgets ----------------------------------------------------------------------


def removal_counts(view: PlanView) -> dict[str, tuple[int, int]]:
    """Per budget kind: (existing, removed), counting only people who have joined.

    Cancelling an invitation, or the memberships of someone only invited,
    is never a removal.
    """
    existing = dict.fromkeys(BUDGET_KINDS, 0)
    removed = dict.fromkeys(BUDGET_KINDS, 0)

    def kinds(res: Resource) -> list[str]:
        out = []
        if res.type == "member":
            out.append("members")
        elif res.type == "team_member":
            out.append("memberships")
        elif res.type in _GRANT_TYPES:
            out.append("grants")
        if view.is_admin_grant(res, before=True):
            out.append("admins")
        return out

    before, after = view.before, view.after
    joined: dict[str, bool] = {}  # member address -> has joined; asked once per person, not per membership
    admins_by_place: dict[tuple[str, str], set[str]] = {}
    admins_by_addr: dict[str, tuple[str, str]] = {}
    for addr, res in before.items():
        type_ = res.type
        if type_ not in _COUNTED:
            continue
        if type_ == "member":
            if res.attrs.get("status", "active") == "invited":
                continue
        else:  # view.active on the state before, inlined: this loop sees every resource
            key = res.key
            who = f'member["{key.partition("/")[0]}/{key.rpartition("/")[2]}"]'  # member_address(type_, key)
            ok = joined.get(who)
            if ok is None:
                person = before.get(who)
                ok = joined[who] = person is not None and person.attrs.get("status", "active") != "invited"
            if not ok:
                continue
        gone = after.get(addr)
        for kind in kinds(res):
            existing[kind] += 1
            if gone is None or (kind == "admins" and not view.is_admin_grant(gone)):
                removed[kind] += 1
            if kind == "admins" and not _suspended(before, res):  # a joined admin grant: what _admins lists for the state before
                place = (type_, res.org if type_ == "member" else res.key.rsplit("/", 1)[0])
                admins_by_addr[addr] = place
                admins_by_place.setdefault(place, set()).add(addr)
    view._admins_before = (admins_by_place, admins_by_addr)
    return {k: (existing[k], removed[k]) for k in BUDGET_KINDS}


def _suspended(state: ResourceMap, res: Resource) -> bool:
    """Whether the person ``res`` is about is suspended: their admin grant keeps no one in control (budgets still count it)."""
    who = res if res.type == "member" else state.get(member_address(res.type, res.key))
    return who is not None and who.attrs.get("status") in SUSPENDED_STATUSES


def check_budgets(view: PlanView, config: GuardConfig, plan: Plan, counts: dict[str, tuple[int, int]] | None = None) -> None:
    """Refuse removals over a kind's budget unless exactly that number is acknowledged.

    ``counts`` are :func:`removal_counts` of ``view`` when the caller has them.
    """
    for kind, (existing, removed) in (counts if counts is not None else removal_counts(view)).items():
        if removed == 0:
            continue
        budget = config.budget(kind)
        label = BUDGET_KINDS[kind]
        share = removed / existing if existing else 1.0
        if budget.max_count is not None and removed > budget.max_count:
            why = f"cannot remove {removed} of {existing} {label} (limit {budget.max_count})"
        elif existing >= budget.min_existing and share > budget.max_share:
            why = f"cannot remove {removed} of {existing} {label} ({_pct(share)}, limit {_pct(budget.max_share)})"
        else:
            continue
        acked = config.allow_removals.get(kind)
        if acked == removed:
            warn(plan, f"removals.{kind}", f"{why.replace('cannot remove', 'removing')}: acknowledged")
            continue
        if acked is not None:
            why += f"; --allow-removals {kind}={acked} acknowledges {acked}, not {removed}"
        add_refusal(plan, Refusal(f"removals.{kind}", why, f"--allow-removals {kind}={removed}"))


# --- who must stay ---------------------------------------------------------------------------


def _joined(view: PlanView, state: ResourceMap, res: Resource) -> bool:
    """``view.active`` for a resource of ``state``; a member resource is its own person, no look-up needed."""
    if res.type == "member":
        return bool(res.attrs.get("status", "active") != "invited")
    return view.active(state, res.type, res.key)


def _admins(
    view: PlanView, state: ResourceMap, known: dict[str, tuple[str, str]] | None = None, *, as_before: bool = False
) -> tuple[dict[tuple[str, str], set[str]], dict[str, tuple[str, str]]]:
    """Active bypass-role holders in ``state``: by (grant type, organization or workspace), and by address.

    One pass over the state for every organization and workspace at once.
    With ``known`` (the by-address answer for ``view.before``), a grant whose
    object and person are the very same objects as before keeps its answer:
    the simulated state shares every object the plan does not touch (not
    when a profile switch changes what the same grant means). ``as_before``
    judges ``state`` by the profiles live had.
    """
    if view.before_profiles:
        known = None
    by_place: dict[tuple[str, str], set[str]] = {}
    by_addr: dict[str, tuple[str, str]] = {}
    before = view.before
    def org_roles(org: str) -> frozenset[str]:
        return view.org_admin_roles(org, as_before)

    def ws_roles(ws: str) -> frozenset[str]:
        return view.workspace_admin_roles(ws, as_before)

    # view.is_admin_grant and _joined, inlined: this loop sees every resource twice per plan
    for addr, res in state.items():
        type_ = res.type
        if type_ == "member":
            if known is not None and before.get(addr) is res:
                place = known.get(addr)
            else:
                org = res.key.split("/", 1)[0]  # res.org
                attrs = res.attrs
                joined = attrs.get("role") in org_roles(org) and attrs.get("status", "active") not in NO_ACCESS_YET
                place = (type_, org) if joined else None
        elif type_ == "workspace_member":
            if known is not None and before.get(addr) is res and state.get(who := member_address(type_, res.key)) is before.get(who):
                place = known.get(addr)
            else:
                ws = res.key.rsplit("/", 1)[0]
                place = (type_, ws) if res.attrs.get("role") in ws_roles(ws) and view.active(state, type_, res.key) else None
        else:
            continue
        if place is not None:
            by_addr[addr] = place
            by_place.setdefault(place, set()).add(addr)
    return by_place, by_addr


def check_last_admins(view: PlanView, config: GuardConfig, plan: Plan) -> None:
    """An organization or workspace never drops below ``min_admins`` active Owner/Admin members."""
    admins_before, known = view._admins_before or _admins(view, view.before, as_before=True)
    admins_after, _ = _admins(view, view.after, known)
    places = sorted((a, r) for a, r in view.before.items() if r.type in ("organization", "workspace"))
    for addr, res in places:
        if addr not in view.after:
            continue  # a workspace deleted whole takes its admins with it
        grant_type = "member" if res.type == "organization" else "workspace_member"
        before = admins_before.get((grant_type, res.key), set())
        after = admins_after.get((grant_type, res.key), set())
        if len(after) >= config.min_admins or len(after) >= len(before):
            continue
        roles = view.org_admin_roles(res.key) if res.type == "organization" else view.workspace_admin_roles(res.key)
        lost = ", ".join(a.split("/")[-1].rstrip('"]') for a in sorted(before - after))
        if res.key in view.before_profiles:  # a profile switch changed what their role means
            lost += f" (profile {res.attrs.get('profile') or 'inherited'} -> {view.after[addr].attrs.get('profile') or 'inherited'})"
        add_refusal(plan, Refusal(
            "last_admin",
            f"{res.type} {res.key} would keep {len(after)} active {'/'.join(sorted(roles)) or 'bypass-role'} member(s), minimum {config.min_admins}; the plan removes or demotes {lost}",
            "[guards] min_admins in accessops.toml",
        ))


def _demotion(view: PlanView, change: Change) -> str | None:
    """How a change removes or lowers someone's access, or None."""
    if change.action is Action.DELETE and change.type in ("member", *_GRANT_TYPES):
        return "remove"
    before, after = change.before or {}, change.after or {}
    if change.type == "member":
        profile = view.profiles.get(change.key.split("/")[0])
        rank = profile.org_role_rank if profile else {}
        old, new = str(before.get("role")), str(after.get("role"))
        if old != new and rank.get(new, len(rank)) > rank.get(old, len(rank)):
            return f"demote ({old} -> {new})"
        if before.get("global_admin") and not after.get("global_admin"):
            return "take global admin from"
    if change.type == "workspace_member":
        ws = change.key.rsplit("/", 1)[0]
        profile = view.workspace_profiles.get(ws) or view.profiles.get(ws.split("/")[0])
        order = [r.name for r in profile.workspace_roles] if profile else []
        was, now = before.get("role"), after.get("role")
        if was != now and (order.index(now) if now in order else len(order)) > (order.index(was) if was in order else len(order)):
            return f"demote ({was} -> {now})"
    return None


def check_identity(view: PlanView, identity: str | None, plan: Plan) -> None:
    """The apply never removes or demotes the member it runs as."""
    if not identity:
        return
    me = identity.lower()
    harms = []
    for change in view.changes:
        if change.type in ("member", *_GRANT_TYPES) and change.key.split("/")[-1] == me:
            what = _demotion(view, change)
            if what:
                harms.append(f"{what} {change.address}")
    for addr, res in sorted(view.before.items()) if view.before_profiles else ():
        # a profile switch can take the identity's admin rights without touching its grant
        if res.type in ("member", "workspace_member") and res.key.split("/")[-1] == me and view.is_admin_grant(res, before=True):
            now = view.after.get(addr)
            place = res.org if res.type == "member" else res.key.rsplit("/", 1)[0]
            if now is not None and not view.is_admin_grant(now) and place in view.before_profiles:
                where = view.before.get(f'{"organization" if res.type == "member" else "workspace"}["{place}"]')
                old = where.attrs.get("profile") if where else None
                new = view.after[where.address].attrs.get("profile") if where and where.address in view.after else None
                harms.append(f"lose admin rights (profile {old or 'inherited'} -> {new or 'inherited'}) {addr}")
    if harms:
        add_refusal(plan, Refusal(
            "identity",
            f"the apply runs as {me} and would lose its own access: " + "; ".join(harms),
            "none: run the apply as another identity",
        ))


# --- custom-role deletion cascade ---------------------------------------------------------------


def role_uses(state: ResourceMap, org: str, role: str) -> list[str]:
    """Where ``role`` is still assigned or named in app/table/field permissions, as ``address attr``."""
    uses = []
    for addr, res in sorted(state.items()):
        if res.org != org:
            continue
        if res.type == "workspace_member" and role in (res.attrs.get("custom_roles") or []):
            uses.append(f"{addr} custom_roles")
        for attr in _ROLE_LISTS.get(res.type, ()):
            if role in (res.attrs.get(attr) or []):
                uses.append(f"{addr} {attr}")
    return uses


def check_role_cascades(view: PlanView, config: GuardConfig, plan: Plan) -> None:
    """Show what deleting a custom role takes with it; refuse while uses remain unless allowed."""
    for i, change in enumerate(plan.changes):
        if change.type != "custom_role" or change.action is not Action.DELETE:
            continue
        org, role = change.key.split("/", 1)
        uses = role_uses(view.after, org, role)
        notes = ["irreversible: deleting a custom role also removes its assignments and app/table/field permission links"]
        if uses:
            notes.append(f"still used in {len(uses)} place(s): " + ", ".join(uses))
        flags = ("irreversible", "cascade") if uses else ("irreversible",)
        plan.changes[i] = replace(change, notes=change.notes + tuple(notes), flags=change.flags + flags)
        if not uses:
            continue
        warn(plan, "cascade", f"deleting custom role {change.key} also removes it from: " + ", ".join(uses))
        if not config.allow_cascade:
            add_refusal(plan, Refusal(
                "cascade",
                f"deleting custom role {change.key} would also remove {len(uses)} use(s) the manifests keep ({', '.join(uses[:3])}{' ...' if len(uses) > 3 else ''}); this cannot be undone",
                "--allow-cascade, or drop those uses from the manifests too",
            ))


# --- credentials -------------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def check_manifest_secrets(desired: ResourceMap, plan: Plan) -> None:
    """No manifest value may carry a credential (they come from the environment only)."""
    secrets = known_secrets()  # once: each look-up walks the whole environment
    if not secrets:
        return  # no credential in this process, so no value can carry one
    for addr, res in sorted(desired.items()):
        if any(secret in s for s in (res.key, *_strings(res.attrs)) for secret in secrets):
            add_refusal(plan, Refusal(
                "credentials",
                f"{addr}: a manifest value contains a credential (a value of an ACCESSOPS_*_TOKEN); credentials come from the environment or token files only",
                "none: remove the credential from the manifests",
            ))


# --- the pipeline step --------------------------------------------------------------------------


def judge(ctx: "Context", plan: Plan) -> PlanView:
    """Run every guard on ``plan``; refusals and cascade notes are recorded in it."""
    config = guard_config(ctx.settings)
    model = ctx.model
    if ctx.compiled is not None:
        check_manifest_secrets(ctx.compiled.resources, plan)
    if not plan.pending:  # nothing is written, so nothing can be removed, demoted or over seats
        plan.extras["safety"] = {"removals": {}, "min_admins": config.min_admins}
        return PlanView(ctx.live, ctx.live, [], {}, {})
    after = ctx.after(plan.pending) if hasattr(ctx, "after") else None
    switched = switched_profiles(model, ctx.live) if model else {}
    view = PlanView.of(ctx.live, plan, model.profiles if model else None, model.workspace_profiles if model else None, after, switched)
    existing_removed = removal_counts(view)
    check_seats(view, config, plan)
    check_budgets(view, config, plan, existing_removed)
    check_last_admins(view, config, plan)
    check_identity(view, ctx.adapter.identity(), plan)
    check_role_cascades(view, config, plan)
    plan.extras["safety"] = {
        "removals": {k: {"existing": e, "removed": r} for k, (e, r) in existing_removed.items()},
        "min_admins": config.min_admins,
    }
    return view


def plan_hook(ctx: "Context", plan: Plan) -> None:
    """The engine's plan hook: judge the plan (see :func:`judge`)."""
    judge(ctx, plan)
