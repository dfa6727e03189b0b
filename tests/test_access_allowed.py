"""AccessEngine.allowed (the access delta's fast path) answers exactly as the capabilities do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from accessops.access.engine import AccessEngine
from accessops.access.policies import model_profiles
from accessops.manifest.loader import load
from accessops.model.compile import compile_model

from access_state import State

ROOT = Path(__file__).resolve().parent.parent


def slow(engine: AccessEngine, org: str, email: str) -> set[str]:
    return {cap.name for cap in engine.capabilities(org, email) if cap.allowed}


def test_generated_org_every_member_every_role(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gen_org", ROOT / "bench" / "gen_org.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_org", gen)
    spec.loader.exec_module(gen)
    model = load([gen.write_org(tmp_path / "org", 700, seed=2, org="gen")])
    engine = AccessEngine(compile_model(model).resources, model_profiles(model))
    members = engine.members("gen")
    assert members
    for email in members[:: max(1, len(members) // 150)] + members[:8]:  # owners, admins, billing first
        assert engine.allowed("gen", email) == slow(engine, "gen", email), email
    assert engine._fast["gen"] is not None  # the fast path was taken


def test_members_outside_private_and_auto_join_spaces_invitees_and_strangers() -> None:
    s = State().member("o@a.test", "Owner").member("ad@a.test", "Admin").member("bo@a.test").member("gl@a.test", global_admin=True)
    s.member("inv@a.test", status="invited").custom_role("support").workspace("crm")
    s.ws_member("crm", "bo@a.test", "Viewer", custom_roles=["support"]).ws_member("crm", "ghost@a.test", "Editor")
    s.table("crm", "customers", edit=["support"]).field("crm", "customers", "address", ["support"]).app("crm", "desk", ["Editor"])
    s.space_type("client", lead=["update_space"], reviewer=["forbid_delete_object"])
    s.space("roadmap", type="client", private=True).space("lobby", kind="teamspace", auto_join=True).space("open")
    s.space_member("roadmap", "bo@a.test", "reviewer", features={"AI_SEARCH": "Full"}).space_member("open", "gl@a.test", "lead")
    engine = s.engine()
    for email in ("o@a.test", "ad@a.test", "bo@a.test", "gl@a.test", "inv@a.test", "ghost@a.test", "nobody@a.test"):
        assert engine.allowed("acme", email) == slow(engine, "acme", email), email


def test_a_workspace_named_like_its_organization_takes_the_exact_path() -> None:
    s = State().member("o@a.test", "Owner").member("bo@a.test").workspace("acme").ws_member("acme", "bo@a.test", "Admin")
    engine = s.engine()
    for email in ("o@a.test", "bo@a.test"):
        assert engine.allowed("acme", email) == slow(engine, "acme", email)
    assert engine._fast["acme"] is None


def test_delta_stops_listing_at_its_limit_and_says_how_many_were_not_compared() -> None:
    from accessops.access.delta import access_delta

    s = State().member("o@a.test", "Owner").matrix("view_members", "Member")
    for i in range(5):
        s.member(f"m{i}@a.test")
    before = State().matrix("view_members", "Member").resources
    full = access_delta(before, s.resources, s.profiles())
    assert len(full) == 6
    cut: dict[str, int] = {}
    first = len(full[0]["gained"])
    bounded = access_delta(before, s.resources, s.profiles(), limit=first, cut=cut)
    assert bounded == full[:1] and cut == {"limit": first, "members_not_compared": 5}
    untouched: dict[str, int] = {}
    assert access_delta(before, s.resources, s.profiles(), limit=10**6, cut=untouched) == full and untouched == {}
