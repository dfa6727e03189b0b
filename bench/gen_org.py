"""Generate a realistic, deterministic organization of any size for benchmarks.

The output validates under the ``union`` profile: members with org roles,
teams of about ten, the full permission matrix, custom roles, workspaces
(one per ~500 members) with apps, tables and fields, space types, spaces (one
per ~50 members) with feature and settings scopes, permission sets and a
policy. Same arguments, same bytes.

``--layout teams`` writes the same organization (members, teams, matrix,
workspaces, tables, spaces, policy) with access given per team: each
workspace grants roles to 60 teams of ten plus two Admins of its own, and
each space to one team, instead of listing 600 and 10 people one by one
(issue 13's comparison of manifest lines and plan time).

    python bench/gen_org.py --members 10000 --out /tmp/org10k
    python bench/gen_org.py --members 10000 --layout teams --out /tmp/org10k-teams
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import yaml

try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - libyaml missing
    _Dumper = yaml.SafeDumper

FIRST = ["ada", "bo", "chen", "dara", "eli", "fatima", "goran", "hana", "ines", "jon", "kai", "lea", "mo", "nia", "omar", "pia", "quinn", "rui", "sana", "tom"]
LAST = ["berg", "cole", "diaz", "eze", "fox", "gray", "holm", "ito", "jain", "kim", "lund", "mehta", "novak", "ortiz", "park", "ross", "silva", "tan", "usman", "vogel"]
CUSTOM_ROLES = ["support", "delivery", "account-manager", "finance-reviewer", "auditor", "analyst", "recruiter", "legal", "marketing", "partner"]
TABLES = ["customers", "deals", "tickets", "invoices", "shipments", "contracts", "leads", "products"]
FIELDS = ["address", "phone", "email", "tax_id", "bank_account", "notes"]
FEATURES = ["GOOGLE_SEARCH", "AI_SEARCH", "ATTRIBUTION", "TECHNICAL", "CONTENT_ANALYSIS", "CONTENT_EDITOR", "CUSTOM_REPORTS", "AI_AGENTS", "WORKFLOWS", "AUTOMATIONS", "BRAND_KIT"]
SETTINGS = ["SETTINGS_GENERAL", "SETTINGS_MEMBERS", "SETTINGS_DATA_SOURCES", "SETTINGS_PUBLISHING"]
SECTIONS = ["General", "Integrations", "Members", "Projects", "Billing"]
LEVELS = ["None", "View only", "Full"]
MATRIX = {
    "view_members": "Member", "view_teams": "Member", "update_organization": "Admin", "delete_organization": "Owner",
    "create_teams": "Admin W/O Billing", "update_teams": "Admin W/O Billing", "delete_teams": "Owner",
    "invite_members": "Admin W/O Billing", "cancel_invitations": "Admin W/O Billing", "update_permissions": "Owner",
    "create_oauth_clients": "Admin", "export_data": "Admin",
    "view_billing": "Billing", "manage_billing": "Billing", "view_credits": "Member", "purchase_credits": "Billing",
}  # fmt: skip


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "accessops/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def _dump(*documents: dict[str, Any]) -> str:
    return str(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=200, allow_unicode=True))


def _org_role(i: int, rng: random.Random) -> str:
    if i < 2:
        return "Owner"
    if i < 6:
        return rng.choice(["Admin", "Admin W/O Billing"])
    if i < 8:
        return "Billing"
    return rng.choices(["Member", "Maintainer"], weights=[97, 3])[0]


def _scopes(rng: random.Random, keys: list[str], k: int) -> dict[str, str]:
    return {key: rng.choice(LEVELS) for key in sorted(rng.sample(keys, k), key=keys.index)}


def _team_grant(team: str, rng: random.Random, used: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"team": team, "role": rng.choices(["Editor", "Viewer", "None"], weights=[35, 55, 10])[0]}
    if entry["role"] == "None" or rng.random() < 0.3:
        entry["custom_roles"] = sorted(rng.sample(used, min(len(used), rng.randint(1, 2))))
    if rng.random() < 0.2:
        entry["sections"] = _scopes(rng, SECTIONS, rng.randint(1, 2))
    return entry


def generate(members: int, seed: int = 0, org: str = "bench", layout: str = "people") -> dict[str, str]:
    """The files of one organization with ``members`` people: relative path -> YAML text.

    ``layout`` is ``people`` (every grant per person) or ``teams`` (grants per team).
    """
    rng = random.Random(seed)
    emails = [f"{FIRST[i % 20]}.{LAST[(i // 20) % 20]}{i}@{org}.test" for i in range(members)]
    people: list[dict[str, Any]] = [{"email": e, "role": _org_role(i, rng)} for i, e in enumerate(emails)]
    for person in rng.sample(people, max(1, members // 200)):
        person["global_admin"] = True
    teams = [{"name": f"team-{t:03d}", "members": emails[t * 10 : t * 10 + 10]} for t in range(max(1, members // 10))]
    files: dict[str, str] = {}
    files["organization.yaml"] = _dump(
        _doc(
            "Organization",
            org,
            {
                "profile": "union",
                "seats": members + members // 10 + 5,
                "members": people,
                "teams": teams,
                "permissions": dict(MATRIX),
                "custom_roles": [{"name": r, "description": f"{r.replace('-', ' ')} access"} for r in CUSTOM_ROLES],
            },
        )
    )
    files["permission-sets.yaml"] = _dump(
        _doc("PermissionSet", f"{org}-client-reviewer", {"organization": org, "sections": {"Billing": "None", "Projects": "View only"}, "features": {"CUSTOM_REPORTS": "View only", "AI_SEARCH": "View only"}}),
        _doc("PermissionSet", f"{org}-seo-operator", {"organization": org, "sections": {"Billing": "None"}, "features": {"TECHNICAL": "Full", "WORKFLOWS": "Full", "GOOGLE_SEARCH": "Full"}}),
    )
    picker = ["Editor", "Viewer", *CUSTOM_ROLES]
    ws0: set[str] = set()
    for w in range(max(1, members // 500)):
        tables: list[dict[str, Any]] = [
            {
                "name": table,
                **{action: sorted(rng.sample(picker, rng.randint(1, 3))) for action in ("read", "create", "edit", "delete")},
                "fields": [{"name": f, "read": sorted(rng.sample(picker, 2))} for f in rng.sample(FIELDS, 3)],
            }
            for table in TABLES
        ]
        apps = [{"name": f"app-{a}", "allow": sorted(rng.sample(picker, 3))} for a in range(3)]
        # custom roles only matter once a permission uses them; members hold used ones
        used = sorted({r for t in tables for a in ("read", "create", "edit", "delete") for r in t[a]} & set(CUSTOM_ROLES))
        ws_members: list[dict[str, Any]] = []
        if layout == "teams":
            granted = sorted(rng.sample(teams, min(len(teams), 60)), key=lambda t: t["name"])
            ws_members = [{"email": emails[i], "role": "Admin"} for i in sorted(rng.sample(range(members), min(members, 2)))]
            team_grants = [_team_grant(t["name"], rng, used) for t in granted]
            if w == 0:
                ws0 = {m["email"] for m in ws_members} | {e for t in granted for e in t["members"]}
            files[f"workspaces/ws-{w:03d}.yaml"] = _dump(_doc("Workspace", f"ws-{w:03d}", {"organization": org, "members": ws_members, "teams": team_grants, "apps": apps, "tables": tables}))
            continue
        for i in sorted(rng.sample(range(members), min(members, 600))):
            entry: dict[str, Any] = {"email": emails[i], "role": rng.choices(["Admin", "Editor", "Viewer", "None"], weights=[2, 30, 55, 13])[0]}
            if entry["role"] == "None" or (entry["role"] != "Admin" and rng.random() < 0.3):
                entry["custom_roles"] = sorted(rng.sample(used, min(len(used), rng.randint(1, 2))))
            if rng.random() < 0.2:
                entry["sections"] = _scopes(rng, SECTIONS, rng.randint(1, 2))
            elif rng.random() < 0.05:
                entry["permission_set"] = f"{org}-client-reviewer"
            ws_members.append(entry)
        if w == 0:
            ws0 = {m["email"] for m in ws_members}
        files[f"workspaces/ws-{w:03d}.yaml"] = _dump(_doc("Workspace", f"ws-{w:03d}", {"organization": org, "members": ws_members, "apps": apps, "tables": tables}))
    space_types = [
        _doc("SpaceType", "client-project", {"organization": org, "kind": "project", "roles": [{"name": "lead", "permissions": ["update_space", "archive_space"]}, {"name": "operator", "permissions": ["update_space"]}, {"name": "reviewer", "permissions": ["forbid_delete_object"]}]}),
        _doc("SpaceType", "team-space", {"organization": org, "kind": "teamspace", "roles": [{"name": "editor", "permissions": ["update_space"]}, {"name": "member", "permissions": []}]}),
    ]
    spaces = []
    for s in range(max(1, members // 50)):
        project = s % 3 != 0
        roles = ["lead", "operator", "reviewer"] if project else ["editor", "member"]
        space_members: list[dict[str, Any]] = []
        if layout == "teams":
            grant: dict[str, Any] = {"team": rng.choice(teams)["name"], "role": rng.choice(roles)}
            if project and rng.random() < 0.5:
                grant["features"] = _scopes(rng, FEATURES, rng.randint(1, 4))
            spec_t = {"organization": org, "type": "client-project" if project else "team-space", "private": project, "auto_join": not project, "teams": [grant]}
            spaces.append(_doc("Space", f"space-{s:04d}", spec_t))
            continue
        for i in sorted(rng.sample(range(members), min(members, 10))):
            entry = {"email": emails[i], "role": rng.choice(roles)}
            if project and rng.random() < 0.5:
                entry["features"] = _scopes(rng, FEATURES, rng.randint(1, 4))
            if project and rng.random() < 0.2:
                entry["settings"] = _scopes(rng, SETTINGS, 1)
            if project and rng.random() < 0.1:
                entry["permission_set"] = f"{org}-seo-operator"
            space_members.append(entry)
        spec = {"organization": org, "type": "client-project" if project else "team-space", "private": project, "auto_join": not project, "members": space_members}
        spaces.append(_doc("Space", f"space-{s:04d}", spec))
    files["spaces/space-types.yaml"] = _dump(*space_types)
    files["spaces/spaces.yaml"] = _dump(*spaces)
    files["policy.yaml"] = _dump(
        _doc(
            "Policy",
            "baseline",
            {
                "organization": org,
                "guardrails": [
                    {"name": "destructive-owner-only", "owner_only": ["delete_organization", "delete_teams", "update_permissions"]},
                    {"name": "two-owners", "min_owners": 2},
                    {"name": "no-personal-accounts", "forbidden_domains": ["gmail.com"]},
                ],
                # someone outside ws-000, so the assertion holds at every size and the plan is not refused
                "assertions": [{"member": next((e for e in reversed(emails) if e not in ws0), emails[-1]), "action": "delete", "resource": f"ws-000/{TABLES[0]}", "allowed": False}],
            },
        )
    )
    return files


def write_org(out: Path, members: int, seed: int = 0, org: str = "bench", layout: str = "people") -> Path:
    """Write :func:`generate`'s files under ``out`` (created); return ``out``."""
    for rel, text in generate(members, seed, org, layout).items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out


def main() -> None:
    """``python bench/gen_org.py --members N --out DIR [--seed S] [--org NAME]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--org", default="bench")
    parser.add_argument("--layout", choices=("people", "teams"), default="people", help="grants per person (default) or per team")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_org(args.out, args.members, args.seed, args.org, args.layout)
    print(f"wrote {args.members} members to {args.out}")


if __name__ == "__main__":
    main()
