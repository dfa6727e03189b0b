"""Write team grants back when exporting (issue 13).

Pure, and applied to the documents :func:`decompile` wrote. A target
without group grants holds a team grant as one grant per team member, so
export folds them back: when every member of a team holds exactly the same
grant in a workspace or space, that grant becomes one ``teams:`` entry and
the members' own entries go. Anything less than an exact match stays per
person. Grants only add (docs/access-model.md), and every folded person's
own grant equals each team grant that reaches them, so the folded manifests
compile to exactly the per-person grants live: export followed by plan
still gives "No changes".
"""

from __future__ import annotations

import json
from typing import Any

MIN_TEAM = 2  # a team of one is clearer as a person's own entry

#: document kind -> the attributes that make up a grant there
GRANT_KEYS = {"Workspace": ("role", "custom_roles", "sections"), "Space": ("role", "features", "settings")}


def _grant(entry: dict[str, Any], keys: tuple[str, ...]) -> str:
    return json.dumps({k: entry[k] for k in keys if k in entry}, sort_keys=True)


def fold_team_grants(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``docs`` with exact per-team grants written as ``teams:`` entries (a new list; input untouched)."""
    org = next((d for d in docs if d["kind"] == "Organization"), None)
    if org is None:
        return docs
    teams = sorted(
        ((t["name"], sorted(t.get("members") or [])) for t in org["spec"].get("teams") or []),
        key=lambda t: (-len(t[1]), t[0]),
    )
    out = []
    for doc in docs:
        keys = GRANT_KEYS.get(doc["kind"])
        members = doc["spec"].get("members") if keys else None
        if keys is None or not members:
            out.append(doc)
            continue
        by_email = {m["email"]: m for m in members}
        grants: list[dict[str, Any]] = []
        covered: set[str] = set()
        for name, team_members in teams:
            if len(team_members) < MIN_TEAM or not all(e in by_email for e in team_members):
                continue
            shapes = {_grant(by_email[e], keys) for e in team_members}
            if len(shapes) != 1:
                continue
            first = by_email[team_members[0]]
            grants.append({"team": name, **{k: first[k] for k in keys if k in first}})
            covered.update(team_members)
        if not grants:
            out.append(doc)
            continue
        spec = dict(doc["spec"])
        spec["members"] = [m for m in members if m["email"] not in covered]
        spec["teams"] = sorted(grants, key=lambda g: g["team"])
        out.append({**doc, "spec": spec})
    return out
