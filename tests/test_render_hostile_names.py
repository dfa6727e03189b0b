"""Hostile names in every output: the Markdown comment, the text plan, and the Action's job log.

Validation refuses most of these names in manifests, but a live read (drift,
export, a tampered plan file shown with ``show``) can still bring them, so the
renderers are given them directly. The Markdown is parsed with markdown-it-py
(CommonMark, GFM tables, linkify on) to prove that every change stays
visible as text: no raw HTML, no link, image or heading made from a name, no
@mention, and the Owner removal after the hostile names is still there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_parse import parse, parser

from accessops.model.names import CONTROL_CLASS, escape_controls
from accessops.render.markdown import inline_code, md_escape, render_markdown
from accessops.render.text import render_text

ROOT = Path(__file__).resolve().parents[1]

HOSTILE = [
    "evil<!--",
    "-->",
    "<img src=x onerror=alert(1)>",
    "<details><summary>ok</summary>",
    "@octocat",
    "@acme/owners",
    "cc @octocat please",
    "fixes #1 and acme/repo#12",
    "https://evil.example/login",
    "www.evil.example",
    "mallory@evil.example",
    "<https://evil.example>",
    "x`y",
    "```",
    "`` `",
    "# Approved",
    "![pwn](https://evil.example/x.png)",
    "[click me](https://evil.example)",
    "*bold* _it_ ~~gone~~ $x$",
    "a|b|c",
    "a\nb",
    "line\n\n# Heading from a name",
    "x\n::error::pwned",
    "::warning::pwned",
    "\x1b[31mred\x1b[0m\x1b]8;;https://evil.example\x07link",
    "carriage\rreturn",
    "rtl\u202egnp.exe",
    "para\u2028sep",
    "back\\slash\\*",
    "&lt;entity&gt; &#64;",
    "1. list",
    "> quote",
    "    indented",
]
OWNER_REMOVAL = 'member["acme/owner@acme.test"]'


def hostile_plan() -> dict[str, Any]:
    """A plan JSON (as a tampered file or a live read could give) with a hostile value in every field."""
    changes: list[dict[str, Any]] = []
    for i, name in enumerate(HOSTILE):
        changes.append({
            "address": f'member["acme/{name}"]',
            "type": "member",
            "name": f"acme/{name}",
            "notes": [f"note {name}"],
            "change": {"actions": ["create" if i % 2 else "update"], "before": None if i % 2 else {"name": "old", name: 1},
                       "after": {"name": name, name: 2}},
        })
    changes.append({"address": OWNER_REMOVAL, "type": "member", "name": "acme/owner@acme.test",
                    "change": {"actions": ["delete"], "before": {"role": "Owner"}, "after": None}})
    drift = [{"address": f'team["acme/{name}"]', "type": "team", "name": f"acme/{name}", "origin": f"changed live {name}",
              "change": {"actions": ["update"], "before": {"description": name}, "after": {"description": "x"}}}
             for name in HOSTILE[:6]]
    return {
        "format_version": "1.2",
        "target": "local:tenant<!--.db",
        "resource_drift": drift,
        "resource_changes": changes,
        "summary": {"add": len(HOSTILE) // 2, "change": len(HOSTILE) - len(HOSTILE) // 2, "destroy": 1},
        "access_delta": [{"member": name, "organization": "acme",
                          "gained": [{"capability": f"read {name}", "highlight": name}],
                          "lost": [{"capability": f"Billing:{name}", "highlight": None}]} for name in HOSTILE],
        "warnings": [{"code": "AO1", "message": f"warning about {name}"} for name in HOSTILE],
        "refusals": [{"message": f"refused {name}", "override": name} for name in HOSTILE[:3]],
        "policy": [{"name": name, "ok": False, "message": f"policy {name}"} for name in HOSTILE],
    }


# --- Markdown -----------------------------------------------------------------------

#: the only raw HTML the shipped template writes
OWN_HTML = re.compile(r"^(<details( open)?><summary>(<code>[^<>\n]*</code>: [^<>\n]*|Drifted objects)</summary>|</details>)\n$")
OWN_HEADINGS = re.compile(r"^(accessops plan · .*|⚠️ Changed outside accessops \(\d+\)|Access delta|Policy|Warnings|Changes)$")


def _no_markup_from_names(markdown: str) -> None:
    parsed = parse(markdown)
    assert [h for h in parsed.html if not OWN_HTML.match(h)] == [], "raw HTML from a name"
    assert "html_inline" not in parsed.types
    for forbidden in ("link_open", "image", "s_open", "em_open", "blockquote_open", "ordered_list_open", "code_block"):
        assert forbidden not in parsed.types, forbidden
    assert all(OWN_HEADINGS.match(h) for h in parsed.headings), parsed.headings
    # no live @mention or e-mail autolink in plain text (code spans and blocks are never linked)
    tokens = parser().parse(markdown)
    for token in tokens:
        for child in token.children or []:
            if child.type == "text":
                assert not re.search(r"@[A-Za-z0-9]|#[0-9]|://|www\.(?!\u200b)", child.content, re.I), child.content


def test_markdown_shows_every_hostile_value_as_text_and_nothing_else() -> None:
    markdown = render_markdown(hostile_plan())
    _no_markup_from_names(markdown)
    parsed = parse(markdown)
    assert "*bold* _it_ ~~gone~~ $x$" in parsed.text  # no emphasis, strikethrough or math from a name
    for name in HOSTILE:
        shown = escape_controls(name)
        assert f'member["acme/{shown}"]' in parsed.text, name  # every change is visible
        assert f"note {shown}" in parsed.text
        assert f"warning about {shown}" in parsed.text, name
        assert f"policy {shown}" in parsed.text, name
        assert f"read {shown}" in parsed.text, name
    for name in HOSTILE[:6]:
        assert f'team["acme/{escape_controls(name)}"]' in parsed.text
    # the Owner removal after `evil<!--` is still there, in the last code block
    assert OWNER_REMOVAL in parsed.blocks[-1] and '-     role = "Owner"' in parsed.blocks[-1]
    # no value forges a diff line: each change's block has one header line per change
    changes_block = "\n".join(b for b in parsed.blocks if b.startswith(("+ member", "~ member", "- member")))
    headers = [line for line in changes_block.splitlines() if re.match(r"^[-+~] member\[", line)]
    assert len(headers) == len(HOSTILE) + 1
    assert not re.search(f"[{CONTROL_CLASS}]", markdown.replace("\n", ""))


@pytest.mark.parametrize("name", HOSTILE)
def test_the_filters_alone_keep_each_value_text(name: str) -> None:
    for markdown in (f"- {md_escape(name)}\n", f"**{md_escape(name)}**: x\n", f"| a |\n|---|\n| {md_escape(name)} |\n",
                     f"- {inline_code(name)}\n", f"| a |\n|---|\n| {inline_code(name, table=True)} |\n"):
        parsed = parse(markdown)
        assert parsed.html == [] and "link_open" not in parsed.types and "image" not in parsed.types, markdown
        assert parsed.headings == [] and "em_open" not in parsed.types, markdown
        assert escape_controls(name).strip() in parsed.text.replace("\n", " ") or escape_controls(name).split() == parsed.text.split(), (markdown, parsed.text)


def test_a_tampered_summary_or_type_does_not_inject() -> None:
    plan = hostile_plan()
    plan["summary"] = {"add": "<!--", "change": 0, "destroy": 0}
    for rc in plan["resource_changes"]:
        rc["type"] = "member</code></summary><!--"
    markdown = render_markdown(plan)
    parsed = parse(markdown)
    assert [h for h in parsed.html if not OWN_HTML.match(h)] == []
    assert OWNER_REMOVAL in parsed.text


# --- text ---------------------------------------------------------------------------


def test_text_plan_escapes_control_characters_and_never_starts_a_line_with_a_workflow_command() -> None:
    plan = hostile_plan()
    for color in (False, True):
        text = render_text(plan, color=color)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text) if color else text
        assert not re.search(f"[{CONTROL_CLASS}]", plain.replace("\n", "")), "a raw control character"
        assert not [line for line in plain.splitlines() if line.lstrip().startswith("::")]
        for name in HOSTILE:
            assert f'member["acme/{escape_controls(name)}"]' in plain
        assert OWNER_REMOVAL in plain
        # one line per change header: no name forged another
        headers = [line for line in plain.splitlines() if re.match(r"^  [-+~] member\[", line)]
        assert len(headers) == len(HOSTILE) + 1
    plan["summary"] = {"add": "1\n::error::tampered", "change": 0, "destroy": 0}
    assert not [line for line in render_text(plan).splitlines() if line.lstrip().startswith("::")]


# --- the Action ---------------------------------------------------------------------


def _effective_commands(log: str) -> list[str]:
    """Workflow commands the runner would run: ``::`` lines outside a ``::stop-commands::TOKEN`` pause."""
    commands, paused = [], None
    for line in log.splitlines():
        if paused is not None:
            if line == f"::{paused}::":
                paused = None
            continue
        if line.startswith("::stop-commands::"):
            paused = line.split("::", 2)[2]
        elif line.lstrip().startswith("::"):
            commands.append(line)
    return commands


def test_the_action_pauses_workflow_commands_around_accessops_output(tmp_path: Path) -> None:
    fake = tmp_path / "fake_accessops.py"
    annotation = "::error file=org.yaml,line=3,col=5,title=accessops::team 'x%0A::add-mask::y' is not declared"
    fake.write_text("import sys\nprint('plan for ::error::pwned')\nprint('::error::pwned from stdout')\n"
                    "print('::add-mask::x', file=sys.stderr)\nprint('  ::warning::indented', file=sys.stderr)\n"
                    "print('::set-env name=A::b', file=sys.stderr)\n"
                    f"print({annotation!r}, file=sys.stderr)\n"
                    "print('::stop-commands::guessed')\nprint('::guessed::')\nprint('::error::after a guessed resume')\n")
    logs = []
    for _ in range(2):
        out = tmp_path / "github_output"
        out.write_text("")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "ACCESSOPS_"))}
        env.update(INPUT_COMMAND="validate", GITHUB_OUTPUT=str(out), RUNNER_TEMP=str(tmp_path / "rt"),
                   ACCESSOPS=f"{sys.executable} {fake}")
        done = subprocess.run([sys.executable, str(ROOT / "scripts" / "action" / "run.py")], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        log = done.stdout + done.stderr
        assert "::error::pwned from stdout" in log and "::add-mask::x" in log  # echoed, as text
        # only accessops' own annotation (from stderr, escaped to one line) is repeated after the pause
        assert _effective_commands(log) == [annotation], log
        tokens = re.findall(r"^::stop-commands::([0-9a-f]{32})$", log, re.M)
        assert len(tokens) == 1 and f"::{tokens[0]}::" in log.splitlines()
        logs.append(tokens[0])
    assert logs[0] != logs[1]  # a fresh random token each run


def test_the_audit_checklist_escapes_names_too() -> None:
    from accessops.cli.cmd_audit import render_markdown as audit_markdown

    org = {"organization": "acme<!--", "seats": {"limit": None, "active": 1, "invited": 0, "used": 1, "free": None, "over": False},
           "pending_invitations": [], "unused_custom_roles": ["x`y @octocat", "[a](https://evil.example)"], "blank_screen_members": [],
           "broad_full_scopes": [], "members_in_no_team": ["evil<!--@acme.test", "owner@acme.test"]}
    markdown = "\n".join(audit_markdown({"organizations": [org]}))
    parsed = parse(markdown)
    assert parsed.html == [] and "link_open" not in parsed.types
    assert "Access audit: acme<!--" in parsed.headings
    for item in ("x`y @octocat", "[a](https://evil.example)", "evil<!--@acme.test", "owner@acme.test"):
        assert item in parsed.text


def test_a_live_display_name_cannot_hide_an_owner_removal_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from safety_env import Workdir, org_doc

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    wd = Workdir(tmp_path, capsys)
    wd.write("org.yaml", org_doc(["ada@acme.test:Owner", "bo@acme.test:Owner", "cy@acme.test:Member"]))
    assert wd.apply()[0] == 0
    adapter = wd.adapter()
    with adapter.transaction() as db:  # a display name typed into the product (display names are free text there)
        db.execute("UPDATE members SET name = ? WHERE email = 'cy@acme.test'", ("evil<!-- @octocat\n::error::pwned\n# Approved",))
    adapter.close()
    wd.write("org.yaml", org_doc(["ada@acme.test:Owner", "cy@acme.test:Member"]).replace("role: Member}", "role: Member, name: Cy}"))
    code, markdown, err = wd.run("plan", "--format", "markdown")
    assert code == 0, err
    _no_markup_from_names(markdown)
    parsed = parse(markdown)
    assert 'member["acme/bo@acme.test"]' in parsed.text and '-     role = "Owner"' in parsed.text
    assert '"evil<!-- @octocat\\n::error::pwned\\n# Approved"' in parsed.text
    code, text, _ = wd.run("plan")
    assert 'member["acme/bo@acme.test"]' in text
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]


# --- any text at all ---------------------------------------------------------------------

_MARKUP = {"html_inline", "html_block", "link_open", "image", "em_open", "strong_open", "s_open", "code_inline", "heading_open",
           "blockquote_open", "bullet_list_open", "ordered_list_open", "fence", "code_block", "hr", "table_open", "hardbreak"}
_TEXTS = st.text(alphabet=st.characters(codec="utf-8", categories=None), max_size=40) | st.text(alphabet="<>!-[]()`*_~#@:./\\|&;x 1\n\t", max_size=40)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_md_filter_shows_any_text_exactly_and_makes_no_markup(value: str) -> None:
    parsed = parse(f"**x**: {md_escape(value)}\n")  # a value after the template's own markup, as in the policy list
    kinds = set(parsed.types) - {"paragraph_open", "paragraph_close", "inline", "text", "strong_open", "strong_close", "softbreak"}
    assert not kinds & _MARKUP, (value, parsed.types)
    assert parsed.types.count("strong_open") == 1
    assert parsed.text.strip() == ("x: " + escape_controls(value)).strip()  # CommonMark trims the line's ends


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_code_filter_shows_any_text_exactly_in_one_code_span(value: str) -> None:
    parsed = parse(f"- {inline_code(value)} gains\n")
    spans = [t for t in parsed.types if t == "code_inline"]
    assert len(spans) == 1 and not set(parsed.types) & (_MARKUP - {"code_inline", "bullet_list_open"}), (value, parsed.types)
    shown = escape_controls(value) or " "
    code = next(c.content for t in parser().parse(f"- {inline_code(value)} gains\n")
                for c in t.children or [] if c.type == "code_inline")
    # CommonMark drops one space at each end when both ends have one: the only difference allowed
    assert code == shown or (shown.startswith(" ") and shown.endswith(" ") and code == shown[1:-1])


def test_a_servers_error_message_cannot_start_a_line_of_the_apply_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from safety_env import Workdir, org_doc

    from accessops import engine
    from accessops.errors import TargetError
    import accessops.cli.cmd_apply as cmd_apply

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCESSOPS_TARGET", raising=False)
    wd = Workdir(tmp_path, capsys)
    wd.write("org.yaml", org_doc(["ada@acme.test:Owner"]))
    real_open = engine.open_target

    def hostile_open(settings: Any) -> Any:
        target, adapter = real_open(settings)

        def fail(db: Any, change: Any) -> None:
            raise TargetError("HTTP 500: server says\n::error::pwned\r\n::add-mask::x")

        adapter.write = fail  # type: ignore[method-assign]  # batched or not, every local write goes through it
        return target, adapter

    monkeypatch.setattr(engine, "open_target", hostile_open)
    monkeypatch.setattr(cmd_apply, "open_target", hostile_open, raising=False)
    code, out, err = wd.apply()
    assert code == 1 and "server says\\n::error::pwned" in err
    assert not [line for line in (out + err).splitlines() if line.lstrip().startswith("::")], err


def test_a_teams_own_template_printing_values_bare_is_escaped_too(tmp_path: Path) -> None:
    template = tmp_path / "mine.md.j2"
    template.write_text("## {{ summary_line }}\n\n{% for c in changes %}- {{ c.address }} ({{ c.notes | join(', ') }}) {{ c.type | code }}\n{% endfor %}"
                        "{% for w in warnings %}* {{ w }}\n{% endfor %}Count: {{ totals.changes }}\n")
    markdown = render_markdown(hostile_plan(), template=template)
    parsed = parse(markdown)
    assert parsed.html == [] and "link_open" not in parsed.types and "image" not in parsed.types
    assert parsed.headings == [parsed.headings[0]] and parsed.headings[0].startswith("Plan: ")  # our own words, as they are
    for name in HOSTILE:
        assert f'member["acme/{escape_controls(name)}"]' in parsed.text, name
        assert f"warning about {escape_controls(name)}" in parsed.text
    assert f"Count: {len(HOSTILE) + 1}" in parsed.text
