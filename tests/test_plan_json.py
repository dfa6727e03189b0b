"""The JSON plan is Terraform's JSON plan representation: same keys as ``terraform show -json``,
Terraform addresses (type.name[index]), accessops's additions under ``accessops``, and a saved
plan file whose top level is that plan, which ``Plan.from_json`` reads back exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from plan_scenario import NEW_OWNERS, Planned, accessops, planned
from accessops.model.compile import compile_model
from accessops.manifest.loader import load
from accessops.model.resource import RESOURCE_TYPES, Resource
from accessops.plan.change import Action, Change, Drift, Origin, Plan
from accessops.plan.planfile import from_file, to_file
from accessops.plan.terraform_json import TERRAFORM_VERSION, block_name, tf_address

TERRAFORM = json.loads((Path(__file__).parent / "fixtures/terraform/show-json-1.11.json").read_text())
EXAMPLES = Path(__file__).resolve().parents[1] / "examples/policies"


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Planned:
    return planned(tmp_path_factory.mktemp("plan-json"))


def by_action(changes: list[dict[str, Any]], actions: list[str]) -> dict[str, Any]:
    return next(c for c in changes if c["change"]["actions"] == actions)


def test_top_level_has_every_key_terraform_1_11_writes(scenario: Planned) -> None:
    assert set(TERRAFORM) <= set(scenario.data)
    assert scenario.data["format_version"] == TERRAFORM["format_version"] == "1.2"
    assert scenario.data["terraform_version"] == TERRAFORM_VERSION
    assert scenario.data["applyable"] is True and scenario.data["complete"] is True and scenario.data["errored"] is False
    assert scenario.data["timestamp"].endswith("Z") and len(scenario.data["timestamp"]) == len(TERRAFORM["timestamp"])
    assert set(TERRAFORM["prior_state"]) <= set(scenario.data["prior_state"])
    assert set(TERRAFORM["configuration"]) == set(scenario.data["configuration"])


def test_each_resource_and_change_has_terraform_keys_at_every_level(scenario: Planned) -> None:
    tf_resource = TERRAFORM["planned_values"]["root_module"]["resources"][0]  # a for_each instance
    for res in scenario.data["planned_values"]["root_module"]["resources"]:
        assert set(res) == set(tf_resource) or set(res) == set(tf_resource) - {"index"}, res["address"]
    for tf_change in TERRAFORM["resource_changes"]:
        ours = by_action(scenario.changes, tf_change["change"]["actions"]) if tf_change["change"]["actions"] != ["delete", "create"] else None
        if ours is None:
            continue
        assert set(tf_change) - {"action_reason"} <= set(ours)
        assert set(tf_change["change"]) <= set(ours["change"])
        for side in ("before_sensitive", "after_sensitive"):
            assert type(ours["change"][side]) is type(tf_change["change"][side])  # {} beside an object, false beside null
    deleted = by_action(scenario.changes, ["delete"])
    assert deleted["action_reason"] == "delete_because_each_key"  # the block (type, org) still has instances
    tf_block = TERRAFORM["configuration"]["root_module"]["resources"][0]
    for block in scenario.data["configuration"]["root_module"]["resources"]:
        assert set(tf_block) <= set(block)
    provider = scenario.data["configuration"]["provider_config"]["accessops"]
    assert provider["full_name"] == scenario.changes[0]["provider_name"]


def test_addresses_are_type_name_index_and_the_native_address_stays_under_accessops(scenario: Planned) -> None:
    bo = next(c for c in scenario.changes if c["address"] == 'accessops_member.acme["bo@acme.test"]')
    assert (bo["type"], bo["name"], bo["index"], bo["mode"]) == ("accessops_member", "acme", "bo@acme.test", "managed")
    assert bo["accessops"] == {"address": 'member["acme/bo@acme.test"]', "type": "member", "key": "acme/bo@acme.test", "notes": bo["accessops"]["notes"], "flags": bo["accessops"]["flags"]}
    assert bo["change"]["after"]["email"] == "bo@acme.test" and bo["change"]["after"]["org"] == "acme"
    grant = next(c for c in scenario.changes if c["type"] == "accessops_workspace_member" and c["change"]["actions"] == ["update"])
    assert grant["index"] == "crm/bo@acme.test" and grant["change"]["after"]["workspace"] == "crm"
    assert NEW_OWNERS <= {c["address"] for c in scenario.changes}
    org = next(r for r in scenario.data["planned_values"]["root_module"]["resources"] if r["type"] == "accessops_organization")
    assert org["address"] == "accessops_organization.acme" and "index" not in org
    assert {"target", "summary", "fingerprints", "meta", "version"} <= set(scenario.data["accessops"])
    assert scenario.data["accessops"]["summary"] == {"add": 1, "change": 2, "destroy": 2}


def test_planned_values_is_the_prior_state_with_the_changes_made(scenario: Planned) -> None:
    def members(section: dict[str, Any]) -> dict[str, str]:
        return {r["values"]["email"]: r["values"]["role"] for r in section["root_module"]["resources"] if r["type"] == "accessops_member"}

    before = members(scenario.data["prior_state"]["values"])
    after = members(scenario.data["planned_values"])
    assert before == {"olivia@acme.test": "Owner", "marcus@acme.test": "Owner", "fiona@acme.test": "Billing", "bo@acme.test": "Member", "cy@acme.test": "Member"}
    assert after == {"olivia@acme.test": "Owner", "marcus@acme.test": "Owner", "fiona@acme.test": "Billing", "bo@acme.test": "Owner", "dan@acme.test": "Owner"}
    # every planned resource is either unchanged prior state or a change's after
    prior = {r["address"]: r["values"] for r in scenario.data["prior_state"]["values"]["root_module"]["resources"]}
    afters = {c["address"]: c["change"]["after"] for c in scenario.changes if c["change"]["after"] is not None}
    for res in scenario.data["planned_values"]["root_module"]["resources"]:
        assert res["values"] == afters.get(res["address"], prior.get(res["address"]))
    # as in Terraform, every resource that stays has an entry in resource_changes: no-op when untouched
    kept = [c["address"] for c in scenario.changes if c["change"]["actions"] != ["delete"]]
    assert sorted(kept) == sorted(r["address"] for r in scenario.data["planned_values"]["root_module"]["resources"])
    assert all(c["change"]["before"] == c["change"]["after"] for c in scenario.changes if c["change"]["actions"] == ["no-op"])
    dan = next(c for c in scenario.changes if c["change"]["actions"] == ["create"])
    # live-only attributes (status, invited and joined times, ...) are known only after the apply
    assert dan["change"]["after_unknown"] == {k: True for k in RESOURCE_TYPES["member"].readonly}
    assert {"status", "invited_at", "joined_at"} <= set(dan["change"]["after_unknown"])


def test_saved_plan_file_top_level_is_the_plan_and_show_prints_it(scenario: Planned) -> None:
    raw = json.loads(scenario.plan_file.read_text())
    assert next(iter(raw)) == "accessops_plan_file" and raw["accessops_plan_file"]["kind"] == "accessops-plan"
    assert set(TERRAFORM) - {"timestamp"} <= set(raw)
    shown = accessops(scenario.root, "show", str(scenario.plan_file), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    envelope = from_file(raw)
    assert envelope is not None and {"kind", "format", "checksum", "manifests", "plan"} <= set(envelope)
    data["accessops"]["meta"].pop("plan_file")
    assert data == envelope["plan"]
    assert [c["address"] for c in data["resource_changes"]] == [c["address"] for c in scenario.changes]


def test_plan_json_round_trips_through_from_json(scenario: Planned) -> None:
    for data in (scenario.data, (from_file(json.loads(scenario.plan_file.read_text())) or {})["plan"]):
        plan = Plan.from_json(data)
        assert plan.to_json() == data
        assert {c.address for c in plan.pending} >= {'member["acme/bo@acme.test"]', 'member["acme/cy@acme.test"]'}
        assert 'member["acme/olivia@acme.test"]' in plan.prior


def test_a_plan_file_of_accessops_0_1_is_still_read(tmp_path: Path) -> None:
    old_plan = {
        "format_version": "1.2", "accessops_version": "0.1.0", "target": "local:t.db", "resource_drift": [
            {"address": 'member["acme/bo@acme.test"]', "mode": "managed", "type": "member", "name": "acme/bo@acme.test", "origin": "changed live",
             "change": {"actions": ["update"], "before": {"role": "Member"}, "after": {"role": "Admin"}}}],
        "resource_changes": [{"address": 'member["acme/bo@acme.test"]', "mode": "managed", "type": "member", "name": "acme/bo@acme.test",
                              "change": {"actions": ["update"], "before": {"role": "Admin"}, "after": {"role": "Member"}}, "notes": ["n"], "flags": ["f"]}],
        "summary": {"add": 0, "change": 1, "destroy": 0}, "fingerprints": {'member["acme/bo@acme.test"]': "abc"}, "meta": {}, "access_delta": [],
    }
    plan = Plan.from_json(old_plan)
    assert plan.changes == [Change(Action.UPDATE, "member", "acme/bo@acme.test", {"role": "Admin"}, {"role": "Member"}, ("n",), ("f",))]
    assert plan.drift == [Drift("member", "acme/bo@acme.test", Origin.LIVE, {"role": "Member"}, {"role": "Admin"})]
    assert (plan.target, plan.fingerprints, plan.extras) == ("local:t.db", {'member["acme/bo@acme.test"]': "abc"}, {"access_delta": []})


def test_no_attribute_is_named_like_a_key_segment_in_any_example() -> None:
    # values = attributes + key segments; Plan.from_json takes the segments out again
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        compiled = compile_model(load([folder]))
        for res in compiled.resources.values():
            clash = set(res.attrs) & set(RESOURCE_TYPES[res.type].key_parts)
            assert not clash, f"{folder.name}: {res.address} has attributes {clash} named like its key"
    for type_ in RESOURCE_TYPES.values():
        assert not (type_.readonly & set(type_.key_parts))


@pytest.mark.parametrize(
    "org, key, address, name",
    [
        ("acme", "acme/bo@acme.test", 'accessops_member.acme["bo@acme.test"]', "acme"),
        ("acme-eu", "acme-eu/bo@acme.test", 'accessops_member.acme-eu["bo@acme.test"]', "acme-eu"),
        # not a Terraform identifier: spelled with "_" and a hash, so "acme.io" and "acme_io" stay apart
        ("acme.io", "acme.io/bo@acme.test", f'accessops_member.{block_name("acme.io")}["bo@acme.test"]', block_name("acme.io")),
        ("9lives", "9lives/a@b.test", f'accessops_member.{block_name("9lives")}["a@b.test"]', block_name("9lives")),
        # a quote in an email is escaped in the index, as Terraform escapes for_each keys
        ("acme", 'acme/x"]y@acme.test', 'accessops_member.acme["x\\"]y@acme.test"]', "acme"),
    ],
)
def test_hostile_names_make_unambiguous_addresses(org: str, key: str, address: str, name: str) -> None:
    assert tf_address("member", key) == address
    change = Change(Action.CREATE, "member", key, None, {"role": "Owner"})
    data = Plan(changes=[change], prior={}).to_json()
    entry = data["resource_changes"][0]
    assert (entry["name"], entry["index"]) == (name, key.split("/", 1)[1])
    assert entry["change"]["after"]["org"] == org
    assert Plan.from_json(data).changes == [change]
    assert block_name("acme.io") != block_name("acme_io") and block_name("acme.io").startswith("acme_io_")


def test_a_replace_removes_undeclared_children_from_planned_values() -> None:
    prior = {
        r.address: r
        for r in (
            Resource("space", "acme/roadmap", {"kind": "project", "private": True}),
            Resource("space_member", "acme/roadmap/bo@acme.test", {"role": "member"}),
            Resource("space_member", "acme/roadmap/cy@acme.test", {"role": "member"}),
        )
    }
    changes = [
        Change(Action.REPLACE, "space", "acme/roadmap", dict(prior['space["acme/roadmap"]'].attrs), {"kind": "drive", "private": True}),
        Change(Action.CREATE, "space_member", "acme/roadmap/bo@acme.test", None, {"role": "member"}),
    ]
    data = Plan(changes=changes, prior=prior).to_json()
    planned_addresses = [r["address"] for r in data["planned_values"]["root_module"]["resources"]]
    assert planned_addresses == ['accessops_space.acme["roadmap"]', 'accessops_space_member.acme["roadmap/bo@acme.test"]']
    replace = data["resource_changes"][0]
    assert replace["action_reason"] == "replace_because_cannot_update" and replace["change"]["replace_paths"] == [["kind"]]
    assert data["resource_changes"][1].get("action_reason") is None


def test_an_empty_plan_is_still_a_valid_terraform_plan() -> None:
    data = Plan(changes=[]).to_json()
    assert data["planned_values"] == {"root_module": {}} and data["resource_changes"] == []
    assert data["applyable"] is False and data["configuration"]["provider_config"]["accessops"]["name"] == "accessops"
    assert Plan.from_json(data).to_json() == data


def _tampered(scenario: Planned, tmp_path: Path, edit: Any) -> Path:
    """The saved plan with ``edit`` applied and its checksum made to match again (anyone can)."""
    import hashlib

    from accessops.apply.planfile import canonical

    envelope = from_file(json.loads(scenario.plan_file.read_text()))
    assert envelope is not None
    edit(envelope["plan"])
    covered = {k: v for k, v in envelope.items() if k not in ("checksum", "signature")}
    envelope["checksum"] = hashlib.sha256(canonical(covered)).hexdigest()
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(to_file(envelope)))
    return path


def _first_change(data: dict[str, Any], address: str) -> dict[str, Any]:
    return next(c for c in data["resource_changes"] if c["address"] == address)


@pytest.mark.parametrize(
    "what, edit, message",
    [
        # policy tools judged bo's address; accessops would have applied dan's key
        ("key behind another address", lambda d: _first_change(d, 'accessops_member.acme["bo@acme.test"]')["accessops"].update(key="acme/dan@acme.test"), "does not match its accessops key"),
        ("values naming someone else", lambda d: _first_change(d, 'accessops_member.acme["bo@acme.test"]')["change"]["after"].update(email="eve@acme.test"), "values name another object"),
        ("an unknown type", lambda d: _first_change(d, 'accessops_member.acme["bo@acme.test"]')["accessops"].update(type="root"), "not an accessops resource type"),
        ("a state object under a false address", lambda d: d["prior_state"]["values"]["root_module"]["resources"][1].update(address="accessops_member.acme[\"x@acme.test\"]"), "does not match"),
        ("a key with too many segments", lambda d: _first_change(d, 'accessops_member.acme["bo@acme.test"]')["accessops"].update(key="acme/x/bo@acme.test"), "does not have the segments"),
    ],
)
def test_a_plan_file_whose_terraform_fields_disagree_with_accessops_keys_is_refused(
    scenario: Planned, tmp_path: Path, what: str, edit: Any, message: str
) -> None:
    path = _tampered(scenario, tmp_path, edit)
    for argv in (("show", str(path), "--format", "json"), ("apply", str(path), "--auto-approve")):
        done = accessops(scenario.root, *argv)
        assert done.returncode == 1, (what, done.stdout, done.stderr)
        assert message in done.stderr and "Traceback" not in done.stderr, (what, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_nested_plan_file_is_still_shown(scenario: Planned, tmp_path: Path) -> None:
    import hashlib

    plan_json = (from_file(json.loads(scenario.plan_file.read_text())) or {})["plan"]
    checksum = hashlib.sha256(json.dumps(plan_json, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"kind": "accessops-plan", "checksum": checksum, "plan": plan_json}, indent=1))
    done = accessops(scenario.root, "show", str(nested), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resource_changes"] == plan_json["resource_changes"]


def test_drift_is_terraform_resource_drift_with_relevant_attributes(tmp_path: Path) -> None:
    from plan_scenario import BASE

    planned(tmp_path, BASE)  # applied, nothing to change
    done = accessops(tmp_path, "tenant", "set-role", "bo@acme.test", "Admin", "--org", "acme")  # behind git's back
    assert done.returncode == 0, done.stderr
    shown = accessops(tmp_path, "plan", "access", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    (drift,) = data["resource_drift"]
    assert drift["address"] == 'accessops_member.acme["bo@acme.test"]' and drift["index"] == "bo@acme.test"
    assert set(TERRAFORM["resource_changes"][0]) - {"action_reason"} <= set(drift)
    assert set(TERRAFORM["resource_changes"][0]["change"]) <= set(drift["change"])
    assert (drift["change"]["before"]["role"], drift["change"]["after"]["role"]) == ("Member", "Admin")
    assert drift["accessops"]["origin"] == "changed live"
    assert data["relevant_attributes"] == [{"resource": drift["address"], "attribute": ["role"]}]
    # the plan sets bo back to Member
    (back,) = [c for c in data["resource_changes"] if c["change"]["actions"] != ["no-op"]]
    assert back["address"] == drift["address"] and back["change"]["after"]["role"] == "Member"
    assert Plan.from_json(data).to_json() == data
    text = accessops(tmp_path, "plan", "access").stdout
    assert '~ member["acme/bo@acme.test"]  [changed live]' in text  # the views keep the native address


def test_a_refused_plan_is_not_applyable() -> None:
    change = Change(Action.DELETE, "member", "acme/bo@acme.test", {"role": "Owner"}, None)
    plan = Plan(changes=[change], prior={'member["acme/bo@acme.test"]': Resource("member", "acme/bo@acme.test", {"role": "Owner"})})
    assert plan.to_json()["applyable"] is True
    plan.extras["refusals"] = [{"guard": "last_admin", "message": "m", "override": ""}]
    data = plan.to_json()
    assert data["applyable"] is False and data["planned_values"] == {"root_module": {}}
    assert data["resource_changes"][0]["action_reason"] == "delete_because_no_resource_config"  # no acme member block is left
