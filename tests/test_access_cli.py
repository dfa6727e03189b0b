"""``explain`` and ``who-can``: output, member lookup, and the property that they always agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accessops.access.engine import AccessEngine
from accessops.access.policies import model_profiles
from accessops.cli import main
from accessops.manifest.loader import load
from accessops.model.compile import compile_model

from access_state import State

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "access"
EXAMPLES = sorted(p for p in (ROOT / "examples" / "policies").iterdir() if p.is_dir()) if (ROOT / "examples" / "policies").is_dir() else []
SOURCES = [FIXTURES / "policy-holds", FIXTURES / "policy-fails", *EXAMPLES]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_explain_prints_each_capability_with_its_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "bo", str(FIXTURES / "policy-holds")]) == 0
    out = capsys.readouterr().out
    assert "bo@acme.test in acme (Member)" in out
    assert "  read crm/customers/address: denied: field address read is restricted to [delivery]; bo is Editor without delivery" in out


def test_who_can_lists_members_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["who-can", "read", "crm/customers/address", str(FIXTURES / "policy-holds")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "read crm/customers/address in acme: 1 of 5 member(s)"
    assert out[1] == "  dee@acme.test: field address read is restricted to [delivery]; dee has delivery"


AMBIGUOUS = """apiVersion: accessops/v1
kind: Organization
metadata: {name: acme}
spec:
  profile: union
  members: [{email: reviewer@globex.test}, {email: reviewer@initech.test}, {email: rita@acme.test}]
"""


@pytest.mark.parametrize(
    "query, outcome",
    [("nobody", "error: no member matches 'nobody'"), ("reviewer", "matches 2 members"), ("ri", "rita@acme.test in acme"), ("REVIEWER@GLOBEX.TEST", "reviewer@globex.test in acme")],
)
def test_member_lookup_by_email_prefix_or_local_part(query: str, outcome: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "org.yaml").write_text(AMBIGUOUS)
    code = main(["explain", query, str(tmp_path)])
    captured = capsys.readouterr()
    assert outcome in (captured.out if code == 0 else captured.err)


def test_unknown_capability_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["who-can", "fly", "crm/customers", str(FIXTURES / "policy-holds")]) == 1
    assert "error: fly crm/customers is not a capability of any organization" in capsys.readouterr().err


def _agree(engine: AccessEngine) -> None:
    """Every (member, capability) answered by explain equals the answer who-can gives."""
    for org in engine.views:
        by_member = {e: {c.name: c for c in engine.explain(e) if c.org == org} for e in engine.members(org)}
        for action, resource in engine.vocabulary(org):
            for answer in engine.who_can(action, resource):
                if answer.org != org:
                    continue
                mine = by_member[answer.member][answer.name]
                assert (mine.allowed, mine.reasons) == (answer.allowed, answer.reasons), answer.line()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_explain_and_who_can_agree_on_every_member_and_capability(source: Path) -> None:
    model = load([source])
    _agree(AccessEngine(compile_model(model).resources, model_profiles(model)))


def test_explain_and_who_can_commands_agree(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "policy-holds")
    explained = {}
    for email in ["olivia@acme.test", "marcus@acme.test", "fiona@acme.test", "bo@acme.test", "dee@acme.test"]:
        for cap in run_json(capsys, "explain", email, path, "--format", "json")["capabilities"]:
            explained[(email, cap["capability"])] = cap["allowed"]
    for name in sorted({n for _e, n in explained}):
        action, resource = name.split(" ", 1)
        members = run_json(capsys, "who-can", action, resource, path, "--all", "--format", "json")["members"]
        for m in members:
            assert explained[(m["member"], name)] == m["allowed"], (m["member"], name)


roles = st.sampled_from(["Owner", "Admin", "Admin W/O Billing", "Billing", "Maintainer", "Member"])
ws_roles = st.sampled_from(["Admin", "Editor", "Viewer", "None"])
customs = st.lists(st.sampled_from(["support", "delivery"]), unique=True, max_size=2)
picker = st.none() | st.lists(st.sampled_from(["Editor", "Viewer", "support", "delivery"]), unique=True, max_size=3)


@settings(max_examples=40, deadline=None)
@given(
    people=st.lists(st.tuples(roles, st.booleans(), st.booleans(), st.none() | st.tuples(ws_roles, customs)), min_size=1, max_size=5),
    table=st.tuples(picker, picker, picker, picker),
    field=picker,
    private=st.booleans(),
    auto_join=st.booleans(),
)
def test_explain_and_who_can_agree_on_generated_states(people, table, field, private, auto_join) -> None:  # type: ignore[no-untyped-def]
    s = State().custom_role("support").custom_role("delivery").workspace("crm").space("p", private=private, auto_join=auto_join)
    read, create, edit, delete = table
    s.table("crm", "t", read=read, create=create, edit=edit, delete=delete).field("crm", "t", "f", field)
    for i, (role, global_admin, invited, ws) in enumerate(people):
        email = f"p{i}@a.test"
        s.member(email, role, global_admin=global_admin, status="invited" if invited else "active")
        if ws is not None:
            s.ws_member("crm", email, ws[0], ws[1])
            s.space_member("p", email)
    _agree(s.engine())
