"""What the safety guards judge: the live state before a plan, the state it leaves after, and the profiles of each.

Before and after are judged by their own profiles: after a profile switch
(an organization or workspace moved to another profile) the same role may
no longer bypass restrictions, which takes admin rights away without
touching a grant (see ``before_profiles``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accessops.model.profile import Profile
from accessops.model.resource import SUSPENDED_STATUSES, Resource, ResourceMap
from accessops.plan.change import Change, Plan
from accessops.plan.invitations import member_address
from accessops.plan.simulate import simulate

#: Member statuses without access: an admin who is invited or suspended keeps no one in control.
NO_ACCESS_YET = frozenset({"invited", *SUSPENDED_STATUSES})


@dataclass
class PlanView:
    """The live state before a plan, the state it leaves after, and the profiles to judge by."""

    before: ResourceMap
    after: ResourceMap
    changes: list[Change]
    profiles: dict[str, Profile]
    workspace_profiles: dict[str, Profile]
    # where live names another profile than the manifests (org, or "org/ws"): the state before is judged by it
    before_profiles: dict[str, Profile] = field(default_factory=dict)
    # (kind, org or workspace, judging the state before) -> bypass role names; asked once per member otherwise
    _admin_roles: dict[tuple[str, str, bool], frozenset[str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    # _admins(self, self.before), found by removal_counts on its way (it sees every joined grant)
    _admins_before: "tuple[dict[tuple[str, str], set[str]], dict[str, tuple[str, str]]] | None" = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def of(
        cls,
        live: ResourceMap,
        plan: Plan,
        profiles: dict[str, Profile] | None = None,
        workspace_profiles: dict[str, Profile] | None = None,
        after: ResourceMap | None = None,
        before_profiles: dict[str, Profile] | None = None,
    ) -> "PlanView":
        """Simulate the plan's pending changes on ``live``; ``before_profiles`` as the field."""
        if after is None:
            after = simulate(live, plan.pending)
        return cls(live, after, plan.pending, dict(profiles or {}), dict(workspace_profiles or {}), dict(before_profiles or {}))

    def active(self, state: ResourceMap, type_: str, key: str) -> bool:
        """Whether the person a member or membership is about has access now: joined, and not suspended."""
        person = state.get(member_address(type_, key)) or self.before.get(member_address(type_, key))
        return person is not None and person.attrs.get("status", "active") not in NO_ACCESS_YET

    def org_admin_roles(self, org: str, before: bool = False) -> frozenset[str]:
        """Organization roles that bypass restrictions (Owner, Admin), in the state after (or ``before``)."""
        known = self._admin_roles.get(("org", org, before))
        if known is None:
            profile = (self.before_profiles.get(org) if before else None) or self.profiles.get(org)
            known = frozenset(r.name for r in profile.org_roles if r.bypass) if profile else frozenset({"Owner", "Admin"})
            self._admin_roles[("org", org, before)] = known
        return known

    def workspace_admin_roles(self, workspace: str, before: bool = False) -> frozenset[str]:
        """Workspace roles that keep full access (Admin), in the state after (or ``before``)."""
        known = self._admin_roles.get(("workspace", workspace, before))
        if known is None:
            profile = (self.before_profiles.get(workspace) if before else None) or self.workspace_profiles.get(workspace) or self.profiles.get(workspace.split("/")[0])
            known = frozenset(r.name for r in profile.workspace_roles if r.bypass) if profile and profile.workspace_roles else frozenset({"Admin"})
            self._admin_roles[("workspace", workspace, before)] = known
        return known

    def is_admin_grant(self, res: Resource, before: bool = False) -> bool:
        """A member with a bypass org role, or a workspace member with a bypass workspace role."""
        role = res.attrs.get("role")
        if res.type == "member":
            return role in self.org_admin_roles(res.org, before)
        if res.type == "workspace_member":
            return role in self.workspace_admin_roles(res.key.rsplit("/", 1)[0], before)
        return False
