"""How a value becomes Markdown text: the filters every user-supplied value in the plan comment passes through.

Names come from manifests, live systems and plan files, so they are hostile
input. Each filter is one cheap pass (``str.translate`` or a backtick count);
``markdown.py`` registers them as the template filters ``md``, ``code``,
``fence`` and ``html``, and :func:`finalize` as the template's finalizer: a
value printed with no filter (``{{ change.address }}`` in a team's own
template) is escaped with ``md``, as HTML templates autoescape.
"""

from __future__ import annotations

import html
from typing import Any

from accessops.model.names import CONTROL_ESCAPES, escape_controls

# The filters:
#
# md:    prose and table cells. Every ASCII punctuation character is
#        backslash-escaped (CommonMark allows it for all of them), so no value
#        makes HTML, an entity, emphasis, a link or image, a heading, a list, a
#        quote, a table column or a code span. A zero-width space after "@",
#        ":", "." and "#" stops what works on plain text after parsing: GitHub's
#        @mentions, #123 issue references and its autolinks of e-mail
#        addresses, "www." and URLs.
#        Control characters and line breaks are shown escaped (\n), so a value
#        stays on its line. One str.translate: cheap.
# code:  an inline code span longer than any backtick run inside, one line.
# fence: a code block longer than any backtick run inside.
# html:  text inside the template's own HTML (<summary>).

_ZWSP = "\u200b"
_MD_TABLE = {ord(c): "\\" + c for c in "!\"#$%&'()*+,-/;<=>?[\\]^_`{|}~"}
_MD_TABLE.update({ord("@"): "@" + _ZWSP, ord(":"): "\\:" + _ZWSP, ord("."): "\\." + _ZWSP, ord("#"): "\\#" + _ZWSP})
# a control character is shown as its escape (\n, \x1b), whose backslash is escaped in turn
_MD_TABLE.update({code: "\\" + escape for code, escape in CONTROL_ESCAPES.items()})
_CODE_TABLE = {ord("|"): "\\|"}


class Markdown(str):
    """Text that is Markdown already (a filter's output, accessops' own words): a template prints it as it is."""

    __slots__ = ()


def finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints: Markdown and numbers as they are, anything else escaped by :func:`md_escape`."""
    if isinstance(value, Markdown) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    return md_escape(value)


def md_escape(text: Any) -> Markdown:
    """Text shown exactly as written in Markdown prose or a table cell: no markup, mention or link comes of it."""
    return Markdown(str(text).translate(_MD_TABLE))


def inline_code(text: Any, table: bool = False) -> Markdown:
    """An inline code span on one line that survives backticks inside the text (``table``: inside a table cell)."""
    s = escape_controls(str(text))
    if not s:
        return Markdown("` `")  # "``" would be two backticks of text, not an empty span
    if table:
        s = s.translate(_CODE_TABLE)  # GFM splits cells at "|" even inside code
    ticks = "`" * (_longest_run(s, "`") + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return Markdown(f"{ticks}{pad}{s}{pad}{ticks}")


def html_text(text: Any) -> Markdown:
    """Text inside the template's own HTML tags: entities for ``& < > "``, on one line."""
    return Markdown(html.escape(escape_controls(str(text))))


def fenced(text: Any, lang: str = "diff") -> Markdown:
    """A fenced code block longer than any backtick run inside, so values cannot break out."""
    s = str(text)
    ticks = "`" * max(3, _longest_run(s, "`") + 1)
    return Markdown(f"{ticks}{lang}\n{s}\n{ticks}")


def _longest_run(s: str, ch: str) -> int:
    best = run = 0
    for c in s:
        run = run + 1 if c == ch else 0
        best = max(best, run)
    return best
