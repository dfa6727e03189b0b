"""Safe YAML loading that remembers where every mapping and list came from.

Parsing and composing run in libyaml (CSafeLoader) when it is available;
only construction is Python. Mappings become :class:`LocatedDict` and
sequences :class:`LocatedList`, which carry the position of themselves and of
each key or item, so an error however deep points at its manifest line.
Duplicate keys are errors, and alias expansion is bounded.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any, Iterator

import yaml

try:
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader

# An aliased node counts once per use after expansion; past this many extra
# nodes a file is refused (a "billion laughs" expands to 10**9).
MAX_ALIAS_EXPANSION = 100_000


@dataclass(frozen=True, slots=True)
class Pos:
    """A 1-based line and column."""

    line: int
    column: int


class LocatedDict(dict):  # type: ignore[type-arg]
    """A dict that knows its position and the position of each key.

    Only the YAML node is kept; positions are worked out when an error asks
    for them, so loading a valid manifest pays almost nothing for them.
    """

    __slots__ = ("node",)

    def __init__(self, node: yaml.Node) -> None:
        super().__init__()
        self.node = node

    @property
    def pos(self) -> Pos:
        """Where the mapping starts."""
        return _pos(self.node)

    @property
    def key_pos(self) -> dict[Any, Pos]:
        """Position of each key (first occurrence wins, as in the loaded data)."""
        out: dict[Any, Pos] = {}
        for key_node, _ in self.node.value:
            out.setdefault(getattr(key_node, "value", None), _pos(key_node))
        return out


class LocatedList(list):  # type: ignore[type-arg]
    """A list that knows its position and the position of each item."""

    __slots__ = ("node",)

    def __init__(self, node: yaml.Node) -> None:
        super().__init__()
        self.node = node

    @property
    def pos(self) -> Pos:
        """Where the sequence starts."""
        return _pos(self.node)

    @property
    def item_pos(self) -> list[Pos]:
        """Position of each item."""
        return [_pos(child) for child in self.node.value]


class YamlProblem(Exception):
    """A YAML-level problem at a position (syntax, duplicate key, aliases)."""

    def __init__(self, pos: Pos, code: str, message: str, path: str = "") -> None:
        super().__init__(message)
        self.pos = pos
        self.code = code
        self.message = message
        self.path = path


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _same_key(a: Any, b: Any) -> bool:
    """Key equality as a dict sees it: identity first, so ``.nan`` (never equal to itself) matches its twin."""
    return a is b or a == b or (a != a and b != b)  # the last: two NaN keys spelled differently


class _LocatingLoader(_BaseLoader):  # type: ignore[misc]
    """CSafeLoader whose containers remember positions and refuse duplicate keys."""

    may_merge = True  # whether the text can hold a "<<" merge key at all

    # libyaml's composer asks the (Python) resolver for the tag of every
    # node. The safe resolver has no path resolvers, so resolving is only
    # "which implicit pattern matches this plain scalar"; the same answer as
    # PyYAML's, without building a list per call.
    _by_first: dict[str | None, list[tuple[str, Any]]] = {}

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                by_first = type(self)._by_first
                first = value[0] if value else ""
                candidates = by_first.get(first)
                if candidates is None:
                    table = self.yaml_implicit_resolvers
                    candidates = by_first[first] = list(table.get(first, [])) + list(table.get(None, []))
                for tag, regexp in candidates:
                    if regexp.match(value):
                        return tag
            return str(self.DEFAULT_SCALAR_TAG)
        if kind is yaml.SequenceNode:
            return str(self.DEFAULT_SEQUENCE_TAG)
        return str(self.DEFAULT_MAPPING_TAG)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """PyYAML's construction; a scalar Python cannot build is a problem at its line, not a crash."""
        if not isinstance(node, yaml.ScalarNode):
            return super().construct_object(node, deep=deep)
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError, AttributeError) as exc:  # PyYAML's scalar constructors raise these
            raise YamlProblem(_pos(node), "yaml.bad-value", _bad_value(node, exc)) from None

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers: nothing to track."""

    def ascend_resolver(self) -> None:
        """No path resolvers: nothing to track."""

    def construct_located_mapping(self, node: yaml.MappingNode) -> Iterator[LocatedDict]:
        data = LocatedDict(node)
        yield data
        if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
            self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in data
            except TypeError:
                raise YamlProblem(_pos(key_node), "yaml.unhashable-key", "mapping key is not a scalar") from None
            if duplicate:
                first = next(_pos(k) for k, _ in node.value if _same_key(self.construct_object(k, deep=True), key))
                raise YamlProblem(
                    _pos(key_node),
                    "yaml.duplicate-key",
                    f"duplicate key {key!r} (first at line {first.line})",
                )
            data[key] = self.construct_object(value_node, deep=True)

    def construct_located_sequence(self, node: yaml.SequenceNode) -> Iterator[LocatedList]:
        data = LocatedList(node)
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)


def _bad_value(node: yaml.Node, exc: Exception) -> str:
    """Why a scalar could not be built, in the manifest's terms."""
    value = str(getattr(node, "value", ""))
    digits = sum(ch.isdigit() for ch in value)
    if node.tag == "tag:yaml.org,2002:int" and digits > 1000:
        return f"integer of {digits} digits is too large"
    kind = node.tag.rsplit(":", 1)[-1]
    why = str(exc).splitlines()[0] if isinstance(exc, (ValueError, OverflowError)) and str(exc) else "not a valid value"
    return f"invalid {kind} {value[:40]!r}: {why}"


