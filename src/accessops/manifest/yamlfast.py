"""A native fast path for the plain YAML most manifests are, giving exactly what :mod:`yamlsrc` gives.

PyYAML's composer and a Python callback per node are most of a cold plan's
parse. rapidyaml (C++, on PyPI as ``rapidyaml``) parses a file into a tree
and writes it out as JSON, which :func:`json.loads` turns into Python values,
both in C. The catch is that rapidyaml reads YAML 1.2 and we promise PyYAML's
YAML 1.1 (``yes`` and ``on`` are booleans, ``010`` is eight, ``12:30`` is
750, ``2024-01-01`` a date, ``<<`` merges). So this path takes a file only
when it can prove the two agree, and answers ``None`` otherwise; the caller
then parses with :func:`yamlsrc.load_documents` as before, which also gives
every error its line and column. The proof, in three steps:

1. **The text uses only the plain subset.** No tab, carriage return,
   backslash or exotic line break; no indicator that starts an anchor,
   alias, tag, block scalar, flow collection (other than an empty ``[]`` or
   ``{}``), directive or complex key; no ``...``, and ``---`` only alone on
   its line; no nesting past 200 levels of indentation, nor sequences nested
   on one line (so neither loader's recursion limit is near); no line over 1,000 characters (PyYAML refuses longer implicit
   keys); and, when the JSON holds a number at all, every word that starts
   like a number is a plain decimal integer (rapidyaml rewrites ``-.5`` as
   ``-0.5``; YAML 1.1 keeps it a string).
2. **Every string agrees.** rapidyaml keeps a scalar's quotes, so a quoted
   ``"yes"`` and a plain ``yes`` both come out as the JSON string "yes";
   PyYAML would make the plain one ``True``. Any JSON string (key or value)
   that one of our YAML 1.1 implicit resolvers would match (bool, null,
   int, float, timestamp, merge, value) sends the file back, so a string
   here is a string there.
3. **Every other scalar agrees.** JSON ``true``, ``false`` and ``null`` come
   only from plain ``true``, ``false``, ``null`` or an empty value, which
   YAML 1.1 reads the same; integers are plain decimal by step 1; a float,
   NaN or infinity sends the file back; so does a duplicate key (PyYAML's
   loader reports it at its line).

Documents come back as plain dicts and lists (as from the parse cache),
each with the position where PyYAML's node would start; empty documents
are dropped (the loader skips them too). Without rapidyaml installed, or
with ``ACCESSOPS_NATIVE_YAML=off``, every file takes the usual path.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from accessops.manifest.yamlsrc import Pos, _LocatingLoader

# Step 1: what the plain subset excludes. Each check is a simple scan: these
# run over every byte of every file, so none may backtrack per position.
_EXOTIC_CHARS = re.compile("[\t\r\\\\\x85\u2028\u2029\ufeff]")  # tabs, CR, escapes, YAML 1.1's other line breaks, a stray BOM
_INDICATORS = "&*!|>%@`}],:?"  # where a token starts: anchor, alias, tag, block scalar, directive, flow, complex key
# An indicator starting a token (empty [] and {} are fine) after a space or at a line start.
_INDICATOR = re.compile("[ \n](?:[" + re.escape(_INDICATORS) + r"]|\[(?!\](?:[ \n]|$))|\{(?!\}(?:[ \n]|$)))")
# Most manifests hold none of these anywhere: then no token can start with one (a quick scan first).
_RARE = re.compile(r"[&*!|>%`{}\[\]?,]")
_MARKER = re.compile(r"\n(?:\.\.\.|---[ ]*[^ \n])")  # a document end, or content after a document start
# Nesting deep enough that PyYAML's loader (Python recursion) and json (C
# recursion) might not agree on where to give up: 200 levels of indentation,
# or sequences nested on one line ("- - a"), which nest without indenting.
_DEEP = re.compile(r"\n {200}|-[ ]+-(?:[ \n]|$)")
_NUMBERISH = re.compile(r"[ \n]([-+]?[.0-9][^ \n]*)")  # a word that starts like a number
_PLAIN_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_MAX_LINE = 1000  # PyYAML refuses an implicit key longer than 1024 characters
# What may follow a closing quote on its line: nothing, `: ` (a key) or ` #` (a comment).
# rapidyaml reads on after a quoted scalar ("- 'a'  - b" as two items) where
# PyYAML refuses; any quote after a non-space that is followed by anything
# else sends the file back (an apostrophe inside a word does too: that only
# costs speed).
_AFTER_QUOTE = re.compile(r"""(?<=[^ \n])['"](?:[ ]*[^ \n:#]|[ ]*:[^ \n]|#)""")


def plain_subset(text: str, numbers: bool = True) -> bool:
    """Whether ``text`` keeps to the YAML both parsers read alike (step 1 above).

    ``numbers=False`` leaves out the check that every number is a plain
    decimal integer (see :func:`plain_numbers`).
    """
    if _EXOTIC_CHARS.search(text):
        return False
    padded = "\n" + text  # so that the first line is checked like the others
    if (_RARE.search(text) or " :" in padded or "\n:" in padded or " @" in padded or "\n@" in padded) and _INDICATOR.search(padded):
        return False
    if _MARKER.search(padded) or _DEEP.search(padded):
        return False
    if ("'" in text or '"' in text) and _AFTER_QUOTE.search(text):
        return False
    if numbers and not plain_numbers(text):
        return False
    return len(text) <= _MAX_LINE or max(map(len, text.split("\n"))) <= _MAX_LINE


def plain_numbers(text: str) -> bool:
    """Whether every word of ``text`` that starts like a number is a plain decimal integer.

    Needed only for a file whose JSON holds a number: a scalar rapidyaml
    wrote as a string is judged by the string check instead.
    """
    return all(_PLAIN_INT.fullmatch(m.group(1)) for m in _NUMBERISH.finditer("\n" + text))


_DOC_START = re.compile(r"^---[ ]*$", re.MULTILINE)
_CONTENT = re.compile(r"^([ ]*)[^ \n#]", re.MULTILINE)


def _resolvable() -> re.Pattern[str]:
    """A JSON string token whose text one of our implicit resolvers (YAML 1.1) would turn into a non-string."""
    seen: set[str] = set()
    parts: list[str] = []
    for resolvers in _LocatingLoader.yaml_implicit_resolvers.values():
        for _tag, regexp in resolvers:
            if regexp.pattern in seen:
                continue
            seen.add(regexp.pattern)
            body = regexp.pattern.removeprefix("^").removesuffix("$")
            parts.append(f"(?x:{body})" if regexp.flags & re.VERBOSE else f"(?:{body})")
    return re.compile('"(?:' + "|".join(parts) + ')"')


_RESOLVABLE = _resolvable()
# Every resolver's text starts with one of these characters, or is a word of
# at most five letters (yes, no, true, false, on, off, null in their cases):
# only such tokens need the full check.
_CANDIDATE = re.compile(r'"(?:[-+.0-9~<=!&*"]|[yYnNtTfFoO][a-zA-Z]{0,4}")')


def _resolves(dumped: str) -> bool:
    """Whether any string token of the JSON ``dumped`` would be a non-string in YAML 1.1."""
    return any(_RESOLVABLE.match(dumped, m.start()) for m in _CANDIDATE.finditer(dumped))


class _Disagree(Exception):
    """The fast path cannot prove it builds what PyYAML builds."""


def _refuse(_literal: str) -> Any:
    raise _Disagree


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _Disagree
    return data


class _Decoder(json.JSONDecoder):
    """JSON as rapidyaml writes it: a float, NaN, infinity or duplicate key is a disagreement; integers are counted."""

    def __init__(self) -> None:
        super().__init__(object_pairs_hook=_no_duplicates, parse_float=_refuse, parse_constant=_refuse, parse_int=self._int)
        self.integers = 0

    def _int(self, literal: str) -> int:
        self.integers += 1
        return int(literal)

try:  # optional: without it every file takes PyYAML's path
    import ryml as _ryml  # type: ignore[import-untyped]  # no stubs; used through five calls
except Exception:  # pragma: no cover - depends on the environment (ImportError, or a broken wheel)
    _ryml = None


def available() -> bool:
    """Whether the native parser is installed and not turned off."""
    return _ryml is not None and os.environ.get("ACCESSOPS_NATIVE_YAML", "").lower() not in ("0", "off", "no", "false")


def _starts(text: str) -> list[Pos]:
    """Where each non-empty document's first node starts, as PyYAML's composer marks it."""
    markers = [m.span() for m in _DOC_START.finditer(text)]
    bounds = [0, *(end for _, end in markers)]
    ends = [*(start for start, _ in markers), len(text)]
    out = []
    line, counted = 1, 0
    for begin, end in zip(bounds, ends):
        found = _CONTENT.search(text, begin, end)
        if found is not None:
            line += text.count("\n", counted, found.start())
            counted = found.start()
            out.append(Pos(line, len(found.group(1)) + 1))
    return out


def _quiet_parse(raw: bytes) -> Any:
    """rapidyaml's tree of ``raw``; its error report (printed by C++ to fd 2) is swallowed: PyYAML reports instead."""
    assert _ryml is not None
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep clean
        return _ryml.parse_in_arena(raw)
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 2)
        finally:
            os.close(null)
        return _ryml.parse_in_arena(raw)
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_documents(text: str) -> list[tuple[Any, Pos]] | None:
    """Every non-empty document of ``text`` with its start, exactly as :func:`yamlsrc.load_documents`; None when unsure."""
    parsed = parse(text)
    return None if parsed is None else [(data, start) for data, start, _ in parsed]


