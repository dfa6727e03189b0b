"""The Markdown plan comment: layout, the 60,000-character budget, and team templates."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markdown_parse import parse

from accessops.errors import ConfigError
from accessops.plan.change import Action, Change, Drift, Origin, Plan
from accessops.render.markdown import add_template_option, render_markdown


def member_change(i: int, action: str) -> dict[str, Any]:
    """One synthetic member change in Plan JSON shape."""
    before: dict[str, Any] | None = {"role": "Member", "sections": {"Billing": "None", "General": "Full"}}
    after: dict[str, Any] | None = {"role": "Admin", "sections": {"Billing": "Full", "General": "Full"}}
    if action == "create":
        before = None
    if action == "delete":
        after = None
    actions = ["delete", "create"] if action == "replace" else [action]
    return {
        "address": f'member["acme/user{i}@acme.test"]',
        "mode": "managed",
        "type": "member",
        "name": f"acme/user{i}@acme.test",
        "change": {"actions": actions, "before": before, "after": after},
    }


def huge_plan(n: int) -> dict[str, Any]:
    """A plan with ``n`` changes cycling through every action."""
    acts = ("create", "update", "delete", "replace")
    changes = [member_change(i, acts[i % 4]) for i in range(n)]
    for i, rc in enumerate(changes[::7]):
        rc["type"] = "space_member"
        rc["address"] = f'space_member["acme/roadmap/user{i}@acme.test"]'
    add = sum(rc["change"]["actions"][-1] == "create" for rc in changes)
    return {
        "format_version": "1.2",
        "resource_drift": [],
        "resource_changes": changes,
        "summary": {"add": add, "change": n - add, "destroy": 0},
    }


def small_plan() -> dict[str, Any]:
    """A real Plan object's JSON: drift, one change per action, an access delta, warnings and policy."""
    changes = [
        Change(Action.CREATE, "member", "acme/ada@acme.test", None, {"role": "Admin"}, flags=("pending_acceptance",)),
        Change(Action.UPDATE, "workspace_member", "acme/crm/bo@acme.test",
               {"role": "Editor", "sections": {"Billing": "View"}}, {"role": "Editor", "sections": {"Billing": "Full"}},
               notes=("applies after bo accepts",)),
        Change(Action.REPLACE, "space", "acme/roadmap", {"kind": "project"}, {"kind": "drive"}),
        Change(Action.DELETE, "team", "acme/old", {"description": "legacy"}, None),
    ]
    drift = [Drift("member", "acme/cy@acme.test", Origin.LIVE, {"role": "Member"}, {"role": "Admin"})]
    plan = Plan(changes=changes, drift=drift, target="local:tenant.db", extras={
        "access_delta": [
            {"member": "bo@acme.test",
             "gained": [{"capability": "Billing:Full crm", "highlight": "billing"},
                        {"capability": "read crm/customers", "highlight": None}],
             "lost": [{"capability": "Billing:View crm", "highlight": None}]},
        ],
        "warnings": ["seats: 9 of 10 used"],
        "policy": [{"name": "owners-only-delete", "ok": False, "message": "delete_organization is Admin"}],
    })
    return plan.to_json()


def test_layout_header_counts_drift_delta_then_changes() -> None:
    md = render_markdown(small_plan())
    assert "**Plan: 2 to add, 1 to change, 2 to destroy.**" in md
    order = [md.index(s) for s in ("Plan: 2", "| Resource type |", "Changed outside accessops", "Access delta", "#### Changes")]
    assert order == sorted(order)
    assert "| `member` | 1 | 0 | 0 |" in md
    assert "| `space` | 1 | 0 | 1 |" in md


def test_every_action_has_its_symbol_in_a_diff_block() -> None:
    md = render_markdown(small_plan())
    for line in ('+ member["acme/ada@acme.test"]', '~ workspace_member["acme/crm/bo@acme.test"]',
                 '-/+ space["acme/roadmap"]', '- team["acme/old"]'):
        assert line in md
    assert '-     sections.Billing = "View"\n+     sections.Billing = "Full"' in md
    assert "# pending acceptance" in md and "# applies after bo accepts" in md
    assert md.count("<details>") == md.count("</details>") - 1  # plus the open drift block
    assert md.count("```diff") == 5


def test_drift_section_names_the_origin() -> None:
    md = render_markdown(small_plan())
    assert '~ member["acme/cy@acme.test"]\n  # changed live' in md


def test_dangerous_gains_are_highlighted_and_ordinary_ones_are_not() -> None:
    md = render_markdown(small_plan())
    assert "**⚠️ `Billing:Full crm`** (billing)" in md
    assert "**⚠️ `read crm/customers`**" not in md
    assert "loses `Billing:View crm`" in md


def test_policy_and_warnings_are_listed() -> None:
    md = render_markdown(small_plan())
    text = parse(md).text  # the md filter escapes every punctuation character in the source
    assert "❌ owners-only-delete: delete_organization is Admin" in text.splitlines()
    assert "seats: 9 of 10 used" in text.splitlines()