_LocatingLoader.add_constructor("tag:yaml.org,2002:map", _LocatingLoader.construct_located_mapping)
_LocatingLoader.add_constructor("tag:yaml.org,2002:seq", _LocatingLoader.construct_located_sequence)

_STR, _MAP, _SEQ, _MERGE = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq", "merge"))


def _construct_plain(loader: _LocatingLoader, node: yaml.Node) -> Any:
    """What ``construct_document`` builds, for a document without anchors, in one direct walk.

    PyYAML's generic constructor costs a generator and a dispatch per
    node; manifests are mostly plain strings, mappings and lists, so those
    are built here and every other node (numbers, booleans, dates, odd
    tags and their errors) is left to the loader as before. Without
    anchors no node is shared, so nothing needs remembering.
    """
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP and isinstance(node, yaml.MappingNode):
        data = LocatedDict(node)
        if loader.may_merge and any(k.tag == _MERGE for k, _ in node.value):
            loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _construct_plain(loader, key_node)
            try:
                duplicate = key in data
            except TypeError:
                raise YamlProblem(_pos(key_node), "yaml.unhashable-key", "mapping key is not a scalar") from None
            if duplicate:
                first = next(_pos(k) for k, _ in node.value if _same_key(_construct_plain(loader, k), key))
                raise YamlProblem(_pos(key_node), "yaml.duplicate-key", f"duplicate key {key!r} (first at line {first.line})")
            data[key] = _construct_plain(loader, value_node)
        return data
    if tag == _SEQ and isinstance(node, yaml.SequenceNode):
        items = LocatedList(node)
        items.extend([_construct_plain(loader, child) for child in node.value])
        return items
    return loader.construct_object(node, deep=True)


def _check_alias_expansion(root: yaml.Node) -> None:
    """Refuse documents whose aliases expand past MAX_ALIAS_EXPANSION nodes.

    Sizes are memoised per node, so the check is linear in distinct nodes
    even for an exponential expansion.
    """
    sizes: dict[int, int] = {}
    distinct = 0

    def size(node: yaml.Node) -> int:
        nonlocal distinct
        known = sizes.get(id(node))
        if known is not None:
            return known
        distinct += 1
        sizes[id(node)] = 1  # a recursive alias counts once, then fails below
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            for child in node.value:
                total += size(child)
        sizes[id(node)] = total
        if total - distinct > MAX_ALIAS_EXPANSION:
            raise YamlProblem(
                _pos(node),
                "yaml.alias-bomb",
                f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes; refusing to load",
            )
        return total

    size(root)


