"""Markdown for pull-request comments and drift issues, rendered only from the plan's JSON.

The layout lives in a Jinja2 template (``templates/plan.md.j2``, or a team's own
via ``--template FILE``); this module builds the template's context from the
plan JSON and enforces the size budget. GitHub refuses comments over 65,535
characters (atlantis#55), so the output must stay under ``limit`` whatever the
plan and whatever the template:

1. render every entry; if that fits, done;
2. otherwise find, by bisection over real renders, the largest cap N such that
   every list section (drift, access delta, warnings, changes) cut to its
   first N entries fits; small sections stay whole, big ones are cut, and the
   template's ``cut_note`` says how many entries were left out and how to see
   them all (a template that does not print ``cut_note`` gets it appended);
3. if even N = 0 does not fit (a template with huge fixed text), the text is
   cut at a line boundary, open code fences and ``<details>`` are closed, and
   the note is appended.

Because the budget is measured on the template's actual output, a custom
template is capped exactly like the shipped one.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessops.errors import ConfigError
from accessops.model.names import escape_controls
from accessops.plan.terraform_json import is_noop, native, own
from accessops.render.markdown_text import Markdown, fenced, finalize, html_text, inline_code, md_escape

if TYPE_CHECKING:  # jinja2 is imported when a template is rendered: `plan` in text or JSON never needs it
    import jinja2

DEFAULT_LIMIT = 60_000
TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = "plan.md.j2"
_SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
_VERB = {"create": "add", "update": "change", "delete": "destroy"}
# Capabilities a reviewer must not miss, as access/capability.highlight() names them.
HIGHLIGHT_MARK = "⚠️"


def add_template_option(parser: argparse.ArgumentParser) -> None:
    """``--template FILE``: a team's own Jinja2 template for ``--format markdown``."""
    parser.add_argument(
        "--template",
        metavar="FILE",
        help="Jinja2 template for --format markdown (default: the shipped plan.md.j2; "
        "may extend plan.md.j2); the output is always capped under 60,000 characters",
    )


def render_markdown(
    plan_json: dict[str, Any],
    *,
    template: str | Path | None = None,
    limit: int = DEFAULT_LIMIT,
    plan_file: str | None = None,
) -> str:
    """The plan as Markdown, under ``limit`` characters, cut with a note when needed.

    ``plan_file`` (or ``meta.plan_file`` in the plan) names the saved plan in
    the cut note, so a reviewer knows how to see everything.
    """
    tmpl = load_template(template)
    base = build_context(plan_json)
    lists = {name: base[name] for name in _CUT_SECTIONS}
    hint = plan_file or (own(plan_json).get("meta") or {}).get("plan_file")

    def render_at(cap: int | None) -> str:
        ctx = dict(base)
        cut: dict[str, int] = {}
        for name, items in lists.items():
            shown = items if cap is None else items[:cap]
            ctx[name] = shown
            cut[name] = len(items) - len(shown)
        ctx["groups"] = group_changes(ctx["changes"])
        ctx["truncated"] = cut
        ctx["cut_note"] = cut_note(cut, hint)
        text = _render(tmpl, ctx)
        if ctx["cut_note"] and ctx["cut_note"] not in text:
            text = text.rstrip("\n") + "\n\n" + ctx["cut_note"] + "\n"
        return text

    return fit(render_at, max((len(v) for v in lists.values()), default=0), limit, hint)


def fit(render_at: Callable[[int | None], str], largest: int, limit: int, hint: str | None) -> str:
    """The fullest rendering under ``limit``: everything, else the largest common cap, else a hard cut."""
    text = render_at(None)
    if len(text) <= limit:
        return text
    lo, hi = -1, largest  # invariant: render_at(hi) is too long; lo fits or is -1
    best = ""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        attempt = render_at(mid)
        if len(attempt) <= limit:
            lo, best = mid, attempt
        else:
            hi = mid
    if lo >= 0:
        return best
    return hard_cut(render_at(0), limit, hint)


def hard_cut(text: str, limit: int, hint: str | None) -> str:
    """Cut at a line boundary, close what the cut left open, and say so."""
    note = f"… output cut at {limit:,} characters; {_see_all(hint)}"
    room = max(0, limit - len(note) - 64)  # 64: closing fences and tags
    head = text[:room]
    head = head[: head.rfind("\n") + 1] if "\n" in head else ""
    closers = []
    if sum(1 for line in head.splitlines() if line.lstrip().startswith("```")) % 2:
        closers.append("```")
    closers += ["</details>"] * max(0, head.count("<details") - head.count("</details>"))
    return (head + "\n".join(closers) + ("\n" if closers else "") + "\n" + note + "\n")[:limit]


