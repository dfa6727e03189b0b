"""bench/gen_org.py: deterministic, and what it writes validates under the union profile."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from accessops.manifest.loader import load

ROOT = Path(__file__).resolve().parent.parent


def _gen_org() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_org", ROOT / "bench" / "gen_org.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_org", module)
    spec.loader.exec_module(module)
    return module


def test_same_arguments_same_bytes() -> None:
    gen = _gen_org()
    assert gen.generate(600, seed=3) == gen.generate(600, seed=3)
    assert gen.generate(600, seed=3) != gen.generate(600, seed=4)


def test_generated_org_validates_with_every_kind(tmp_path: Path) -> None:
    gen = _gen_org()
    model = load([gen.write_org(tmp_path / "org", 1200, seed=1, org="gen")])
    spec = model.organizations["gen"].doc.spec
    assert len(spec.members or []) == 1200
    assert len(spec.teams or []) == 120
    assert len(model.workspaces) == 2 and len(model.spaces) == 24 and len(model.space_types) == 2
    assert len(model.permission_sets) == 2 and len(model.policies) == 1


def test_team_layout_is_the_same_organization_with_grants_per_team(tmp_path: Path) -> None:
    from accessops.model.compile import compile_model

    gen = _gen_org()
    people = load([gen.write_org(tmp_path / "people", 1200, seed=1, org="gen")])
    teams = load([gen.write_org(tmp_path / "teams", 1200, seed=1, org="gen", layout="teams")])
    assert people.organizations["gen"].doc.spec == teams.organizations["gen"].doc.spec
    assert all(ws.doc.spec.teams for ws in teams.workspaces.values())
    assert all(sp.doc.spec.teams and not sp.doc.spec.members for sp in teams.spaces.values())
    compiled = compile_model(teams).resources
    # each workspace reaches 60 teams of ten (plus its two Admins): about as many grants as 600 people
    per_ws = [sum(1 for a in compiled if a.startswith(f'workspace_member["gen/{w}/')) for w in ("ws-000", "ws-001")]
    assert all(600 <= n <= 602 for n in per_ws)