# What YAML may hold: tab, newlines and printable Unicode (YAML 1.1, section 5.1).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WHOLE_FILE = Pos(0, 0)  # a problem of the whole file: no line


def _looks_utf16(raw: bytes) -> bool:
    """Mostly-ASCII text stored as UTF-16 has a NUL in every other byte."""
    sample = raw[:4096]
    half = len(sample) // 2
    return half > 0 and max(sample[0::2].count(0), sample[1::2].count(0)) >= half * 0.3


def decode_text(raw: bytes) -> str:
    """A manifest's bytes as text: UTF-8 (or UTF-16/32 with a byte-order mark), printable characters only.

    Raises :class:`YamlProblem` at the offending line and column, or for
    the whole file (line 0) when it is UTF-16 without a byte-order mark.
    """
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                raise YamlProblem(_WHOLE_FILE, "file.encoding", f"not valid {codec.upper()} after its byte-order mark") from None
            break
    else:
        if b"\x00" in raw and _looks_utf16(raw):
            raise YamlProblem(_WHOLE_FILE, "file.encoding", "the file is UTF-16 without a byte-order mark; save it as UTF-8")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line_start = raw.rfind(b"\n", 0, exc.start) + 1
            pos = Pos(raw.count(b"\n", 0, exc.start) + 1, len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1)
            raise YamlProblem(pos, "file.encoding", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line_start = text.rfind("\n", 0, bad.start()) + 1
        pos = Pos(text.count("\n", 0, bad.start()) + 1, bad.start() - line_start + 1)
        raise YamlProblem(pos, "file.control-character", f"control character U+{ord(bad.group()):04X} is not allowed in a manifest (is this a binary file?)")
    return text


def load_documents(text: str) -> list[tuple[Any, Pos]]:
    """Parse every document of a YAML stream safely; return (data, start) pairs.

    Raises :class:`YamlProblem` for syntax errors, duplicate keys and alias
    bombs.
    """
    loader = _LocatingLoader(text)
    loader.may_merge = "<<" in text  # no "<<", no merge key to look for in each mapping
    check_aliases = "&" in text  # no anchor, no alias: skip the walk
    documents: list[tuple[Any, Pos]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            if check_aliases:
                _check_alias_expansion(node)
            if check_aliases:
                data = loader.construct_document(node)
            else:
                data = _construct_plain(loader, node)
                loader.constructed_objects.clear()  # as construct_document leaves it
            documents.append((data, _pos(node)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(mark.line + 1, mark.column + 1) if mark else Pos(1, 1)
        raise YamlProblem(pos, "yaml.syntax", f"{exc.problem or exc.context}".strip()) from None
    except yaml.YAMLError as exc:  # e.g. the reader's, without a mark
        raise YamlProblem(Pos(1, 1), "yaml.syntax", str(exc).splitlines()[0]) from None
    except RecursionError:
        raise YamlProblem(Pos(1, 1), "yaml.too-deep", "document nests too deeply") from None
    finally:
        loader.dispose()
    return documents


def locate(data: Any, path: tuple[Any, ...], default: Pos) -> Pos:
    """The position of ``path`` inside ``data``: as deep as the path can be followed."""
    pos = data.pos if isinstance(data, (LocatedDict, LocatedList)) else default
    node = data
    for part in path:
        if isinstance(node, LocatedDict) and part in node:
            pos = node.key_pos.get(part, pos)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and 0 <= part < len(node):
            pos = _pos(node.node.value[part])
            node = node[part]
        else:
            break
    return pos