def load_template(template: str | Path | None) -> jinja2.Template:
    """The shipped template, or a team's file (which may extend or include the shipped one)."""
    import jinja2

    search = [str(TEMPLATE_DIR)]
    name = DEFAULT_TEMPLATE
    if template is not None:
        path = Path(template)
        if not path.is_file():
            raise ConfigError(f"--template {template}: no such file")
        search.insert(0, str(path.resolve().parent))
        name = path.name
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,  # a typo in a team's template is an error, not a blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # Markdown, not HTML: values are escaped by the md/code/fence/html filters,
        finalize=finalize,  # and a value printed with none of them by md
    )
    env.filters.update(md=md_escape, code=inline_code, fence=fenced, html=html_text, number=_number)
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or name}:{exc.lineno}: template error: {exc.message}") from exc


def _render(tmpl: jinja2.Template, ctx: dict[str, Any]) -> str:
    import jinja2

    try:
        return tmpl.render(**ctx)
    except jinja2.TemplateError as exc:
        raise ConfigError(f"template {tmpl.filename or tmpl.name}: {exc}") from exc


# ---- the context: every name a template may use (docs/ci.md lists them) ----

_CUT_SECTIONS = ("drift", "access_delta", "warnings", "changes")


def build_context(plan: dict[str, Any]) -> dict[str, Any]:
    """The template context, computed from the plan JSON alone."""
    changes = [change_entry(rc) for rc in plan.get("resource_changes") or [] if not is_noop(rc)]
    drift = [change_entry(rc) for rc in plan.get("resource_drift") or []]
    summary = {k: _count(v) for k, v in dict(own(plan).get("summary") or {"add": 0, "change": 0, "destroy": 0}).items()}
    meta = own(plan).get("meta") or {}
    return {
        "title": Markdown("accessops drift" if meta.get("command") == "drift" else "accessops plan"),
        "target": own(plan).get("target", ""),
        "format_version": plan.get("format_version", ""),
        "summary": summary,
        "summary_line": Markdown(summary_text(summary, bool(changes))),  # counts are numbers or escaped (_count)
        "has_changes": bool(changes),
        "counts": counts_by_type(changes),
        "drift": drift,
        "drift_by_origin": _tally(d["origin"] for d in drift),
        "access_delta": access_delta(plan),
        "warnings": [_message(w) for w in plan.get("warnings") or []],
        "policy": policy_results(plan.get("policy")),
        "changes": changes,
        "totals": {"drift": len(drift), "changes": len(changes)},
        "highlight_mark": Markdown(HIGHLIGHT_MARK),
    }


def summary_text(summary: dict[str, int], has_changes: bool) -> str:
    """``Plan: N to add, N to change, N to destroy.`` or ``No changes.``"""
    if not has_changes:
        return "No changes."
    return f"Plan: {summary.get('add', 0)} to add, {summary.get('change', 0)} to change, {summary.get('destroy', 0)} to destroy."


def action_of(actions: list[str]) -> str:
    """create / update / delete / replace from Terraform's action list."""
    return "replace" if list(actions) == ["delete", "create"] else actions[0]


def change_entry(rc: dict[str, Any]) -> dict[str, Any]:
    """One change or drift entry, with its diff lines ready for a ``diff`` code block."""
    n = native(rc)  # accessops's own address and attributes, not Terraform's
    action = action_of(n["actions"])
    before, after = n["before"], n["after"]
    # every value goes into a diff code block, one line each: a line break in
    # a name must not forge another line (escape_controls), and the fence is
    # longer than any backtick run (fenced)
    notes = [escape_controls(note) for note in n["notes"]]
    flags = [escape_controls(flag) for flag in n["flags"]]
    lines = [f"{_SYMBOL.get(action, ' ')} {escape_controls(n['address'])}"]
    if n["origin"]:
        lines.append(f"  # {escape_controls(n['origin'])}")
    lines += [f"  # {note}" for note in notes]
    # A flag already spelled out by a note ("pending acceptance: ...") is not repeated.
    lines += [f"  # {f}" for f in (flag.replace("_", " ") for flag in flags) if not any(f in n for n in notes)]
    lines += attribute_diff(action, before, after)
    return {
        "address": n["address"],
        "type": n["type"],
        "name": n["key"],
        "action": action,
        "symbol": _SYMBOL.get(action, " "),
        "origin": n["origin"],
        "notes": notes,
        "flags": flags,
        "diff": "\n".join(lines),
    }


