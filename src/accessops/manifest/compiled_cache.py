"""A cache of the compiled model per manifest set, so an unchanged set is not checked and compiled again.

After the parse cache, the cross-document checks and the compile are most
of a warm plan's manifest work. An entry holds what :func:`compile_model`
returned (resources, managed scopes, grant origins, grant teams) for one
manifest set, keyed by the SHA-256 of everything they are a function of:
accessops' version, every file's name and text digest in load order, every
resolved profile's content (a profile file edited beside the manifests
changes the key), and ``accessops.toml``. It is JSON, never pickle, authenticated by an
HMAC with the parse cache's key (outside the repository), so an entry
planted or edited in ``.accessops/cache/compiled/`` is ignored.

When the set is unchanged, the documents are still loaded (from the parse
cache) and validated, and the profiles resolved: every later step
(policies, lint, notes, grant origins, positions for messages) gets the
same model as before. Only the checks, which passed when the entry was
written (an entry is written only for a set with no problem), and the
compile are skipped. Off with the parse cache (``ACCESSOPS_PARSE_CACHE=off``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessops import __version__
from accessops.manifest import parse_cache

if TYPE_CHECKING:
    from accessops.manifest.loader import DesiredModel
    from accessops.model.compile import Compiled

FORMAT = f"accessops-compiled-cache/2/{__version__}".encode()  # 2: attribute sets once, columns per type


class CompiledCache:
    """Compiled models by manifest-set key, in one folder, authenticated by HMAC."""

    def __init__(self, folder: Path, key: bytes, settings_file: Path | None = None) -> None:
        self.folder = folder
        self.entries = parse_cache.SignedEntries(folder, key, FORMAT)
        self.settings_file = settings_file  # accessops.toml: no compile reads it today, but its text is in the key

    @classmethod
    def beside(cls, parse: parse_cache.ParseCache, settings_file: Path | None = None) -> CompiledCache:
        """The compiled cache next to ``parse`` (a sibling ``compiled`` folder), signed with its key."""
        return cls(parse.folder.parent / "compiled", parse._key, settings_file)

    @classmethod
    def open_default(cls) -> CompiledCache | None:
        """The cache under ``.accessops/cache/compiled`` (or ``ACCESSOPS_CACHE_DIR``); None when off."""
        parse = parse_cache.ParseCache.open_default()
        return None if parse is None else cls.beside(parse)

    def key_for(self, model: DesiredModel) -> str:
        """The manifest set's key: version, accessops.toml, files and their digests, resolved profiles."""
        h = hashlib.sha256(FORMAT)
        try:
            settings = self.settings_file.read_bytes() if self.settings_file is not None else b""
        except OSError:
            settings = b"unreadable"
        h.update(b"settings\0" + hashlib.sha256(settings).hexdigest().encode() + b"\0")
        for name, digest in model.digests:
            h.update(f"file\0{name}\0{digest}\0".encode("utf-8", "surrogatepass"))
        dumped: dict[int, str] = {}
        for label, table in (("org", model.profiles), ("workspace", model.workspace_profiles)):
            for name, profile in sorted(table.items()):
                text = dumped.get(id(profile))
                if text is None:
                    text = dumped[id(profile)] = profile.model_dump_json()
                h.update(f"{label}\0{name}\0{text}\0".encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def get(self, key: str) -> Compiled | None:
        """The compiled model cached for ``key``, or None (missing, damaged or not ours)."""
        payload = self.entries.read(key)
        if payload is None:
            return None
        # decoded by compile_cached, once the documents' raw mappings are released (issue 14 item 5)
        return _Entry(payload)  # type: ignore[return-value]

    def put(self, key: str, compiled: Compiled) -> None:
        """Remember ``compiled`` for ``key`` if JSON carries it exactly; never fails the caller."""
        data = _encode(compiled)
        if data is None:
            return
        try:
            # no cycles in a compiled model (a cycle would raise RecursionError); UTF-8 as is, not \u escapes
            payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False, check_circular=False).encode("utf-8")
        except (ValueError, TypeError, RecursionError):
            return
        self.entries.write(key, payload)


_SCALARS = frozenset({str, int, bool, type(None)})  # exactly these types come back from JSON as they went in


def _exact(value: Any) -> bool:
    """Whether ``value`` comes back from JSON exactly: these scalars, lists, dicts with string keys (a tuple would not)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is list:
        return all(map(_exact, value))
    if kind is dict:
        return all(type(k) is str for k in value) and all(map(_exact, value.values()))
    return False


def _exact_attrs(attrs: Any) -> bool:
    """:func:`_exact` for one resource's attributes, quick for what they usually hold (scalars, lists of strings)."""
    if type(attrs) is not dict:
        return False
    scalars = _SCALARS
    for name, value in attrs.items():
        kind = type(value)
        if kind in scalars and type(name) is str:
            continue
        if kind is list and type(name) is str and all(type(item) is str for item in value):
            continue
        if not (type(name) is str and _exact(value)):
            return False
    return True


