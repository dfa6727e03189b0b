"""The access delta of the Markdown comment: one line per member, in full or summarised.

A member who gains every capability of a 10k-member organization has
thousands of them; listed in full, that one line would use the comment's
whole budget and hide every change. Each entry therefore carries both forms,
rendered once here rather than capability by capability in the template:

* full: ``` `bo@acme.test` gains **⚠️ `Billing:Full crm`** (billing), `read crm`; loses `Billing:View crm` ```
* summary (when the delta does not fit whole and the member has more than
  :data:`SUMMARISE_OVER` capabilities): ``` `bo@acme.test`: +1,204 −3 capabilities
  (12 highlighted: **⚠️ `Billing:Full crm`** (billing), …) ```

Every value passes through the ``code`` and ``md`` filters of ``markdown_text``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from accessops.render.markdown_budget import Entry
from accessops.render.markdown_text import Markdown, inline_code, md_escape

HIGHLIGHT_MARK = "⚠️"
SUMMARISE_OVER = 10  # capabilities, gained and lost together, above which a member's line may be summarised
HIGHLIGHTS_NAMED = 5  # highlighted capabilities named in a summary


def access_delta(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """``access_delta`` entries: {member, gained, lost, highlighted, text, gained_count, lost_count, summarised}; ``text`` is made when first read."""
    entries: list[dict[str, Any]] = []
    for raw in plan.get("access_delta") or []:
        gained = [_capability(c) for c in raw.get("gained") or []]
        lost = [_capability(c) for c in raw.get("lost") or []]
        entry: dict[str, Any] = {
            "member": str(raw.get("member", "")),
            "gained": gained,
            "lost": lost,
            "highlighted": any(c["highlight"] for c in gained),
            "gained_count": len(gained),
            "lost_count": len(lost),
            "summarised": False,
        }
        entries.append(Entry(entry, {"text": partial(full_text, entry)}))
    if not entries:  # a plan that carries only the text lines of the delta
        entries = [{"member": "", "line": str(line), "gained": [], "lost": [], "highlighted": False,
                    "gained_count": 0, "lost_count": 0, "summarised": False, "text": md_escape(line)}
                   for line in plan.get("access_delta_text") or []]
    return entries


def full_text(entry: dict[str, Any]) -> Markdown:
    """The member's line with every capability: gains (highlighted ones in bold with ⚠️), then losses."""
    parts: list[str] = [inline_code(entry["member"])]
    if entry["gained"]:
        parts.append(" gains " + ", ".join(_gain(c) for c in entry["gained"]))
    if entry["gained"] and entry["lost"]:
        parts.append(";")
    if entry["lost"]:
        parts.append(" loses " + ", ".join(_loss(c) for c in entry["lost"]))
    return Markdown("".join(parts))


def summarised(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` as counts and its highlighted capabilities, when it is large; else ``entry`` itself."""
    if "line" in entry or entry["gained_count"] + entry["lost_count"] <= SUMMARISE_OVER:
        return entry
    gained = [c for c in entry["gained"] if c["highlight"]]
    lost = [c for c in entry["lost"] if c["highlight"]]
    named = [_gain(c) for c in gained[:HIGHLIGHTS_NAMED]]
    named += [f"lost {_loss(c)}" for c in lost[: max(0, HIGHLIGHTS_NAMED - len(named))]]
    more = len(gained) + len(lost) - len(named)
    text = f"{inline_code(entry['member'])}: +{entry['gained_count']:,} −{entry['lost_count']:,} capabilities"
    if named:
        text += f" ({len(gained) + len(lost):,} highlighted: {', '.join(named)}{f', and {more:,} more' if more else ''})"
    else:
        text += " (none highlighted)"
    return dict(entry, gained=gained[:HIGHLIGHTS_NAMED], lost=lost[:HIGHLIGHTS_NAMED], summarised=True, text=Markdown(text))


def _gain(c: dict[str, Any]) -> str:
    if c["highlight"]:
        return f"**{HIGHLIGHT_MARK} {inline_code(c['capability'])}** ({md_escape(c['highlight'])})"
    return inline_code(c["capability"])


def _loss(c: dict[str, Any]) -> str:
    return inline_code(c["capability"]) + (f" ({md_escape(c['highlight'])})" if c["highlight"] else "")


def _capability(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return {"capability": str(raw.get("capability", "")), "highlight": raw.get("highlight") or None}
    return {"capability": str(raw), "highlight": None}