def test_empty_plan_says_no_changes() -> None:
    md = render_markdown(Plan(changes=[]).to_json())
    assert "**No changes.**" in md
    assert "<details>" not in md and "not shown" not in md


def test_5000_change_plan_stays_under_the_limit_with_the_cut_noted() -> None:
    md = render_markdown(huge_plan(5000), plan_file="plan.out")
    assert len(md) <= 60_000
    shown = len(re.findall(r"^(?:\+|~|-|-/\+) (?:member|space_member)\[", md, re.M))
    note = re.search(r"… ([\d,]+) more changes not shown; run `accessops show plan.out` for the full plan", md)
    assert note, md[-500:]
    assert shown + int(note.group(1).replace(",", "")) == 5000
    assert len(md) > 55_000  # the budget is used, not thrown away
    assert "| `member` |" in md and "| `space_member` |" in md  # counts cover the whole plan
    assert md.count("```diff") * 2 == len(re.findall(r"^```", md, re.M))  # every fence closed


def test_cut_keeps_the_counts_table_whole() -> None:
    md = render_markdown(huge_plan(5000), limit=5_000)
    assert len(md) <= 5_000
    assert "| `space_member` |" in md


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 400), drift=st.integers(0, 50), limit=st.integers(400, 20_000))
def test_any_plan_fits_any_limit(n: int, drift: int, limit: int) -> None:
    plan = huge_plan(n)
    plan["resource_drift"] = [dict(member_change(i, "update"), origin="changed live") for i in range(drift)]
    md = render_markdown(plan, limit=limit)
    assert len(md) <= limit
    headers = len(re.findall(r"^(?:\+|~|-|-/\+) \w+\[", md, re.M))
    if "not shown" not in md and "output cut" not in md:
        assert headers == n + drift
    else:
        assert headers < n + drift


def test_bigger_plans_are_noted_not_silently_dropped() -> None:
    plan = huge_plan(300)
    md = render_markdown(plan, limit=3_000)
    assert "more changes not shown" in md


@pytest.fixture
def template_without_cut_note(tmp_path: Path) -> Path:
    path = tmp_path / "team.md.j2"
    path.write_text("## {{ summary_line }}\n{% for c in changes %}{{ c.diff }}\n{% endfor %}")
    return path


def test_team_template_is_capped_and_gets_the_note_appended(template_without_cut_note: Path) -> None:
    md = render_markdown(huge_plan(5000), template=template_without_cut_note, limit=10_000)
    assert md.startswith("## Plan: ")
    assert len(md) <= 10_000
    assert "more changes not shown" in md


def test_team_template_can_extend_the_shipped_one(tmp_path: Path) -> None:
    path = tmp_path / "ours.md.j2"
    path.write_text('{% extends "plan.md.j2" %}{% block footer %}\n_Reviewed by #access-team_\n{% endblock %}')
    md = render_markdown(small_plan(), template=path)
    assert "Changed outside accessops" in md and md.rstrip().endswith("_Reviewed by #access-team_")


def test_template_with_huge_fixed_text_is_hard_cut(tmp_path: Path) -> None:
    path = tmp_path / "verbose.md.j2"
    path.write_text("<details><summary>x</summary>\n\n```\n" + "legal boilerplate\n" * 5000 + "```\n</details>\n")
    md = render_markdown(small_plan(), template=path, limit=2_000)
    assert len(md) <= 2_000
    assert "output cut at 2,000 characters" in md
    assert md.count("```") % 2 == 0 and md.count("<details>") == md.count("</details>")


def test_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.md.j2"
    path.write_text("ok\n{% for c in changes %}\n")
    with pytest.raises(ConfigError, match=r"broken\.md\.j2:\d+: template error"):
        render_markdown(small_plan(), template=path)


def test_template_typo_is_an_error_not_a_blank(tmp_path: Path) -> None:
    path = tmp_path / "typo.md.j2"
    path.write_text("{{ sumary_line }}")
    with pytest.raises(ConfigError, match="sumary_line"):
        render_markdown(small_plan(), template=path)


def test_missing_template_file_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        render_markdown(small_plan(), template=tmp_path / "nope.j2")


def test_values_cannot_break_out_of_code_blocks() -> None:
    plan = Plan(changes=[Change(Action.CREATE, "team", "acme/x", None, {"description": "```\n</details>"})]).to_json()
    md = render_markdown(plan)
    fence = re.search(r"^(`{4,})diff$", md, re.M)
    assert fence, md


def test_add_template_option() -> None:
    parser = argparse.ArgumentParser()
    add_template_option(parser)
    assert parser.parse_args(["--template", "t.j2"]).template == "t.j2"
    assert parser.parse_args([]).template is None
    assert "--template FILE" in parser.format_help()  # help text must survive argparse's %-formatting
