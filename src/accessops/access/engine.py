"""The effective-access engine: every member's capabilities, with reasons, from resources.

Pure: it reads a ResourceMap (desired from compile_model, or live from an
adapter) and the profile of each organization, and answers ``check``,
``explain`` and ``who_can``. explain and who-can ask the same ``check``, so
they cannot disagree; the vocabulary decides which questions exist.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from accessops.access import rules_org, rules_space, rules_workspace
from accessops.access.capability import (
    ADMIN_ACTION,
    APP_ACTION,
    FULL,
    OWNER_ACTIONS,
    SPACE_ACTIONS,
    TABLE_ACTIONS,
    TABLE_EXPORT,
    VIEW,
    Capability,
    full_name,
    local_name,
    scope_action,
    short_member,
)
from accessops.access.index import OrgView, Person, build_index
from accessops.model.profile import Profile
from accessops.model.resource import ResourceMap

Rule = Callable[[OrgView, Person], tuple[bool, list[str]]]


class UnknownCapability(ValueError):
    """An action and resource that name no capability of any organization."""


def administers_spaces(profile: Profile) -> bool:
    """Whether the profile has seed 004 owners and maintainers (some role states denies)."""
    return any(role.denies for role in profile.org_roles)


# Plain verbs on a scope key read naturally in assertions ("edit seo/GOOGLE_SEARCH");
# they mean the scope capability: View = read and export, Full = every write.
VERB_GRANTS = {"read": VIEW, "export": VIEW, "view": VIEW, "create": FULL, "edit": FULL, "delete": FULL, "run": FULL, "write": FULL}


def _scopes(key: str) -> tuple[str, str] | None:
    """``("Billing", "View")`` from ``Billing:View``."""
    name, sep, grant = key.rpartition(":")
    return (name, grant) if sep and grant in (VIEW, FULL) else None


class AccessEngine:
    """Effective access for every member of every organization in ``resources``."""

    def __init__(self, resources: ResourceMap, profiles: Mapping[str, Profile]) -> None:
        self.views: dict[str, OrgView] = build_index(resources, profiles)
        self._emails: dict[str, list[str]] = {org: view.emails() for org, view in self.views.items()}
        self._known: dict[str, frozenset[str]] = {org: frozenset(e) for org, e in self._emails.items()}
        self._vocab: dict[str, list[tuple[str, str]]] = {}
        self._fast: dict[str, _FastOrg | None] = {}
        # (org, action, resource) as asked -> canonical spelling and its rule
        self._asked: dict[tuple[str, str, str], tuple[str, str, Rule | None]] = {}

    # --- who and what ----------------------------------------------------------

    def members(self, org: str) -> list[str]:
        """Emails of everyone in ``org``, sorted."""
        return self._emails.get(org, [])

    def find_members(self, query: str) -> list[tuple[str, str]]:
        """``(org, email)`` for an email, a unique email prefix, or a local part (``bo``)."""
        q = query.lower()
        exact = [(o, e) for o, es in self._emails.items() for e in es if e == q]
        if exact:
            return exact
        local = [(o, e) for o, es in self._emails.items() for e in es if e.split("@", 1)[0] == q]
        if local:
            return local
        return [(o, e) for o, es in self._emails.items() for e in es if e.startswith(q)]

    def vocabulary(self, org: str) -> list[tuple[str, str]]:
        """Every ``(action, resource)`` question one can ask in ``org``, in a stable order."""
        if org not in self._vocab:
            self._vocab[org] = self._build_vocabulary(self.views[org]) if org in self.views else []
        return self._vocab[org]

    def _build_vocabulary(self, view: OrgView) -> list[tuple[str, str]]:
        o, profile = view.name, view.profile
        vocab = [(ADMIN_ACTION, o)]
        vocab += [(key, o) for group in profile.matrix.values() for key in group]
        if administers_spaces(profile):
            vocab += [(action, o) for action in OWNER_ACTIONS]
        for ws in sorted(set(view.workspaces) | set(view.ws_members)):
            w = f"{o}/{ws}"
            vocab.append((ADMIN_ACTION, w))
            vocab += [(scope_action(s, g), w) for s in view.ws_profile(ws).sections for g in (VIEW, FULL)]
            vocab += [(APP_ACTION, f"{w}/{app}") for app in sorted(view.apps.get(ws, {}))]
            for table in sorted(set(view.tables.get(ws, {})) | set(view.live_tables.get(ws, {}))):
                vocab += [(action, f"{w}/{table}") for action in (*TABLE_ACTIONS, TABLE_EXPORT)]
                names = set(view.fields.get(ws, {}).get(table, {})) | set(view.unmanaged_fields(ws, table))
                vocab += [("read", f"{w}/{table}/{f}") for f in sorted(names)]
        for space in sorted(view.spaces):
            s = f"{o}/{space}"
            vocab += [(action, s) for action in SPACE_ACTIONS]
            if view.spaces[space].get("kind") in (None, "project"):
                vocab += [(scope_action(k, g), s) for k in (*profile.features, *profile.settings) for g in (VIEW, FULL)]
        return vocab

    # --- the one question --------------------------------------------------------

    def known(self, org: str, action: str, resource: str) -> bool:
        """Whether ``action resource`` (any accepted spelling) is a capability in ``org``."""
        return self.rule_for(org, *self.canonical(org, action, resource)) is not None

    def rule_for(self, org: str, action: str, resource: str) -> Rule | None:
        """The rule that answers ``action`` on ``resource`` (full key) in ``org``, if it is a capability."""
        view = self.views.get(org)
        if view is None:
            return None
        profile = view.profile
        if resource == org:
            if action == ADMIN_ACTION:
                return rules_org.admin_rule
            if action in profile.permission_keys:
                return partial(rules_org.matrix_rule, key=action)
            if action in OWNER_ACTIONS and administers_spaces(profile):
                return partial(rules_org.owner_action_rule, action=action)
            return None
        parts = local_name(org, resource).split("/")
        scope = _scopes(action)
        if len(parts) == 1:
            name = parts[0]
            if name in view.workspaces or name in view.ws_members:
                if action == ADMIN_ACTION:
                    return partial(rules_workspace.ws_admin_rule, ws=name)
                if scope and scope[0] in view.ws_profile(name).sections:
                    return partial(rules_workspace.section_rule, ws=name, section=scope[0], grant=scope[1])
            if name in view.spaces:
                if action == "view_space":
                    return partial(rules_space.view_rule, space=name)
                if action in ("update_space", "archive_space", "delete_space"):
                    return partial(rules_space.manage_rule, space=name, action=action)
                if action == "delete_objects":
                    return partial(rules_space.delete_objects_rule, space=name)
                if scope and view.spaces[name].get("kind") in (None, "project"):
                    kind = "features" if scope[0] in profile.features else "settings" if scope[0] in profile.settings else None
                    if kind:
                        return partial(rules_space.scope_rule, space=name, kind=kind, key=scope[0], grant=scope[1])
            return None
        if len(parts) == 2:
            ws, item = parts
            if action == APP_ACTION and item in view.apps.get(ws, {}):
                return partial(rules_workspace.app_rule, ws=ws, app=item)
            if action in TABLE_ACTIONS and view.has_table(ws, item):
                return partial(rules_workspace.table_rule, ws=ws, table=item, action=action)
            if action == TABLE_EXPORT and view.has_table(ws, item):
                return partial(rules_workspace.export_rule, ws=ws, table=item)
            return None
        if len(parts) == 3 and action == "read":
            ws, table, field = parts
            if field in view.fields.get(ws, {}).get(table, {}) or field in view.unmanaged_fields(ws, table):
                return partial(rules_workspace.field_rule, ws=ws, table=table, field=field)
        return None

    def canonical(self, org: str, action: str, resource: str) -> tuple[str, str]:
        """The vocabulary's spelling: full key, and ``edit seo/GOOGLE_SEARCH`` as ``GOOGLE_SEARCH:Full seo``."""
        full = full_name(org, resource)
        view = self.views.get(org)
        parts = local_name(org, full).split("/")
        if view is not None and len(parts) == 2 and action in VERB_GRANTS:
            place, key = parts
            is_scope = (place in view.spaces and (key in view.profile.features or key in view.profile.settings)) or (
                (place in view.workspaces or place in view.ws_members) and key in view.ws_profile(place).sections
            )
            if is_scope:
                return scope_action(key, VERB_GRANTS[action]), f"{org}/{place}"
        return action, full

    def check(self, org: str, email: str, action: str, resource: str) -> Capability:
        """May ``email`` do ``action`` to ``resource`` (local or full key) in ``org``, and why."""
        asked = (org, action, resource)
        found = self._asked.get(asked)
        if found is None:  # the same question is asked of every member
            canon, full = self.canonical(org, action, resource)
            found = self._asked[asked] = (canon, full, self.rule_for(org, canon, full))
        action, full, rule = found
        if rule is None:
            return Capability(email, org, action, full, False, (f"{action} {local_name(org, full)} is not a capability in {org}",))
        view = self.views[org]
        if email not in self._known.get(org, frozenset()):
            return Capability(email, org, action, full, False, (f"{short_member(email)} is not a member of {org}",))
        who = view.person(email)
        if who.suspended:
            reasons = (f"{short_member(email)} is suspended (deactivated live)", "suspended members have no access while suspended")
            return Capability(email, org, action, full, False, reasons)
        allowed, why = rule(view, who)
        if who.superuser and not allowed and getattr(rule, "func", None) in _WORKSPACE_RULES:
            allowed, why = True, [f"{short_member(email)} has admin access in the target that accessops does not manage (e.g. Directus's Administrator role)"]
        if who.invited:  # configured access is not effective until they accept (seeds 001, 003)
            pending = f"{'allowed' if allowed else 'still denied'} once they accept: {'; '.join(why)}"
            reasons = (f"{short_member(email)} is invited and has not accepted yet, so cannot log in", pending)
            return Capability(email, org, action, full, False, reasons, configured=allowed)
        return Capability(email, org, action, full, allowed, tuple(why))

    def capabilities(self, org: str, email: str) -> list[Capability]:
        """Every capability of one member in ``org``, allowed and denied."""
        return [self.check(org, email, action, resource) for action, resource in self.vocabulary(org)]

    def allowed(self, org: str, email: str, leave_out: Collection[str] = ()) -> set[str]:
        """Names of the capabilities ``email`` is allowed in ``org``: ``capabilities`` filtered, only faster.

        Answers as ``{c.name for c in capabilities(org, email) if c.allowed}``
        does. Every rule looks at the member's own memberships of one
        workspace or space (the capability's *locus*) and otherwise only at
        who they are in the organization, so outside their own loci a member
        is answered like a stand-in with the same org role and flags but no
        membership, worked out once. Only their own loci are checked one by
        one: the access delta of a 10k-member organization stays quick.

        ``leave_out`` names own loci (workspaces or spaces the member is in)
        whose capabilities the answer omits, allowed or not: for a caller
        that compares two answers and knows those loci answer alike in both.
        It applies only on the grouped path (``_fast_org`` not None).
        """
        if org not in self.views or email not in self._known.get(org, frozenset()):
            return set()
        view = self.views[org]
        who = view.person(email)
        if who.invited or who.suspended:
            return set()
        fast = self._fast_org(org)
        if fast is None or who.superuser:  # capability names shared between loci, or a rare superuser: the slow way
            return {cap.name for cap in self.capabilities(org, email) if cap.allowed}
        per_locus, everywhere = fast.outside(view, who)
        out = set(everywhere)
        for locus in fast.loci_of.get(email, ()):
            out -= per_locus.get(locus, frozenset())  # names are unique to their locus (see _FastOrg.build)
            if locus not in leave_out:
                out |= fast.held_in(view, who, locus)
        return out

    def _fast_org(self, org: str) -> "_FastOrg | None":
        if org not in self._fast:
            self._fast[org] = _FastOrg.build(self, org)
        return self._fast[org]

    def explain(self, email: str) -> list[Capability]:
        """Every capability of ``email`` in every organization they belong to."""
        return [cap for org in sorted(self.views) if email in self._known[org] for cap in self.capabilities(org, email)]

    def who_can(self, action: str, resource: str) -> list[Capability]:
        """The answer for every member of every organization where ``action resource`` is a capability.

        Raises UnknownCapability when no organization has it.
        """
        answers: list[Capability] = []
        found = False
        for org in sorted(self.views):
            act, full = self.canonical(org, action, resource)
            if self.rule_for(org, act, full) is None:
                continue
            found = True
            answers += [self.check(org, email, act, full) for email in self.members(org)]
        if not found:
            raise UnknownCapability(f"{action} {resource} is not a capability of any organization")
        return answers


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a membership's attrs: equal only for equal values of the same types."""
    # located YAML values are str/dict/list subclasses; the rules only read them
    if value is None or isinstance(value, str):
        return value if type(value) is str else str(value)
    if isinstance(value, dict):
        return ("dict", tuple(sorted(((k, _frozen(v)) for k, v in value.items()), key=lambda kv: repr(kv[0]))))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(_frozen(v) for v in value))
    kind = type(value)
    if kind in (bool, int, float):
        return (kind.__name__, value)  # True and 1 are equal keys otherwise
    return object()  # anything else: never shared


