"""The Markdown comment's budget at scale: shared between sections, changes first, what was cut said exactly.

The big plan is real: ``bench/gen_org.py`` writes a 10k-member organization,
``accessops plan --out`` plans it against an empty local tenant (every
resource to create, and an access delta whose first members gain thousands of
capabilities each), and the renderer reads the saved plan as ``show`` does.
The Markdown is parsed with markdown-it-py to check what a reviewer sees.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_parse import parse, parser

from accessops.apply.planfile import read_plan_file
from accessops.plan.change import Action, Change, Plan
from accessops.render.markdown import render_markdown
from accessops.render.markdown_budget import shares

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 60_000
CHANGE_HEADER = re.compile(r"^(?:\+|~|-|-/\+) \w+\[", re.MULTILINE)


@pytest.fixture(scope="module")
def initial_plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The JSON of the initial plan of the generated 10k-member organization, read back from its saved file."""
    work = tmp_path_factory.mktemp("org10k")
    env = dict(os.environ, NO_COLOR="1", ACCESSOPS_CACHE_DIR=str(work / "cache"),
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_org.py"), "--members", "10000", "--out", "manifests"],
                   cwd=work, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "accessops", "plan", "manifests", "--target", "local:tenant.db", "--out", "plan.out"],
                   cwd=work, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    saved = read_plan_file(work / "plan.out")
    saved.plan.meta["plan_file"] = "plan.out"
    return saved.plan.to_json(states=False)


def sections(markdown: str) -> dict[str, str]:
    """The Markdown source under each ``####`` heading."""
    parts = re.split(r"^#### (.+)$", markdown, flags=re.MULTILINE)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def test_initial_10k_plan_fits_and_shows_changes_first(initial_plan: dict[str, Any]) -> None:
    md = render_markdown(initial_plan)
    assert len(md) <= LIMIT
    total = len(initial_plan["resource_changes"])
    assert total > 30_000 and len(initial_plan["access_delta"]) > 500
    parsed = parse(md)
    assert parsed.headings[-1] == "Changes" and "Access delta" in parsed.headings and "Warnings" in parsed.headings
    # every diff block is a closed fence that markdown-it reads as one code block
    tokens = parser().parse(md)
    fences = [t for t in tokens if t.type == "fence"]
    assert fences and all(t.info == "diff" for t in fences)
    shown = sum(len(CHANGE_HEADER.findall(t.content)) for t in fences)
    by_section = sections(md)
    # the changes get the biggest share of the room, then the delta: no section starves another
    assert len(by_section["Changes"]) > len(by_section["Access delta"]) > 5_000
    assert shown > 200
    # the note says exactly what was cut, per section, and where the full plan is
    note = re.search(r"^> … (.+) not shown, ([\d,]+) access delta entr(?:y|ies) summarised; "
                     r"run `accessops show plan\.out` for the full plan \(the saved plan file `plan\.out`; "
                     r"in CI, the workflow's plan artifact\)$", md, re.MULTILINE)
    assert note, md[-800:]
    cut = {noun: int(n.replace(",", "")) for n, noun in re.findall(r"([\d,]+) more ([a-z ]+?)(?:,|$)", note.group(1))}
    assert shown + cut["changes"] == total
    delta_lines = [line for line in by_section["Access delta"].splitlines() if line.startswith("- ")]
    assert len(delta_lines) + cut["access delta entries"] == len(initial_plan["access_delta"])
    assert int(note.group(2).replace(",", "")) == sum("capabilities (" in line for line in delta_lines) > 0
    warnings = [line for line in by_section["Warnings"].splitlines() if line.startswith("- ")]
    assert len(warnings) + cut.get("warnings", 0) == len(initial_plan["warnings"])


