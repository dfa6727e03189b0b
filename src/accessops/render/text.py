"""Human text for a plan, rendered only from its JSON form (never from internals).

Each change gets its symbol (``+ ~ - -/+``) and attribute lines; drift
("changed outside accessops") comes first; the text ends with ``Plan: N to
add, N to change, N to destroy.`` or ``No changes.``

Every value from the plan goes through :func:`escape_controls`: a name with a
line break or an ESC sequence stays on its own line, shown escaped, so it
can neither forge a line of the plan nor start a line with ``::`` (which a
CI log would run as a workflow command). Only this module adds colour codes.
"""

from __future__ import annotations

import json
from typing import Any

from accessops.model.names import escape_controls as _e
from accessops.plan.terraform_json import is_noop, native, own

_SYMBOL = {"create": "+", "update": "~", "delete": "-", "replace": "-/+"}
_COLOR = {"+": "32", "~": "33", "-": "31", "-/+": "35", "!": "1;33"}


def _action(actions: list[str]) -> str:
    return "replace" if actions == ["delete", "create"] else actions[0]


def _val(value: Any) -> str:
    return _e(json.dumps(value, sort_keys=True, ensure_ascii=False))


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def add(self, line: str = "") -> None:
        # the runner takes a line whose first non-blank characters are "::" as a
        # workflow command (leading blanks are trimmed): such a line is shown as "\::"
        body = line.lstrip()
        if body.startswith("::"):
            line = line[: len(line) - len(body)] + "\\" + body
        self.lines.append(line)


def attribute_lines(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(symbol, text) per attribute: what a create sets, an update changes, a delete removes."""
    before, after = before or {}, after or {}
    rows: list[tuple[str, str]] = []
    if action == "create":
        rows = [("+", f"{_e(k)} = {_val(v)}") for k, v in sorted(after.items())]
    elif action == "delete":
        rows = [("-", f"{_e(k)} = {_val(v)}") for k, v in sorted(before.items())]
    else:
        for k in sorted(set(before) | set(after)):
            old, new = before.get(k), after.get(k)
            if old == new:
                continue
            if k not in before:
                rows.append(("+", f"{_e(k)} = {_val(new)}"))
            elif k not in after:
                rows.append(("-", f"{_e(k)} = {_val(old)}"))
            else:
                rows.append(("~", f"{_e(k)}: {_val(old)} -> {_val(new)}"))
    return rows


def render_change(out: _Out, rc: dict[str, Any], suffix: str = "") -> None:
    """One resource change: its header line and attribute lines."""
    n = native(rc)  # accessops's own address and attributes, not Terraform's
    action = _action(n["actions"])
    sym = _SYMBOL[action]
    notes = n["notes"]
    tail = f"  ({'; '.join(notes)})" if notes else ""
    out.add(f"  {out.paint(sym, _COLOR[sym])} {_e(n['address'] + suffix + tail)}")
    for s, text in attribute_lines(action, n["before"], n["after"]):
        out.add(f"      {out.paint(s, _COLOR[s])} {text}")


def summary_line(plan: dict[str, Any]) -> str:
    """``Plan: N to add, N to change, N to destroy.`` or ``No changes.``"""
    s = own(plan).get("summary") or {"add": 0, "change": 0, "destroy": 0}
    if not any(not is_noop(rc) for rc in plan.get("resource_changes") or []):
        return "No changes. Live access matches the manifests."
    return f"Plan: {s['add']} to add, {s['change']} to change, {s['destroy']} to destroy."


def render_text(plan: dict[str, Any], *, color: bool = False) -> str:
    """The whole plan as text."""
    out = _Out(color)
    drift = plan.get("resource_drift") or []
    if drift:
        out.add(out.paint("Objects changed outside accessops since the last apply:", "1"))
        out.add()
        for d in drift:
            render_change(out, d, f"  [{native(d)['origin'] or 'changed live'}]")  # escaped with the address
        out.add()
    changes = [rc for rc in plan.get("resource_changes") or [] if not is_noop(rc)]
    if changes:
        out.add(out.paint("accessops will perform the following actions:", "1"))
        out.add()
        for rc in changes:
            render_change(out, rc)
        out.add()
    delta = plan.get("access_delta") or []
    if delta:
        from accessops.access.delta import render_access_delta_text

        lines = render_access_delta_text(delta)
        out.add(out.paint(lines[0], "1"))
        for line in lines[1:]:
            out.add(_e(line))
        out.add()
    for item in plan.get("warnings") or []:
        out.add(out.paint("Warning:", _COLOR["!"]) + _e(f" {item.get('code', '')} {item.get('message', item)}".rstrip()))
    for item in plan.get("refusals") or []:
        out.add(out.paint("Refused:", "1;31") + _e(f" {item['message']}" + (f" (override: {item['override']})" if item.get("override") else "")))
    if plan.get("warnings") or plan.get("refusals"):
        out.add()
    report = plan.get("drift_report")
    if report is not None:
        if not report["differences"]:
            out.add(out.paint("No drift: live access matches the manifests.", "1"))
        else:
            parts = _e(", ".join(f"{n} {origin}" for origin, n in report["by_origin"].items()))
            out.add(out.paint(f"Drift: {report['differences']} difference(s): {parts}.", "1"))
        return "\n".join(out.lines)
    out.add(out.paint(_e(summary_line(plan)), "1"))
    return "\n".join(out.lines)
