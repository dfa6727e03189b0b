"""A saved plan is a proposal: only its manifests and live access decide what `apply PLANFILE` does.

The attacks of issue 10 as tests: a plan edited and its checksum recomputed,
a plan whose guard fails against live state at apply time, two plans made from
the same live state that are each under the removal budget, manifests edited
after the plan, and a plan applied without its manifests (then only a valid
HMAC signature made with ACCESSOPS_PLAN_KEY lets it through). Every refusal
exits 3 and leaves the tenant and the apply log untouched.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from pathlib import Path

import pytest
from safety_env import Workdir, org_doc, workdir  # noqa: F401  (workdir is a fixture)

from accessops.plan.planfile import from_file, to_file

KEY = "k" * 16 + "0123456789abcdef0123456789abcdef"


def canonical(value: object) -> bytes:
    """The canonical JSON that checksums and signatures cover (sorted keys, no spaces), as docs/safety.md says."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def read_envelope(path: Path) -> dict:  # type: ignore[type-arg]
    """A plan file's envelope ({kind, format, checksum, ..., plan}), whatever its layout on disk."""
    envelope = from_file(json.loads(path.read_text()))
    assert envelope is not None
    return envelope


def forge(path: Path, edit, key: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Edit a saved plan the way an attacker would, then recompute its plain checksum (and re-sign with ``key``)."""
    envelope = read_envelope(path)
    edit(envelope)
    covered = {k: v for k, v in envelope.items() if k not in ("checksum", "signature")}
    envelope["checksum"] = hashlib.sha256(canonical(covered)).hexdigest()
    if key is not None:
        envelope["signature"]["value"] = hmac.new(key.encode(), canonical(covered), hashlib.sha256).hexdigest()
    path.write_text(json.dumps(to_file(envelope)))


def change_of(envelope: dict, address: str) -> dict:  # type: ignore[type-arg]
    return next(rc for rc in envelope["plan"]["resource_changes"] if rc.get("accessops", rc)["address"] == address)


def make_owner(envelope: dict) -> None:  # type: ignore[type-arg]
    change_of(envelope, 'member["acme/bo@acme.test"]')["change"]["after"]["role"] = "Owner"


def joined(workdir: Workdir, members: list[str], folder: str = "policies") -> None:
    """Apply ``members`` from ``folder`` and let every invitee accept."""
    write(workdir, folder, org_doc(members))
    assert workdir.run("apply", folder, "--auto-approve")[0] == 0
    workdir.accept_all()


def write(workdir: Workdir, folder: str, text: str) -> None:
    (workdir.root / folder).mkdir(exist_ok=True)
    (workdir.root / folder / "org.yaml").write_text(text)


def planned_promotion(workdir: Workdir) -> Path:
    """Live: ada Owner, bo Member. Saved plan: bo becomes Billing."""
    joined(workdir, ["ada@acme.test:Owner", "bo@acme.test:Member"])
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Billing"]))
    code, _, err = workdir.run("plan", "policies", "--out", "plan.out")
    assert code == 0, err
    return workdir.root / "plan.out"


# --- forgery ---------------------------------------------------------------------------------------


def test_forged_plan_with_recomputed_checksum_is_refused_and_nothing_written(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    forge(plan, make_owner)
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "does not match what its manifests give" in err
    assert 'member["acme/bo@acme.test"]' in err and "re-plan" in err
    assert workdir.live()['member["acme/bo@acme.test"]'].attrs["role"] == "Member"


def test_forged_plan_that_adds_a_change_is_refused(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)

    def add_member(envelope: dict) -> None:  # type: ignore[type-arg]
        envelope["plan"]["resource_changes"].append({
            "address": 'member["acme/eve@evil.test"]', "mode": "managed", "type": "member", "name": "acme/eve@evil.test",
            "change": {"actions": ["create"], "before": None, "after": {"role": "Owner", "status": "active"}},
        })

    forge(plan, add_member)
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert 'member["acme/eve@evil.test"]' in err and "not what the manifests plan" in err


def test_a_plan_whose_manifests_changed_since_is_refused_with_replan(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner"]))  # edited after review
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "policies/org.yaml changed" in err and "re-plan" in err


def test_a_forged_manifest_digest_still_re_derives_from_the_real_manifests(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner"]))
    now = hashlib.sha256((workdir.root / "policies" / "org.yaml").read_bytes()).hexdigest()

    def match_the_new_manifests(envelope: dict) -> None:  # type: ignore[type-arg]
        envelope["manifests"]["files"][0]["sha256"] = now

    forge(plan, match_the_new_manifests)
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "does not match what its manifests give" in err


def test_manifests_given_elsewhere_with_manifests_flag(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    shutil.move(workdir.root / "policies", workdir.root / "checkout")
    code, out, err = workdir.run("apply", str(plan), "--manifests", "checkout", "--auto-approve")
    assert code == 0, err
    assert workdir.live()['member["acme/bo@acme.test"]'].attrs["role"] == "Billing"


def test_without_manifests_and_without_a_key_nothing_applies(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    shutil.rmtree(workdir.root / "policies")
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "--manifests" in err and "ACCESSOPS_PLAN_KEY" in err


# --- signatures ------------------------------------------------------------------------------------


def signed_plan_without_manifests(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ACCESSOPS_PLAN_KEY", KEY)
    plan = planned_promotion(workdir)
    envelope = read_envelope(plan)
    assert envelope["signature"]["algorithm"] == "hmac-sha256"
    shutil.rmtree(workdir.root / "policies")  # apply runs in another trust zone, without the manifests
    return plan


def test_a_signed_plan_applies_without_its_manifests(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = signed_plan_without_manifests(workdir, monkeypatch)
    code, _, err = workdir.run("apply", str(plan), "--auto-approve")
    assert code == 0, err
    assert workdir.live()['member["acme/bo@acme.test"]'].attrs["role"] == "Billing"


def test_a_forged_signed_plan_is_refused(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = signed_plan_without_manifests(workdir, monkeypatch)
    forge(plan, make_owner)  # checksum recomputed, signature left as it was
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "signature does not match" in err


def test_a_plan_signed_with_another_key_is_refused(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = signed_plan_without_manifests(workdir, monkeypatch)
    forge(plan, make_owner, key="an attacker's own key, long enough to pass")
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "signature does not match" in err


def test_an_unsigned_plan_is_refused_once_a_key_is_set(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = planned_promotion(workdir)  # made without a key
    monkeypatch.setenv("ACCESSOPS_PLAN_KEY", KEY)
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "not signed" in err


def test_a_short_key_is_an_error(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    joined(workdir, ["ada@acme.test:Owner"])
    monkeypatch.setenv("ACCESSOPS_PLAN_KEY", "tiny1")
    code, _, err = workdir.run("plan", "policies", "--out", "plan.out")
    assert code == 1 and "at least 32" in err and "tiny1" not in err


# --- guards at apply time ----------------------------------------------------------------------------


def two_owners_plan(workdir: Workdir) -> Path:
    """ada and bo are Owners; the saved plan removes ada."""
    joined(workdir, ["ada@acme.test:Owner", "bo@acme.test:Owner", "cy@acme.test:Member"])
    write(workdir, "policies", org_doc(["bo@acme.test:Owner", "cy@acme.test:Member"]))
    assert workdir.run("plan", "policies", "--out", "plan.out")[0] == 0
    return workdir.root / "plan.out"


def test_a_saved_plan_whose_last_owner_guard_fails_at_apply_is_refused(workdir: Workdir) -> None:
    plan = two_owners_plan(workdir)
    code, _, err = workdir.run("tenant", "set-role", "bo@acme.test", "Member", "--org", "acme")  # demoted live
    assert code == 0, err
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "would keep 0 active" in err
    assert 'member["acme/ada@acme.test"]' in workdir.live()


def test_guards_run_at_apply_for_a_signed_plan_without_manifests(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_PLAN_KEY", KEY)
    plan = two_owners_plan(workdir)
    shutil.rmtree(workdir.root / "policies")
    assert workdir.run("tenant", "set-role", "bo@acme.test", "Member", "--org", "acme")[0] == 0
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "would keep 0 active" in err


def budget_plans(workdir: Workdir) -> tuple[Path, Path]:
    """21 joined members; plan a removes p00-p04, plan b removes p05-p09, both from the same live state."""
    everyone = ["ada@acme.test:Owner", *[f"p{i:02d}@acme.test:Member" for i in range(20)]]
    joined(workdir, everyone)
    write(workdir, "a", org_doc([m for m in everyone if m[1:3] not in ("00", "01", "02", "03", "04")]))
    write(workdir, "b", org_doc([m for m in everyone if m[1:3] not in ("05", "06", "07", "08", "09")]))
    assert workdir.run("plan", "a", "--out", "a.out")[0] == 0  # 5 of 21: under the 25% budget
    assert workdir.run("plan", "b", "--out", "b.out")[0] == 0
    return workdir.root / "a.out", workdir.root / "b.out"


def test_the_second_of_two_plans_under_budget_is_refused(workdir: Workdir) -> None:
    first, second = budget_plans(workdir)
    assert workdir.run("apply", str(first), "--auto-approve")[0] == 0
    err = workdir.refused_without_writing("apply", str(second), "--auto-approve")
    assert "cannot remove 5 of 16 org members" in err
    assert len([a for a in workdir.live() if a.startswith("member[")]) == 16


def test_the_second_of_two_signed_plans_under_budget_is_refused_without_manifests(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_PLAN_KEY", KEY)
    first, second = budget_plans(workdir)
    shutil.rmtree(workdir.root / "a")
    shutil.rmtree(workdir.root / "b")
    assert workdir.run("apply", str(first), "--auto-approve")[0] == 0
    err = workdir.refused_without_writing("apply", str(second), "--auto-approve")
    assert "cannot remove 5 of 16 org members" in err


def test_a_stale_plan_is_a_refusal(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    assert workdir.run("tenant", "set-role", "bo@acme.test", "Admin", "--org", "acme")[0] == 0
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "stale" in err


# --- the file format ---------------------------------------------------------------------------------


def test_the_plan_file_records_the_manifest_digest_and_show_still_works(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    envelope = read_envelope(plan)
    assert envelope["kind"] == "accessops-plan" and envelope["format"] == 2
    digest = envelope["manifests"]
    assert digest["paths"] == ["policies"]
    sha = hashlib.sha256((workdir.root / "policies" / "org.yaml").read_bytes()).hexdigest()
    assert digest["files"] == [{"path": "policies/org.yaml", "sha256": sha}]
    assert "signature" not in envelope  # no key, no signature
    code, out, err = workdir.run("show", str(plan), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["resource_changes"][0]["accessops"]["address"] == 'member["acme/bo@acme.test"]'
    assert "bound to 1 manifest file(s); not signed" in err


def test_the_digest_records_the_git_commit(workdir: Workdir) -> None:
    import subprocess

    joined(workdir, ["ada@acme.test:Owner"])
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(workdir.root)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "policies"], check=True)
    subprocess.run([*git, "commit", "-qm", "policies"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert workdir.run("plan", "policies", "--out", "plan.out")[0] == 0
    assert read_envelope(workdir.root / "plan.out")["manifests"]["commit"] == head


def test_a_plan_file_of_the_old_format_is_shown_but_not_applied(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    body = read_envelope(plan)["plan"]
    old = {"kind": "accessops-plan", "checksum": hashlib.sha256(canonical(body)).hexdigest(), "plan": body}
    plan.write_text(json.dumps(old, indent=1))
    assert workdir.run("show", str(plan))[0] == 0
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "re-plan" in err


def test_a_damaged_plan_file_is_an_error_naming_it(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    plan.write_text(plan.read_text()[:-40])
    code, _, err = workdir.run("apply", str(plan), "--auto-approve")
    assert code == 1 and f"error: {plan}" in err and "Traceback" not in err


def test_the_signing_key_never_reaches_a_plan_file_or_output(workdir: Workdir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESSOPS_PLAN_KEY", KEY)
    joined(workdir, ["ada@acme.test:Owner", "bo@acme.test:Member"])
    # a manifest value that carries the key is refused like any credential
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]).replace("role: Member}", f"role: Member, name: '{KEY}'}}"))
    code, out, err = workdir.run("plan", "policies", "--out", "plan.out")
    assert code == 3 and KEY not in out + err and "credential" in err
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Billing"]))
    outputs = [workdir.run("plan", "policies", "--out", "plan.out"), workdir.run("show", "plan.out"), workdir.run("apply", "plan.out", "--auto-approve")]
    assert [c for c, _, _ in outputs] == [0, 0, 0]
    assert all(KEY not in o + e for _, o, e in outputs)
    assert KEY not in (workdir.root / "plan.out").read_text()


def test_a_saved_plan_that_re_sends_an_invitation_re_derives_to_the_same_time(workdir: Workdir) -> None:
    """The re-sent invitation's time is the plan's, so re-deriving it later gives the very same change."""
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    assert workdir.run("apply", "policies", "--auto-approve")[0] == 0
    workdir.tenant("accept", "ada@acme.test", "acme")
    workdir.tenant("expire_invite", "bo@acme.test", 20, "acme")
    code, _, err = workdir.run("plan", "policies", "--out", "plan.out")
    assert code == 0, err
    resent = change_of(read_envelope(workdir.root / "plan.out"), 'member["acme/bo@acme.test"]')
    assert "resend_invitation" in resent["accessops"]["flags"]
    import time

    time.sleep(1.1)  # the re-derivation happens on a later second of the clock
    code, _, err = workdir.run("apply", "plan.out", "--auto-approve")
    assert code == 0, err
    assert workdir.live()['member["acme/bo@acme.test"]'].attrs["invited_at"] == resent["change"]["after"]["invited_at"]


def test_a_forged_future_plan_time_cannot_re_send_invitations(workdir: Workdir) -> None:
    write(workdir, "policies", org_doc(["ada@acme.test:Owner", "bo@acme.test:Member"]))
    assert workdir.run("apply", "policies", "--auto-approve")[0] == 0
    workdir.tenant("accept", "ada@acme.test", "acme")
    assert workdir.run("plan", "policies", "--out", "plan.out")[0] == 0  # nothing to do: bo was invited just now
    plan = workdir.root / "plan.out"

    def resend_in_2099(envelope: dict) -> None:  # type: ignore[type-arg]
        envelope["plan"]["accessops"]["meta"]["created_at"] = "2099-01-01T00:00:00+00:00"
        before = workdir.live()['member["acme/bo@acme.test"]'].attrs
        envelope["plan"]["resource_changes"] = [{
            "address": 'member["acme/bo@acme.test"]', "mode": "managed", "type": "member", "name": "acme/bo@acme.test",
            "change": {"actions": ["update"], "before": before, "after": {**before, "invited_at": "2099-01-01T00:00:00Z"}},
        }]

    forge(plan, resend_in_2099)
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert "does not match" in err


@pytest.mark.parametrize("damage", [
    lambda e: e.update(manifests={"paths": "policies", "files": []}),
    lambda e: e.update(manifests={"paths": ["policies"], "files": ["policies/org.yaml"]}),
    lambda e: e.update(manifests={"paths": ["policies"], "files": [], "settings": 7}),
    lambda e: e.update(signature="hmac"),
    lambda e: e["plan"].update(resource_changes=[{"address": "x"}]),
    lambda e: e.update(plan=[]),
], ids=["paths-not-a-list", "file-not-an-object", "settings-not-an-object", "signature-not-an-object", "change-without-fields", "plan-not-an-object"])
def test_a_malformed_plan_file_is_one_line_naming_it(workdir: Workdir, damage) -> None:  # type: ignore[no-untyped-def]
    plan = planned_promotion(workdir)
    forge(plan, damage)
    for argv in (("apply", str(plan), "--auto-approve"), ("show", str(plan))):
        code, _, err = workdir.run(*argv)
        assert code == 1 and err.startswith(f"error: {plan}") and len(err.strip().splitlines()) == 1, err


POLICY = """---
apiVersion: accessops/v1
kind: Policy
metadata: {name: baseline}
spec:
  organization: acme
  guardrails:
    - {name: two-owners, min_owners: 2}
"""


def test_a_saved_plan_whose_policy_fails_at_apply_is_refused(workdir: Workdir) -> None:
    joined(workdir, ["ada@acme.test:Owner", "bo@acme.test:Owner", "cy@acme.test:Owner"])
    write(workdir, "policies", org_doc(["bo@acme.test:Owner", "cy@acme.test:Owner"]) + POLICY)
    code, _, err = workdir.run("plan", "policies", "--out", "plan.out")  # two Owners stay: the policy holds
    assert code == 0, err
    assert workdir.run("tenant", "set-role", "cy@acme.test", "Member", "--org", "acme")[0] == 0
    err = workdir.refused_without_writing("apply", "plan.out", "--auto-approve")
    assert "two-owners" in err


def test_a_guard_fails_at_apply_even_when_the_re_derived_plan_matches(workdir: Workdir) -> None:
    """Someone git ignores takes the last seat after review: same changes, but the seats guard now refuses."""
    workdir.write("accessops.toml", '[ignore]\npatterns = ["*@contractor.test"]\n')
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test", "cy@acme.test"], seats=4))
    assert workdir.apply()[0] == 0
    workdir.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test", "cy@acme.test", "eve@acme.test"], seats=4))
    code, _, err = workdir.run("plan", "--out", "plan.out")
    assert code == 0, err
    workdir.tenant("add_member", "dan@contractor.test", "acme")
    err = workdir.refused_without_writing("apply", "plan.out", "--auto-approve")
    assert "would exceed its 4 seats" in err and "does not match" not in err


@pytest.mark.parametrize("where", ["change", "digest"])
def test_a_forged_name_cannot_inject_lines_into_the_refusal(workdir: Workdir, where: str) -> None:
    plan = planned_promotion(workdir)

    def inject(envelope: dict) -> None:  # type: ignore[type-arg]
        if where == "digest":
            envelope["manifests"]["files"].append({"path": "evil\n::error::also", "sha256": "0" * 64})
            return
        envelope["plan"]["resource_changes"].append({
            "address": 'member["acme/x\n::error::pwned\x1b[2J"]', "mode": "managed", "type": "member", "name": "acme/x\n::error::pwned\x1b[2J",
            "change": {"actions": ["delete"], "before": {"role": "Owner"}, "after": None},
        })

    forge(plan, inject)
    err = workdir.refused_without_writing("apply", str(plan), "--auto-approve")
    assert len(err.strip().splitlines()) == 1 and "\x1b" not in err
    assert ("evil\\x0a::error::also is gone" if where == "digest" else "acme/x\\x0a::error::pwned\\x1b[2J") in err


def test_a_plan_for_another_target_is_refused_before_anything_is_read(workdir: Workdir) -> None:
    plan = planned_promotion(workdir)
    err = workdir.refused_without_writing("apply", str(plan), "--target", "local:elsewhere.db", "--auto-approve")
    assert "the plan was made for local:.accessops/tenant.db" in err
    assert not (workdir.root / "elsewhere.db").exists()