# Rules whose answer for a member of the workspace depends only on that
# membership and the workspace's structure: who the member is shows only in
# the reasons (seed 001: the org role grants nothing inside a workspace).
# section_rule is not one: seed 002's org Admin holds every section.
_WORKSPACE_RULES = frozenset({
    rules_workspace.ws_admin_rule, rules_workspace.app_rule,
    rules_workspace.table_rule, rules_workspace.field_rule, rules_workspace.export_rule,
})

# A member of nothing: stands in for every member outside a workspace or space.
_NOBODY = "\x00outside"


class _FastOrg:
    """One organization's capabilities grouped by locus, for :meth:`AccessEngine.allowed`."""

    def __init__(self, rules: dict[str | None, list[tuple[str, Rule]]], loci_of: dict[str, set[str]]) -> None:
        self.rules = rules  # locus (workspace or space name; None: the organization) -> (name, rule)
        self.loci_of = loci_of  # email -> loci where they hold a membership
        self._outside: dict[tuple[str, bool, bool], tuple[dict[str | None, frozenset[str]], frozenset[str]]] = {}
        self._held: dict[tuple[Any, ...], frozenset[str]] = {}  # see held_in
        self._ws_only: dict[str | None, bool] = {}  # see workspace_only
        self._scopes_apart: dict[str | None, tuple[frozenset[str], list[tuple[str, Rule]]]] = {}  # see _nobody_holds

    @classmethod
    def build(cls, engine: AccessEngine, org: str) -> "_FastOrg | None":
        """The grouping, or None when two loci share a capability name (rare; the slow path is exact)."""
        view = engine.views[org]
        rules: dict[str | None, list[tuple[str, Rule]]] = {}
        owner: dict[str, str | None] = {}
        for action, resource in engine.vocabulary(org):
            local = local_name(org, resource)
            if action in VERB_GRANTS and local.count("/") == 1:
                act, full = engine.canonical(org, action, resource)
                local = local_name(org, full)
            else:  # canonical() only respells a plain verb on a two-part key; vocabulary keys are full already
                act, full = action, resource
            rule = engine.rule_for(org, act, full)
            if rule is None:
                continue
            locus = None if full == org else local.split("/", 1)[0]
            name = f"{act} {local}"
            if owner.setdefault(name, locus) != locus:
                return None
            rules.setdefault(locus, []).append((name, rule))
        loci_of: dict[str, set[str]] = {}
        for table in (view.ws_members, view.space_members):
            for locus, people in table.items():
                for email in people:
                    loci_of.setdefault(email, set()).add(locus)
        return cls(rules, loci_of)

    def held_in(self, view: OrgView, who: Person, locus: str) -> frozenset[str]:
        """What ``who`` holds in one of their own loci.

        A locus's rules look at the organization's structure, at who the
        member is (org role, global admin, declared) and at their own
        membership there, nothing else; so members alike in those share one
        answer, worked out once (many people hold the same membership).
        """
        email = who.email
        ws = view.ws_members.get(locus)
        space = view.space_members.get(locus)
        mine = ws.get(email) if ws else None
        key: tuple[Any, ...]
        if mine is not None and self.workspace_only(locus):
            key = (locus, _frozen(mine))  # a workspace member's answers there depend on the membership alone
        else:
            key = (locus, who.role_name, who.global_admin, who.declared, _frozen(mine), _frozen(space.get(email)) if space else None)
        found = self._held.get(key)
        if found is None:
            found = self._held[key] = frozenset(name for name, rule in self.rules.get(locus, ()) if rule(view, who)[0])
        return found

    def _nobody_holds(self, view: OrgView, nobody: Person, locus: str | None) -> frozenset[str]:
        """What the membership-less stand-in holds in ``locus``.

        Workspace rules grant nothing without a membership there (seed 001),
        and a space scope without one needs a bypass role: neither is asked.
        """
        if self.workspace_only(locus):
            return frozenset()
        split = self._scopes_apart.get(locus)
        if split is None:
            is_scope = [(n, rule, getattr(rule, "func", None) is rules_space.scope_rule) for n, rule in self.rules[locus]]
            scopes = frozenset(n for n, _, scope in is_scope if scope)
            split = self._scopes_apart[locus] = (scopes, [(n, rule) for n, rule, scope in is_scope if not scope])
        scopes, others = split
        held = frozenset(n for n, rule in others if rule(view, nobody)[0])
        return held | scopes if nobody.bypass else held

    def workspace_only(self, locus: str | None) -> bool:
        """Whether every rule of ``locus`` is a workspace rule (none of a space of the same name)."""
        known = self._ws_only.get(locus)
        if known is None:
            known = self._ws_only[locus] = all(getattr(rule, "func", None) in _WORKSPACE_RULES for _, rule in self.rules.get(locus, ()))
        return known

    def outside(self, view: OrgView, who: Person) -> tuple[dict[str | None, frozenset[str]], frozenset[str]]:
        """What someone like ``who`` holds without any membership: per locus (org-level under None), and in all."""
        key = (who.role_name, who.global_admin, who.declared)
        found = self._outside.get(key)
        if found is None:
            nobody = Person(_NOBODY, who.role, who.role_name, who.global_admin, False, who.declared)
            # workspace rules grant nothing without a membership there (seed 001): no need to ask
            per_locus = {locus: self._nobody_holds(view, nobody, locus) for locus in self.rules}
            found = self._outside[key] = (per_locus, frozenset().union(*per_locus.values()))
        return found
