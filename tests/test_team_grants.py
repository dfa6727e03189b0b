"""Team grants through the CLI on the local tenant (issue 13): combined, explained, guarded, exported.

The fixture tests/fixtures/teams/org.yaml gives access to teams support and
sales in workspace crm, a default role in wiki, and team grants in space
roadmap; bo is in team support and also has his own entry.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from accessops.adapters.base import Target
from accessops.adapters.local import LocalAdapter
from accessops.cli import main
from accessops.model.grants import DEFAULT_ROLE, DIRECT, Grant, combine, describe, team_origin

FIXTURE = Path(__file__).parent / "fixtures" / "teams" / "org.yaml"
WORKSPACE_ROLES = {"Admin": 0, "Editor": 1, "Viewer": 2, "None": 3}
LEVELS = {"None": 0, "View only": 1, "Full": 2}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    (tmp_path / "policies").mkdir()
    shutil.copy(FIXTURE, tmp_path / "policies" / "org.yaml")
    return tmp_path


def edit(repo: Path, old: str, new: str) -> None:
    path = repo / "policies" / "org.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def live(repo: Path) -> dict[str, dict]:
    with LocalAdapter(Target.parse(f"local:{repo / '.accessops/tenant.db'}")) as adapter:
        return {a: r.attrs for a, r in adapter.read(["acme"]).items()}


# --- the rule --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grants", "want"),
    [
        # the highest-ranked role wins, whoever gives it
        ([Grant(DIRECT, "Viewer"), Grant(team_origin("support"), "Editor")], {"role": "Editor"}),
        ([Grant(DIRECT, "Admin"), Grant(team_origin("support"), "Editor")], {"role": "Admin"}),
        # a direct entry never narrows a team grant: grants only add
        ([Grant(DIRECT, "None"), Grant(team_origin("support"), "Viewer")], {"role": "Viewer"}),
        # custom roles are the union
        ([Grant(DIRECT, None, ("a",)), Grant(team_origin("t"), None, ("b", "a"))], {"custom_roles": ["a", "b"]}),
        # per scope key the highest level wins
        (
            [Grant(DIRECT, scopes={"sections": {"Billing": "Full", "General": "None"}}), Grant(team_origin("t"), scopes={"sections": {"General": "View only", "Billing": "View only"}})],
            {"sections": {"Billing": "Full", "General": "View only"}},
        ),
        # nothing managed stays unmanaged
        ([Grant(DEFAULT_ROLE, "Viewer")], {"role": "Viewer", "custom_roles": None, "sections": None}),
    ],
)
def test_grants_combine_by_the_documented_rule(grants: list[Grant], want: dict) -> None:
    got = combine(grants, WORKSPACE_ROLES, LEVELS, ("sections",)).attrs
    assert {k: got[k] for k in want} == want


def test_origins_read_as_reasons() -> None:
    assert describe([team_origin("support")]) == "via team support"
    assert describe([DIRECT, team_origin("support"), team_origin("sales")]) == "via team support, team sales and their own entry"
    assert describe([DEFAULT_ROLE]) == "via default role"


# --- through the CLI -----------------------------------------------------------------------------------------------


def test_apply_expands_team_grants_per_person_and_plans_no_changes_after(repo: Path) -> None:
    assert main(["apply", "policies", "--auto-approve"]) == 0
    state = live(repo)
    assert state['workspace_member["acme/crm/bo@acme.test"]'] | {} == {
        "role": "Editor", "custom_roles": ["billing-desk", "helpdesk"], "sections": {"Billing": "Full", "General": "Full"},
    }
    assert state['workspace_member["acme/crm/di@acme.test"]']["role"] == "Viewer"
    assert all(state[f'workspace_member["acme/wiki/{p}@acme.test"]']["role"] == "Viewer" for p in ("bo", "cy", "di", "ed"))
    assert state['space_member["acme/roadmap/bo@acme.test"]']["role"] == "lead"
    assert state['space_member["acme/roadmap/cy@acme.test"]']["features"] == {"AI_SEARCH": "View only"}
    assert main(["plan", "policies", "--detailed-exitcode"]) == 0


def test_plan_names_the_team_and_the_delta_shows_what_joining_a_team_gives(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "policies", "--auto-approve"]) == 0
    edit(repo, "{name: support, members: [bo@acme.test, cy@acme.test]}", "{name: support, members: [bo@acme.test, cy@acme.test, ed@acme.test]}")
    capsys.readouterr()
    assert main(["plan", "policies", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    changes = {rc["accessops"]["address"]: rc for rc in plan["resource_changes"]}  # the native address (docs/plan-json.md)
    ws = changes['workspace_member["acme/crm/ed@acme.test"]']
    assert ws["change"]["after"]["role"] == "Editor" and "via team support and team sales" in ws["accessops"]["notes"]
    assert plan["grant_origins"]['workspace_member["acme/crm/ed@acme.test"]'] == ["team support", "team sales"]
    ed = next(e for e in plan["access_delta"] if e["member"].startswith("ed@acme.test"))
    gained = {c["capability"] if isinstance(c, dict) else c for c in ed["gained"]}
    assert "edit crm/tickets" in gained and "General:Full crm" in gained


def test_leaving_a_team_shows_everything_lost(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "policies", "--auto-approve"]) == 0
    edit(repo, "{name: support, members: [bo@acme.test, cy@acme.test]}", "{name: support, members: [bo@acme.test]}")
    capsys.readouterr()
    assert main(["plan", "policies", "--format", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    cy = next(e for e in plan["access_delta"] if e["member"].startswith("cy@acme.test"))
    lost = {c["capability"] if isinstance(c, dict) else c for c in cy["lost"]}
    assert {"edit crm/tickets", "General:Full crm"} <= lost


def test_explain_and_who_can_name_the_team(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["explain", "cy@acme.test", "policies"]) == 0
    out = capsys.readouterr().out
    assert any("edit crm/tickets: allowed" in line and "via team support" in line for line in out.splitlines())
    assert main(["who-can", "edit", "crm/tickets", "policies"]) == 0
    out = capsys.readouterr().out
    assert any(line.strip().startswith("cy@acme.test") and "via team support" in line for line in out.splitlines())
    assert main(["who-can", "read", "crm/tickets", "policies"]) == 0
    out = capsys.readouterr().out
    assert any(line.strip().startswith("di@acme.test") and "via team sales" in line for line in out.splitlines())


def test_explain_live_names_the_team_when_live_matches_the_manifests(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "policies", "--auto-approve"]) == 0
    capsys.readouterr()
    assert main(["explain", "cy@acme.test", "policies", "--live"]) == 0
    assert "via team support" in capsys.readouterr().out


def test_removing_a_team_grant_counts_every_removal_it_implies(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # admins of wiki: only ada (direct). Make the support team the only Admin of crm, then drop the grant.
    edit(repo, "    - {email: ada@acme.test, role: Admin}\n    - {email: bo@acme.test, role: Viewer", "    - {email: bo@acme.test, role: Viewer")
    edit(repo, "{team: support, role: Editor,", "{team: support, role: Admin,")
    assert main(["apply", "policies", "--auto-approve"]) == 0
    for person in ("ada", "bo", "cy"):  # invited people's removals are never counted; these have joined
        assert main(["tenant", "accept", f"{person}@acme.test", "--org", "acme"]) == 0
    edit(repo, "    - {team: support, role: Admin, custom_roles: [helpdesk], sections: {General: Full, Billing: View only}}\n", "")
    capsys.readouterr()
    code = main(["plan", "policies"])
    out = capsys.readouterr()
    assert code == 3, out
    assert "workspace acme/crm would keep 0 active Admin member(s), minimum 1; the plan removes or demotes bo@acme.test, cy@acme.test" in out.err


def test_drift_on_a_team_grant_is_reported_against_the_team(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "policies", "--auto-approve"]) == 0
    with LocalAdapter(Target.parse(f"local:{repo / '.accessops/tenant.db'}")) as adapter:
        from accessops.plan.change import Action, Change

        adapter.apply(Change(Action.UPDATE, "workspace_member", "acme/crm/di@acme.test", None, {"role": "Editor"}))
    capsys.readouterr()
    assert main(["drift", "policies"]) == 2
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if 'workspace_member["acme/crm/di@acme.test"]' in line and "[changed live]" in line)
    assert "granted via team sales" in line


def test_export_writes_team_grants_back_and_plan_is_clean(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", "policies", "--auto-approve"]) == 0
    out_dir = tmp_path / "exported"
    assert main(["export", "-o", str(out_dir)]) == 0
    import yaml

    docs = list(yaml.safe_load_all((out_dir / "acme.yaml").read_text()))
    crm = next(d for d in docs if d["kind"] == "Workspace" and d["metadata"]["name"] == "crm")
    # sales: di and ed hold exactly the same grant, so it is one team grant again;
    # support: bo's own entry makes his grant differ from cy's, so both stay per person
    assert [(g["team"], g["role"], g["sections"], g.get("custom_roles") or []) for g in crm["spec"]["teams"]] == [("sales", "Viewer", {"General": "View only"}, [])]
    assert {m["email"] for m in crm["spec"]["members"]} == {"ada@acme.test", "bo@acme.test", "cy@acme.test"}
    capsys.readouterr()
    assert main(["plan", str(out_dir), "--detailed-exitcode"]) == 0
    assert "No changes" in capsys.readouterr().out


def test_removing_a_team_grant_counts_against_the_removal_budget(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # a 12-person team granted one workspace; dropping the grant removes 12 of 13 grants there
    people = [f"p{i:02d}@acme.test" for i in range(12)]
    edit(repo, "    - {email: ed@acme.test, role: Member}\n", "    - {email: ed@acme.test, role: Member}\n" + "".join(f"    - {{email: {p}, role: Member}}\n" for p in people))
    edit(repo, "    - {name: leads,", f"    - {{name: ops, members: [{', '.join(people)}]}}\n    - {{name: leads,")
    edit(repo, "    - {team: sales, role: Viewer, sections: {General: View only}}\n", "    - {team: sales, role: Viewer, sections: {General: View only}}\n    - {team: ops, role: Viewer}\n")
    assert main(["apply", "policies", "--auto-approve"]) == 0
    for person in people:
        assert main(["tenant", "accept", person, "--org", "acme"]) == 0
    edit(repo, "    - {team: ops, role: Viewer}\n", "")
    capsys.readouterr()
    assert main(["plan", "policies"]) == 3
    err = capsys.readouterr().err
    assert "cannot remove 12 of" in err and "grants" in err


# --- one grant: combine's shortcut gives what the general merge gives -------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as _st  # noqa: E402

from accessops.model import grants as _grants  # noqa: E402

_LEVELS = {"None": 0, "View only": 1, "Full": 2}
_scope = _st.none() | _st.dictionaries(_st.sampled_from(["Billing", "Projects", "Data"]), _st.sampled_from(list(_LEVELS) + ["odd"]), max_size=3)


@given(
    _st.sampled_from([_grants.DIRECT, _grants.DEFAULT_ROLE, "team support"]),
    _st.none() | _st.sampled_from(["Admin", "Editor", "Viewer", "unranked"]),
    _st.none() | _st.lists(_st.sampled_from(["b", "a", "c"]), max_size=4).map(tuple),
    _scope,
    _scope,
)
def test_one_grant_combines_as_the_general_merge(origin: str, role: str | None, custom: tuple[str, ...] | None, sections: dict[str, str] | None, features: dict[str, str] | None) -> None:
    grant = _grants.Grant(origin, role, custom, {"sections": sections, "features": features})
    rank = {"Admin": 0, "Editor": 1, "Viewer": 2}
    fast = _grants.combine([grant], rank, _LEVELS, ("sections", "features", "settings"))
    general = _grants._merged([grant], rank, _LEVELS, ("sections", "features", "settings"))
    assert fast == general and list(fast.attrs) == list(general.attrs)
    assert [list(v) for v in fast.attrs.values() if isinstance(v, dict)] == [list(v) for v in general.attrs.values() if isinstance(v, dict)]
