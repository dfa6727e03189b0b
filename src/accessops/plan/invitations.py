"""The lifecycle of an invitation: invited, then accepted, expired or cancelled.

* A member declared in git but absent live is invited (the planner's create;
  adapters store the new member as ``status: invited``).
* A change to an invited member, or to the memberships of someone this plan
  invites, is marked *pending acceptance* (seeds 001 and 003: it takes
  effect when they join).
* Removing an invited member from git cancels the invitation; the safety
  guards never count it as a removal.
* A pending invitation older than ``[invitations] expire_days`` (default 14)
  is expired; when git still declares the person, the plan re-sends it as
  an update of ``invited_at`` to the plan's time, so apply-then-plan is empty.

This step is pure: it reads the context's live state and rewrites the plan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from accessops.model.resource import ResourceMap
from accessops.plan.change import Action, Change, Plan, fingerprint
from accessops.plan.guards_config import guard_config

if TYPE_CHECKING:
    from accessops.engine import Context

MEMBERSHIP_TYPES = ("team_member", "workspace_member", "space_member")
PENDING = "pending_acceptance"
PENDING_NOTE = "pending acceptance: takes effect when they join"
RESEND = "resend_invitation"
PROVISIONED = "provisioned_active"
PROVISIONED_NOTE = "provisioned active: the target has no invitations"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time as stored by adapters (``Z`` or an offset); None when unreadable."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def member_address(type_: str, key: str) -> str:
    """The address of the org member a member or membership change is about."""
    parts = key.split("/")
    return f'member["{parts[0]}/{parts[-1]}"]'


def warn(plan: Plan, code: str, message: str) -> None:
    """Add a warning to the plan's ``warnings`` section (shown after the changes)."""
    plan.extras.setdefault("warnings", []).append({"code": code, "message": message})


def _with(change: Change, note: str, flag: str, after: dict[str, Any] | None = None) -> Change:
    notes = change.notes if note in change.notes else change.notes + (note,)
    flags = change.flags if flag in change.flags else change.flags + (flag,)
    return replace(change, notes=notes, flags=flags, after=change.after if after is None else after)


def mark_new_invitees(plan: Plan, live: ResourceMap) -> None:
    """Memberships of people this plan invites take effect when they accept, too."""
    invited_now = {c.address for c in plan.pending if c.type == "member" and c.action is Action.CREATE}
    for i, change in enumerate(plan.changes):
        if change.type not in MEMBERSHIP_TYPES or change.action is Action.DELETE:
            continue
        who = member_address(change.type, change.key)
        if who in invited_now or who not in live:  # a membership of an unknown person invites them
            plan.changes[i] = _with(change, PENDING_NOTE, PENDING)


def mark_provisioned(plan: Plan) -> None:
    """On a target that creates members active (SCIM), say so on each new member."""
    for i, change in enumerate(plan.changes):
        if change.type == "member" and change.action is Action.CREATE:
            plan.changes[i] = _with(change, PROVISIONED_NOTE, PROVISIONED)


def expired_invitations(live: ResourceMap, now: datetime, expire_days: int) -> list[tuple[str, int]]:
    """(address, age in whole days) of every pending invitation older than ``expire_days``."""
    out = []
    for addr, res in sorted(live.items()):
        if res.type != "member" or res.attrs.get("status") != "invited":
            continue
        sent = parse_time(res.attrs.get("invited_at"))
        if sent is None:
            continue
        age = (now - sent).days
        if age > expire_days:
            out.append((addr, age))
    return out


def resend(plan: Plan, live: ResourceMap, addr: str, note: str, sent_at: str) -> None:
    """Add (or fold into the member's existing update) a re-send of the invitation."""
    res = live[addr]
    for i, change in enumerate(plan.changes):
        if change.address == addr and change.action is Action.UPDATE:
            plan.changes[i] = _with(change, note, RESEND, {**(change.after or {}), "invited_at": sent_at})
            return
    before = dict(res.attrs)
    plan.changes.append(Change(Action.UPDATE, res.type, res.key, before, {**before, "invited_at": sent_at}, (note,), (RESEND,)))
    plan.fingerprints[addr] = fingerprint(res.attrs)
    plan.changes.sort(key=Change.sort_key)


def plan_hook(ctx: "Context", plan: Plan, now: datetime | None = None) -> None:
    """Mark pending acceptance, re-send expired invitations, and summarise invitations in the plan."""
    config = guard_config(ctx.settings)
    now = now or getattr(ctx, "now", None) or datetime.now(timezone.utc)  # a re-derived plan keeps its saved time
    live = ctx.live
    desired = ctx.compiled.resources if ctx.compiled is not None else {}
    if getattr(ctx.adapter, "new_member_status", "invited") == "invited":
        mark_new_invitees(plan, live)
    else:  # the target provisions people active: nothing waits for acceptance
        mark_provisioned(plan)

    deleting = {c.address for c in plan.pending if c.action is Action.DELETE}
    can_resend = config.resend and "invited_at" in ctx.adapter.supports.get("member", frozenset())
    expired: list[dict[str, Any]] = []
    lines: list[tuple[str, str]] = []
    for addr, age in expired_invitations(live, now, config.expire_days):
        if addr in deleting:
            continue  # removed from git: the invitation is cancelled instead
        email = live[addr].key.split("/")[-1]
        entry = {"address": addr, "invited_days_ago": age, "expired_days_ago": age - config.expire_days, "resent": False}
        if can_resend and addr in desired:
            note = f"re-send invitation (expired {age - config.expire_days} days ago)"
            resend(plan, live, addr, note, now.strftime(TIME_FORMAT))
            entry["resent"] = True
            lines.append(("invitation.resent", f"invitation to {email} expired {entry['expired_days_ago']} days ago (limit {config.expire_days} days): re-sent by this plan"))
        else:
            why = "not declared in git" if addr not in desired else "re-sending is off or the target cannot re-send"
            lines.append(("invitation.expired", f"invitation to {email} expired {entry['expired_days_ago']} days ago (limit {config.expire_days} days); not re-sent: {why}"))
        expired.append(entry)

    pending = [c.address for c in plan.pending if PENDING in c.flags]
    cancelled = [c.address for c in plan.pending if "cancel_invitation" in c.flags]
    if pending:
        lines.append(("invitation.pending", f"{len(pending)} change(s) concern invited members and take effect when they accept"))
    if cancelled:
        lines.append(("invitation.cancelled", f"{len(cancelled)} pending invitation(s) cancelled (not counted as removals)"))
    plan.extras["invitations"] = {"expire_days": config.expire_days, "pending_acceptance": pending, "cancelled": cancelled, "expired": expired}
    for code, message in lines:
        warn(plan, code, message)
