"""Markdown for pull-request comments and drift issues, rendered only from the plan's JSON.

The layout lives in a Jinja2 template (``templates/plan.md.j2``, or a team's own
via ``--template FILE``); this module builds the template's context from the
plan JSON. GitHub refuses comments over 65,535 characters (atlantis#55), so the
output must stay under ``limit`` whatever the plan and whatever the template:
``markdown_budget`` shares the characters between the sections (changes
first, the access delta summarised per member when it is large), measured on
the template's real output, with a hard cut as the last resort. The note at
the end says what was cut, per section, and where the full plan is.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessops.errors import ConfigError
from accessops.model.names import escape_controls
from accessops.plan.terraform_json import is_noop, native, own
from accessops.render.markdown_budget import Entry, Selection, bounded, fit, hard_cut
from accessops.render.markdown_delta import HIGHLIGHT_MARK, access_delta, summarised
from accessops.render.markdown_text import (
    Markdown,
    fenced,
    finalize,
    html_text,
    inline_code,
    md_escape,
)
from accessops.runtime import paused_gc

if TYPE_CHECKING:  # jinja2 is imported when a template is rendered: `plan` in text or JSON never needs it
    import jinja2

DEFAULT_LIMIT = 60_000
TEMPLATE_DIR = Path(__file__).parent / "templates"
DEFAULT_TEMPLATE = "plan.md.j2"
_SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
_VERB = {"create": "add", "update": "change", "delete": "destroy"}


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
    with paused_gc():  # the context holds a node per change: a collection would walk the whole plan, again and again
        return _render_markdown(plan_json, load_template(template), limit, plan_file)


def _render_markdown(plan_json: dict[str, Any], tmpl: jinja2.Template, limit: int, plan_file: str | None) -> str:
    base = build_context(plan_json)
    lists: dict[str, list[Any]] = {name: base[name] for name in _CUT_SECTIONS}
    hint = plan_file or (own(plan_json).get("meta") or {}).get("plan_file")
    short_delta: list[dict[str, Any]] = []

    def delta(summarise: bool) -> list[dict[str, Any]]:
        if not summarise:
            return lists["access_delta"]
        if not short_delta:
            short_delta.extend(summarised(e) for e in lists["access_delta"])
        return short_delta

    def render_at(selection: Selection | None) -> str:
        ctx = dict(base)
        cut: dict[str, int] = {}
        summarise = bool(selection and selection.get("summarise"))
        for name, items in lists.items():
            if name == "access_delta":
                items = delta(summarise)
            shown = items if selection is None else items[: selection.get(name, 0)]
            ctx[name] = shown
            cut[name] = len(items) - len(shown)
        ctx["groups"] = group_changes(ctx["changes"])
        ctx["truncated"] = cut
        ctx["summarised"] = {"access_delta": sum(1 for e in ctx["access_delta"] if e["summarised"])}
        ctx["cut_note"] = cut_note(cut, hint, ctx["summarised"]["access_delta"])
        text = _render(tmpl, ctx)
        if ctx["cut_note"] and ctx["cut_note"] not in text:
            text = text.rstrip("\n") + "\n\n" + ctx["cut_note"] + "\n"
        return text

    costs: dict[tuple[bool, int], dict[str, list[int]]] = {}

    def costs_for(summarise: bool, bound: int) -> dict[str, list[int]]:
        if (summarise, bound) not in costs:
            costs[summarise, bound] = entry_costs(lists, delta(summarise), bound)
        return costs[summarise, bound]

    note = f"… output cut at {limit:,} characters; {_see_all(hint)}"
    longest_note = len(cut_note({name: len(items) for name, items in lists.items()}, hint, len(lists["access_delta"])))
    return fit(render_at, costs_for, limit, lambda text: hard_cut(text, limit, note), longest_note + 16)


def entry_costs(lists: dict[str, list[Any]], delta: list[dict[str, Any]], bound: int) -> dict[str, list[int]]:
    """Characters the shipped template prints for each entry of each cut section (a change opening a type adds its group).

    Past ``bound`` characters a section is cut whatever the shares, so its
    later entries are costed by a floor, without making their text.
    """
    seen: set[str] = set()

    def change(ch: dict[str, Any]) -> int:
        cost = len(ch["diff"]) + 1
        if ch["type"] not in seen:
            seen.add(ch["type"])
            cost += 140 + len(html_text(ch["type"]))  # <details><summary><code>type</code>: counts</summary> and the fence
        return cost

    def floor(ch: dict[str, Any]) -> int:
        return len(ch["address"]) + 3

    def member(e: dict[str, Any]) -> int:
        return len(e["member"]) + 5 + 3 * int(e["gained_count"] + e["lost_count"])  # each capability is at least `x`

    return {
        "drift": bounded(lists["drift"], lambda d: len(d["diff"]) + 1, floor, bound),
        "access_delta": bounded(delta, lambda e: len(e["text"]) + 3, member, bound),
        "warnings": [len(md_escape(w)) + 3 for w in lists["warnings"]],
        "changes": bounded(lists["changes"], change, floor, bound),
    }


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
    delta = access_delta(plan)
    warnings = [_message(w) for w in plan.get("warnings") or []]
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
        "access_delta": delta,
        "warnings": warnings,
        "policy": policy_results(plan.get("policy")),
        "changes": changes,
        "totals": {"drift": len(drift), "changes": len(changes), "access_delta": len(delta), "warnings": len(warnings)},
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


def change_entry(rc: dict[str, Any]) -> Entry:
    """One change or drift entry; its ``diff`` (lines for a ``diff`` code block) is made when first read."""
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

    def diff() -> str:
        return "\n".join(lines + attribute_diff(action, before, after))

    return Entry({
        "address": n["address"],
        "type": n["type"],
        "name": n["key"],
        "action": action,
        "symbol": _SYMBOL.get(action, " "),
        "origin": n["origin"],
        "notes": notes,
        "flags": flags,
    }, {"diff": diff})


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


def counts_by_type(changes: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
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


def cut_note(cut: dict[str, int], hint: str | None, summarised_delta: int = 0) -> Markdown:
    """``… 4,213 more changes, 9 more warnings not shown, 2 access delta entries summarised; run …``, or ""."""
    parts = [f"{n:,} more {_NOUNS[name][n == 1]}" for name, n in cut.items() if n]
    said = f"{', '.join(parts)} not shown" if parts else ""
    if summarised_delta:
        said += f"{', ' if said else ''}{summarised_delta:,} access delta {'entry' if summarised_delta == 1 else 'entries'} summarised"
    if not said:
        return Markdown("")
    return Markdown(f"… {said}; {_see_all(hint)}")


_NOUNS = {
    "changes": ("changes", "change"),
    "drift": ("drifted objects", "drifted object"),
    "access_delta": ("access delta entries", "access delta entry"),
    "warnings": ("warnings", "warning"),
}


def _see_all(hint: str | None) -> str:
    if hint:
        return (f"run {inline_code(f'accessops show {hint}')} for the full plan "
                f"(the saved plan file {inline_code(hint)}; in CI, the workflow's plan artifact)")
    return "run `accessops plan` (or `accessops show PLANFILE` on the saved plan) for the full plan"


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