class _Entry:
    """An authenticated entry's payload, decoded only when compile asks for it.

    Decoding inside ``load`` would hold the decoded resources beside the
    documents and their raw mappings: at 100k members that is the plan's
    peak (694 MB against 464 MB decoded after ``release_sources``).
    """

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    def decode(self) -> Compiled | None:
        """The compiled model, or None when the payload is not one (the caller compiles instead)."""
        try:
            return _decode(json.loads(self.payload))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, StopIteration):
            return None


def _encode(compiled: Compiled) -> dict[str, Any] | None:
    """The compiled model as JSON data, or None when a value would not come back as it went in.

    Each distinct attribute set is written once (``attrs``: most resources
    share a handful); per type, the keys and the number of each one's set
    in columns (no list per resource); ``runs`` keeps the resources' order.
    """
    from accessops.model.compact import attrs_key

    table: list[dict[str, Any]] = []
    numbers: dict[bytes, int] = {}
    columns: dict[str, tuple[list[str], list[int]]] = {}
    runs: list[list[Any]] = []
    for res in compiled.resources.values():
        attrs = res.attrs
        mark = attrs_key(attrs)  # equal exactly for equal sets (types included)
        if mark is None:
            return None
        number = numbers.get(mark)
        if number is None:
            if not _exact_attrs(attrs):
                return None  # e.g. a tuple, a set or a float: JSON would not give it back the same
            number = numbers[mark] = len(table)
            table.append(attrs)
        column = columns.get(res.type)
        if column is None:
            column = columns[res.type] = ([], [])
        column[0].append(res.key)
        column[1].append(number)
        if runs and runs[-1][0] == res.type:
            runs[-1][1] += 1
        else:
            runs.append([res.type, 1])
    if not all(type(o) is str for origins in compiled.origins.values() for o in origins):
        return None
    return {
        "attrs": table,
        "runs": runs,
        "columns": {t: [keys, nums] for t, (keys, nums) in columns.items()},
        "scopes": [[scope.type, scope.prefix] for scope in compiled.scopes],
        "origins": [[addr, list(origins)] for addr, origins in compiled.origins.items()],
        "grant_teams": sorted(compiled.grant_teams),
    }


def _decode(data: dict[str, Any]) -> Compiled:
    """A compiled model from :func:`_encode`'s data, in the same order, equal sets one dict."""
    from accessops.model.compact import Shared
    from accessops.model.compile import Compiled
    from accessops.model.resource import RESOURCE_TYPES

    out = Compiled()
    put = Shared().put_shared  # addresses and keys pooled like the live and last-applied maps'
    table = data["attrs"]
    columns = {t: (iter(keys), iter(nums)) for t, (keys, nums) in data["columns"].items()}
    for type_, count in data["runs"]:
        keys, nums = columns[type_]
        name = RESOURCE_TYPES[type_].name  # one string per type name, not one per resource
        for _ in range(count):
            # as Compiled.add builds them (None attributes were kept on purpose)
            put(out.resources, name, next(keys), table[next(nums)])
    for type_, prefix in data["scopes"]:
        out.manage(type_, prefix)
    out.origins = {addr: tuple(origins) for addr, origins in data["origins"]}
    out.grant_teams = set(data["grant_teams"])
    return out


def compile_cached(model: DesiredModel, *, remember: bool = True) -> Compiled:
    """The model's compiled form: the cached one the loader found, else compiled now (and remembered).

    ``remember=False`` leaves the write to :func:`remember_compiled`, for a
    caller that first releases the documents (the encoding is large).
    """
    from accessops.model.compile import compile_model

    entry, model.compiled = model.compiled, None  # the caller owns (and may change) it now
    found = entry.decode() if isinstance(entry, _Entry) else entry
    if found is not None:
        model.compiled_slot = None  # a hit: nothing to remember
        return found
    compiled = compile_model(model)
    if remember:
        remember_compiled(model, compiled)
    return compiled


def remember_compiled(model: DesiredModel, compiled: Compiled) -> None:
    """Write a fresh compile of ``model`` to the cache (once: the slot is used up)."""
    slot, model.compiled_slot = model.compiled_slot, None
    if slot is not None:
        cache, key = slot
        cache.put(key, compiled)
