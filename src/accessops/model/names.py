"""Names that become addresses, file names and output: which are allowed, and how any text is shown.

Pure. A *name* (organization, workspace, team, space, table, field, custom
role, …) is one segment of a resource key and may become a file name in
``export``: it holds no ``/``, ``\\``, quote, NUL, control character or line
break, and does not start with ``.`` or a space. *Text* (display names,
role names, scope levels, descriptions' keys) holds no control character
or line break. Both rules are checked where names enter: the manifest
models (:mod:`accessops.model.manifest`, as JSON Schema patterns) and every
adapter's read (:func:`check_live`), since a live system or a tampered
tenant can hold anything.

:func:`escape_controls` makes any text printable on one line, for the
renderers and error messages: a value a check refused can still arrive in
a report about it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from accessops.errors import TargetError
from accessops.model.resource import RESOURCE_TYPES, ResourceMap

#: C0 and C1 controls, DEL, line/paragraph separators and bidirectional
#: overrides (which can make a reviewer read text in another order); a
#: regex character-class body usable by Python, pydantic (Rust) and ECMAScript
CONTROL_CLASS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
#: the characters a name may not hold anywhere
_NAME_FORBIDDEN = r'/\\"' + CONTROL_CLASS
#: JSON Schema / pydantic pattern of a name (first character: also no "." or space)
NAME_PATTERN = rf"^[^{_NAME_FORBIDDEN}.\s][^{_NAME_FORBIDDEN}]*$"
#: an e-mail address: one "@", and otherwise what a name may hold, without spaces
_EMAIL_CHAR = rf'[^@\s{_NAME_FORBIDDEN}]'
EMAIL_PATTERN = rf"^[^@.\s{_NAME_FORBIDDEN}]{_EMAIL_CHAR}*@{_EMAIL_CHAR}+$"
#: JSON Schema / pydantic pattern of text: no control character or line break
TEXT_PATTERN = rf"^[^{CONTROL_CLASS}]*$"
#: multi-line text (descriptions): tabs and newlines allowed, other controls not
DESCRIPTION_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*$"

NAME_RULE = 'a name may not start with "." or a space, nor hold "/", "\\", quotes, control characters or line breaks'
TEXT_RULE = "may not hold control characters or line breaks"
#: pattern -> the message a manifest problem gives instead of "String should match pattern ..."
PATTERN_MESSAGES = {
    NAME_PATTERN: NAME_RULE,
    EMAIL_PATTERN: 'not an e-mail address (one "@"; no spaces, slashes, backslashes, quotes or control characters; not starting with ".")',
    TEXT_PATTERN: TEXT_RULE,
    DESCRIPTION_PATTERN: "may not hold control characters other than tabs and newlines",
}

_CONTROL = re.compile(f"[{CONTROL_CLASS}]")
_SEGMENT = rf"[^{_NAME_FORBIDDEN}.][^{_NAME_FORBIDDEN}]*"
_KEY = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: control character -> its one-line escape
CONTROL_ESCAPES = {
    code: _NAMED.get(chr(code), f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}


def escape_controls(text: str) -> str:
    """``text`` on one line: each control character, line break or bidi override as ``\\n``, ``\\x1b``, ``\\u202e``."""
    return text.translate(CONTROL_ESCAPES) if _CONTROL.search(text) else text


def shown(value: str) -> str:
    """A name quoted for an error message, escaped so it cannot break the line."""
    return '"' + escape_controls(value).replace('"', '\\"') + '"'


def name_problem(name: str) -> str | None:
    """Why ``name`` is not allowed as a name (None when it is)."""
    if not name:
        return "a name may not be empty"
    if _CONTROL.search(name) or any(c in name for c in '/\\"') or name[0] in ". " or name[0].isspace():
        return NAME_RULE
    return None


_EMAIL = re.compile(EMAIL_PATTERN)


def email_problem(email: str) -> str | None:
    """Why ``email`` is not allowed as a member's e-mail address (None when it is)."""
    return None if _EMAIL.match(email) else PATTERN_MESSAGES[EMAIL_PATTERN]


def check_names(names: Iterable[str], what: str, source: str) -> list[str]:
    """``names`` as a list, or a TargetError naming the first one a name may not be."""
    out = list(names)
    for name in out:
        problem = name_problem(name)
        if problem:
            raise TargetError(f"{source}: live {what} {shown(name)}: {problem}; rename it in the live system")
    return out


def check_live(live: ResourceMap, source: str) -> ResourceMap:
    """``live`` unchanged, or a TargetError naming the first resource whose key holds a name that is not allowed.

    Each key must have exactly its type's segments (a ``/`` inside a name
    adds one), and each segment must be a name: adapters read names that no
    manifest check has seen.
    """
    for res in live.values():
        parts = RESOURCE_TYPES[res.type].key_parts
        if _KEY.fullmatch(res.key) is None or res.key.count("/") != len(parts) - 1:
            what = res.type.replace("_", " ")
            raise TargetError(f"{source}: live {what} {shown(res.key)}: {NAME_RULE}; rename it in the live system")
    return live