def parse(text: str) -> list[tuple[Any, Pos, str]] | None:
    """:func:`load_documents` with each document's JSON text too (what the parse cache keeps); None when unsure."""
    if _ryml is None or not plain_subset(text, numbers=False):
        return None
    try:
        tree = _quiet_parse(text.encode("utf-8"))
    except Exception:  # rapidyaml refuses it: PyYAML will say where and why (or read it differently)
        return None
    root = tree.root_id()
    nodes = []
    if tree.is_stream(root):
        child = tree.first_child(root)
        while child != _ryml.NONE:
            nodes.append(child)
            child = tree.next_sibling(child)
    else:
        nodes.append(root)
    datas: list[tuple[Any, str]] = []
    decoder = _Decoder()
    for node in nodes:
        dumped = _ryml.emit_json_malloc(tree, node)
        if dumped is None:
            continue  # nothing in the stream but comments
        if _resolves(dumped):
            return None
        try:
            data = decoder.decode(dumped)
        except (_Disagree, ValueError, RecursionError):  # RecursionError: nested deeper than json goes; PyYAML says so
            return None
        if data is not None:
            datas.append((data, dumped))
    if decoder.integers and not plain_numbers(text):
        return None  # rapidyaml rewrites some numbers (-.5 as -0.5): only plain decimal integers are sure
    starts = _starts(text)
    if len(starts) != len(datas):
        return None
    return [(data, start, dumped) for (data, dumped), start in zip(datas, starts)]