def test_the_biggest_member_of_the_initial_plan_is_summarised(initial_plan: dict[str, Any]) -> None:
    biggest = max(initial_plan["access_delta"], key=lambda e: len(e["gained"]))
    highlighted = [c for c in biggest["gained"] if c["highlight"]]
    md = render_markdown(initial_plan)
    line = next(line for line in md.splitlines() if line.startswith(f"- `{biggest['member']}`"))
    assert f"+{len(biggest['gained']):,} −{len(biggest['lost']):,} capabilities ({len(highlighted):,} highlighted: " in line
    assert f"**⚠️ `{highlighted[0]['capability']}`** ({highlighted[0]['highlight']})" in line
    assert len(line) < 1_000


def giant_delta_plan(capabilities: int = 20_000, changes: int = 5) -> dict[str, Any]:
    """A few changes and one member who gains ``capabilities`` capabilities, two of them dangerous."""
    plan = Plan(changes=[Change(Action.CREATE, "member", f"acme/user{i}@acme.test", None, {"role": "Member"})
                         for i in range(changes)]).to_json()
    gained = [{"capability": f"read ws-{i // 50:03}/table-{i % 50}", "highlight": None} for i in range(capabilities)]
    gained[7] = {"capability": "Billing:Full crm", "highlight": "billing"}
    gained[capabilities // 2] = {"capability": "delete crm/customers", "highlight": "delete"}
    plan["access_delta"] = [
        {"member": "bo@acme.test", "gained": gained, "lost": [{"capability": "read old", "highlight": None}] * 3},
        {"member": "cy@acme.test", "gained": [{"capability": "read crm/deals", "highlight": None}], "lost": []},
    ]
    return plan


def test_one_giant_delta_entry_no_longer_hides_the_changes() -> None:
    md = render_markdown(giant_delta_plan(), plan_file="plan.out")
    assert len(md) <= LIMIT
    parsed = parse(md)
    changes = next(b for b in parsed.blocks if b.startswith("+ member["))
    assert len(CHANGE_HEADER.findall(changes)) == 5  # every change is shown
    assert "more change" not in md
    assert "`bo@acme.test`: +20,000 −3 capabilities (2 highlighted: **⚠️ `Billing:Full crm`** (billing), " \
           "**⚠️ `delete crm/customers`** (delete))" in md
    assert "- `cy@acme.test` gains `read crm/deals`" in md  # a small entry stays whole
    assert "> … 1 access delta entry summarised; run `accessops show plan.out` for the full plan" in md


def test_a_delta_that_fits_whole_is_not_summarised() -> None:
    md = render_markdown(giant_delta_plan(capabilities=40))
    assert "gains `read ws-000/table-0`, `read ws-000/table-1`, " in md and "summarised" not in md


def test_a_summarised_member_name_stays_text() -> None:
    plan = giant_delta_plan()
    plan["access_delta"][0]["member"] = "@octocat`` <img src=x>"
    md = render_markdown(plan)
    tokens = parser().parse(md)
    codes = [c.content for t in tokens if t.type == "inline" for c in t.children or [] if c.type == "code_inline"]
    assert "@octocat`` <img src=x>" in codes
    assert parse(md).html == [t for t in parse(md).html if t.startswith(("<details", "</details"))]


def test_a_team_template_that_prints_more_per_entry_is_still_capped(tmp_path: Path, initial_plan: dict[str, Any]) -> None:
    path = tmp_path / "verbose.md.j2"
    path.write_text("# {{ summary_line }}\n{% for c in changes %}{{ c.diff | fence }}\n{{ c.diff | fence }}\n{% endfor %}"
                    "{% for e in access_delta %}- {{ e.member | code }}: {% for c in e.gained %}{{ c.capability | code }} {% endfor %}\n{% endfor %}")
    md = render_markdown(initial_plan, template=path)
    assert len(md) <= LIMIT
    assert len(md) > LIMIT // 2  # measured on the template's real output, the room is used
    assert "more changes not shown" in md and md.rstrip().endswith("for the full plan (the saved plan file `plan.out`; in CI, the workflow's plan artifact)")


def test_a_team_template_that_prints_less_per_entry_gets_more_entries(tmp_path: Path, initial_plan: dict[str, Any]) -> None:
    path = tmp_path / "terse.md.j2"
    path.write_text("# {{ summary_line }}\n{% for c in changes %}* {{ c.address | code }}\n{% endfor %}{{ cut_note }}\n")
    md = render_markdown(initial_plan, template=path)
    assert len(md) <= LIMIT
    assert len(md) > 0.7 * LIMIT  # re-planned on what each section really printed
    shipped = render_markdown(initial_plan)
    terse = len(re.findall(r"^\* `", md, re.MULTILINE))
    assert terse > 2 * sum(len(CHANGE_HEADER.findall(t.content)) for t in parser().parse(shipped) if t.type == "fence")


def test_shares_go_by_weight_and_what_a_section_does_not_need_goes_to_the_others() -> None:
    assert shares({"changes": 10, "access_delta": 10}, 100) == {"changes": 10, "access_delta": 10}
    split = shares({"changes": 1_000, "access_delta": 1_000, "warnings": 1_000}, 900)
    assert split["changes"] > split["access_delta"] > split["warnings"] > 0 and sum(split.values()) <= 900
    assert shares({"changes": 1_000, "warnings": 50}, 900) == {"changes": 850, "warnings": 50}
    assert shares({"changes": 0, "drift": 5}, 0) == {"changes": 0, "drift": 0}


@settings(max_examples=30, deadline=None)
@given(changes=st.integers(0, 300), members=st.integers(0, 30), biggest=st.integers(0, 3_000),
       limit=st.integers(500, 30_000), hint=st.text(max_size=300))
def test_any_plan_with_any_delta_fits_any_limit(changes: int, members: int, biggest: int, limit: int, hint: str) -> None:
    plan = giant_delta_plan(capabilities=max(biggest, 4_000 if members % 7 == 0 else 10), changes=changes)
    plan["access_delta"] += [{"member": f"m{i}@acme.test", "gained": [{"capability": f"read t{j}", "highlight": None}
                                                                    for j in range(i % 13)], "lost": []} for i in range(members)]
    md = render_markdown(plan, limit=limit, plan_file=hint or None)
    assert len(md) <= limit
    shown = len(CHANGE_HEADER.findall(md))
    if "not shown" not in md and "output cut" not in md:
        assert shown == changes
    elif "output cut" not in md and changes and limit > 10_000 and len(hint) < 50:
        assert shown > 0  # the delta never takes the whole room


def test_the_shipped_template_renders_the_big_plan_twice_and_makes_few_diffs(initial_plan: dict[str, Any],
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from accessops.render import markdown

    renders: list[int] = []
    real_render = markdown._render

    def counted(tmpl: Any, ctx: dict[str, Any]) -> str:
        text = real_render(tmpl, ctx)
        renders.append(len(text))
        return text

    made: list[int] = []
    real_diff = markdown.attribute_diff
    monkeypatch.setattr(markdown, "_render", counted)
    monkeypatch.setattr(markdown, "attribute_diff", lambda *a: made.append(1) or real_diff(*a))
    md = render_markdown(initial_plan)
    assert len(renders) == 2 and renders[-1] == len(md)  # the fixed text, then the cut plan: no bisection
    assert len(made) < len(initial_plan["resource_changes"]) // 10  # diffs only for what may be shown


def test_a_team_template_reads_a_diff_however_it_asks(tmp_path: Path) -> None:
    path = tmp_path / "ways.md.j2"
    path.write_text("{% for c in changes %}{{ c.diff | fence }}{{ c['diff'] | fence }}{{ c.get('diff') | fence }}\n{% endfor %}")
    md = render_markdown(giant_delta_plan(changes=2), template=path)
    assert md.count('+ member["acme/user1@acme.test"]') == 3