def attribute_diff(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Diff lines: ``+``/``-`` per attribute; an update shows only what changed, per sub-key for mappings."""
    before, after = before or {}, after or {}
    if action == "create":
        return [f"+     {escape_controls(k)} = {_val(v)}" for k, v in sorted(after.items())]
    if action == "delete":
        return [f"-     {escape_controls(k)} = {_val(v)}" for k, v in sorted(before.items())]
    lines: list[str] = []
    unchanged = 0
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            unchanged += 1
        elif isinstance(old, dict) and isinstance(new, dict):
            for sub in sorted(set(old) | set(new)):
                if old.get(sub) != new.get(sub):
                    lines += _pair(escape_controls(f"{key}.{sub}"), old, new, sub)
        else:
            lines += _pair(escape_controls(key), before, after, key)
    if unchanged:
        lines.append(f"      # ({unchanged} unchanged attribute{'s' if unchanged > 1 else ''} hidden)")
    return lines


def _pair(label: str, old: dict[str, Any], new: dict[str, Any], key: str) -> list[str]:
    out = [f"-     {label} = {_val(old[key])}"] if key in old else []
    return out + ([f"+     {label} = {_val(new[key])}"] if key in new else [])


def counts_by_type(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per resource type: add / change / destroy, as Terraform counts them."""
    rows: dict[str, dict[str, Any]] = {}
    for ch in changes:
        row = rows.setdefault(ch["type"], {"type": ch["type"], "add": 0, "change": 0, "destroy": 0, "total": 0})
        row["total"] += 1
        if ch["action"] == "replace":
            row["add"] += 1
            row["destroy"] += 1
        else:
            row[_VERB[ch["action"]]] += 1
    return list(rows.values())


def group_changes(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Changes grouped by type, in order of first appearance (the plan's dependency order)."""
    groups: dict[str, dict[str, Any]] = {}
    for ch in changes:
        groups.setdefault(ch["type"], {"type": ch["type"], "changes": []})["changes"].append(ch)
    for group in groups.values():
        group["diff"] = "\n".join(ch["diff"] for ch in group["changes"])
        group["actions"] = _tally(ch["action"] for ch in group["changes"])
    return list(groups.values())


def access_delta(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """``access_delta`` entries normalised to {member, gained, lost, highlighted} with {capability, highlight}."""
    entries = []
    for raw in plan.get("access_delta") or []:
        gained = [_capability(c) for c in raw.get("gained") or []]
        lost = [_capability(c) for c in raw.get("lost") or []]
        entries.append({
            "member": str(raw.get("member", "")),
            "gained": gained,
            "lost": lost,
            "highlighted": any(c["highlight"] for c in gained),
        })
    if not entries:  # a plan that carries only the text lines of the delta
        entries = [{"member": "", "line": str(line), "gained": [], "lost": [], "highlighted": False}
                   for line in plan.get("access_delta_text") or []]
    return entries


def policy_results(policy: Any) -> list[dict[str, Any]]:
    """Policy results as {name, ok, message}, from a list or a {results: [...]} mapping."""
    items = policy.get("results", []) if isinstance(policy, dict) else policy or []
    out = []
    for item in items:
        if isinstance(item, dict):
            ok = bool(item.get("ok", item.get("passed", item.get("status") in ("ok", "pass", "passed"))))
            out.append({"name": str(item.get("name") or item.get("policy") or ""), "ok": ok, "message": _message(item)})
        else:
            out.append({"name": "", "ok": False, "message": str(item)})
    return out


def cut_note(cut: dict[str, int], hint: str | None) -> Markdown:
    """``… 4,213 more changes not shown; run `accessops show plan.out` for the full plan``, or ""."""
    parts = [f"{n:,} more {_NOUNS[name][n == 1]}" for name, n in cut.items() if n]
    if not parts:
        return Markdown("")
    return Markdown(f"… {', '.join(parts)} not shown; {_see_all(hint)}")


_NOUNS = {
    "changes": ("changes", "change"),
    "drift": ("drifted objects", "drifted object"),
    "access_delta": ("access delta entries", "access delta entry"),
    "warnings": ("warnings", "warning"),
}


def _see_all(hint: str | None) -> str:
    if hint:
        return f"run {inline_code(f'accessops show {hint}')} for the full plan"
    return "run `accessops plan` (or `accessops show PLANFILE`) for the full plan"


def _capability(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return {"capability": str(raw.get("capability", "")), "highlight": raw.get("highlight") or None}
    return {"capability": str(raw), "highlight": None}


def _message(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("message") or item.get("text") or json.dumps(item, sort_keys=True))
    return str(item)


def _tally(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _val(value: Any) -> str:
    # json escapes C0 controls; escape_controls also DEL, C1, separators and bidi overrides
    return escape_controls(json.dumps(value, sort_keys=True, ensure_ascii=False))


def _number(n: Any) -> Markdown:
    return Markdown(f"{n:,}") if isinstance(n, int) else md_escape(n)


def _count(n: Any) -> Any:
    """A summary count; anything but a number (a tampered plan file) is shown escaped."""
    return n if isinstance(n, int) and not isinstance(n, bool) else md_escape(n)
