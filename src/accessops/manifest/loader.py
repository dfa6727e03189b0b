"""Read folders of manifests into a :class:`DesiredModel`, reporting every problem.

Loading is safe (no arbitrary tags), duplicate keys and alias bombs are
refused, and each problem reads ``file:line:col: path: message``. All
problems come out of one run; :func:`load` raises :class:`ManifestError`
holding them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from accessops.errors import ManifestError, Problem
from accessops.manifest import parse_cache
from accessops.manifest.parse_cache import ParseCache
from accessops.manifest.yamlsrc import LocatedDict, Pos, YamlProblem, decode_text, load_documents, locate
from accessops.model.names import PATTERN_MESSAGES
from accessops.model.manifest import (
    API_VERSION,
    DOCUMENT_ADAPTER,
    KINDS,
    Organization,
    PermissionSet,
    Policy,
    Space,
    SpaceType,
    Workspace,
)
from accessops.model.profile import Profile
from accessops.runtime import paused_gc

D = TypeVar("D")


@dataclass(frozen=True)
class Loaded(Generic[D]):
    """A validated document and where it came from."""

    doc: D
    file: str
    data: Any  # the raw mapping (located when parsed, plain when it came from the parse cache)
    pos: Pos
    source: _Source | None = None  # where to re-parse the text when ``data`` has no positions

    def locate(self, path: tuple[Any, ...]) -> Pos:
        """The position of ``path`` inside this document (re-parsing a cached file if need be)."""
        data = self.data
        if not isinstance(data, LocatedDict) and self.source is not None:
            data = self.source.located(self.pos)
        return locate(data, path, self.pos)

    def problem(self, path: tuple[Any, ...], code: str, message: str) -> Problem:
        """A problem located at ``path`` inside this document."""
        where = self.locate(path)
        return Problem(self.file, where.line, where.column, format_path(path), code, message)


@dataclass
class _Source:
    """The text a cached file's documents came from, parsed again only to point at a line."""

    text: str
    _documents: list[tuple[Any, Pos]] | None = None

    def located(self, start: Pos) -> Any:
        """The located document that starts at ``start``."""
        if self._documents is None:
            self._documents = load_documents(self.text)
        return next((data for data, pos in self._documents if pos == start), None)


@dataclass
class DesiredModel:
    """Every document of a manifest set, by kind and name, with resolved profiles."""

    organizations: dict[str, Loaded[Organization]] = field(default_factory=dict)
    workspaces: dict[str, Loaded[Workspace]] = field(default_factory=dict)  # "org/name"
    space_types: dict[str, Loaded[SpaceType]] = field(default_factory=dict)  # "org/name"
    spaces: dict[str, Loaded[Space]] = field(default_factory=dict)  # "org/name"
    permission_sets: dict[str, Loaded[PermissionSet]] = field(default_factory=dict)  # name
    policies: dict[str, Loaded[Policy]] = field(default_factory=dict)  # "org/name"
    profiles: dict[str, Profile] = field(default_factory=dict)  # org name -> profile
    workspace_profiles: dict[str, Profile] = field(default_factory=dict)  # "org/ws" -> profile
    files: list[str] = field(default_factory=list)
    digests: list[tuple[str, str]] = field(default_factory=list)  # (file, SHA-256 of its text), in load order
    compiled: Any = None  # model.compile.Compiled, when the compiled cache had this manifest set
    compiled_slot: Any = None  # (CompiledCache, key) where compile_cached remembers a fresh compile

    @property
    def org_names(self) -> list[str]:
        """Names of the declared organizations, sorted."""
        return sorted(self.organizations)


def format_path(path: tuple[Any, ...]) -> str:
    """``spec.members[3].email`` from ``("spec", "members", 3, "email")``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def manifest_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``*.yaml`` / ``*.yml`` under ``paths``, sorted; hidden entries skipped."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if child.suffix in (".yaml", ".yml") and child.is_file() and not any(p.startswith(".") for p in rel.parts):
                    found.append(child)
        elif path.exists():
            found.append(path)
        else:
            raise ManifestError([Problem(str(path), 0, 0, "", "file.missing", "no such file or directory")])
    return found


def _pydantic_problems(err: ValidationError, file: str, data: Any, start: Pos, kind: str) -> list[Problem]:
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        if loc and loc[0] == kind:
            loc = loc[1:]  # the discriminated union puts the tag first
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = f"unknown field {loc[-1]!r}"
        elif e["type"] == "missing":
            msg = f"missing required field {loc[-1]!r}"
        elif e["type"] == "string_pattern_mismatch":
            msg = PATTERN_MESSAGES.get(str((e.get("ctx") or {}).get("pattern")), msg)
        pos = locate(data, loc, start)
        problems.append(Problem(file, pos.line, pos.column, format_path(loc), f"schema.{e['type']}", msg))
    return problems


def parse_file(path: Path, display: str, cache: ParseCache | None = None, digests: list[tuple[str, str]] | None = None) -> tuple[list[Loaded[Any]], list[Problem]]:
    """Validate every document of one file against the manifest models.

    With a ``cache``, a file whose text was parsed before is not parsed
    again, and a file that parsed and validated cleanly is remembered.
    ``digests`` gets the file's (display name, text digest).
    """
    problems: list[Problem] = []
    loaded: list[Loaded[Any]] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [Problem(display, 0, 0, "", "file.unreadable", exc.strerror or str(exc))]
    try:
        text = decode_text(raw)
    except YamlProblem as exc:
        return [], [Problem(display, exc.pos.line, exc.pos.column, exc.path, exc.code, exc.message)]
    key = parse_cache.digest(text) if cache is not None or digests is not None else ""
    if digests is not None:
        digests.append((display, key))
    documents = cache.get(key) if cache is not None else None
    fresh = documents is None
    as_json: list[tuple[str, Pos]] | None = None  # the native parser's JSON of each document, for the cache
    if documents is None:
        from accessops.manifest import yamlfast  # only when a file is parsed: a warm run needs no parser

        parsed = yamlfast.parse(text) if yamlfast.available() else None
        if parsed is not None:
            documents = [(data, start) for data, start, _ in parsed]
            as_json = [(dumped, start) for _, start, dumped in parsed]
    source = _Source(text) if documents is not None else None  # no positions: parse again to point at a line
    if documents is None:
        try:
            documents = load_documents(text)
        except YamlProblem as exc:
            return [], [Problem(display, exc.pos.line, exc.pos.column, exc.path, exc.code, exc.message)]
    for data, start in documents:
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(display, start.line, start.column, "", "doc.not-mapping", "a manifest document must be a mapping"))
            continue
        kind = data.get("kind")
        if data.get("apiVersion") != API_VERSION:
            pos = locate(source.located(start) if source else data, ("apiVersion",), start)
            problems.append(Problem(display, pos.line, pos.column, "apiVersion", "doc.api-version", f"apiVersion must be {API_VERSION!r}, not {data.get('apiVersion')!r}"))
            continue
        if kind not in KINDS:
            pos = locate(source.located(start) if source else data, ("kind",), start)
            problems.append(Problem(display, pos.line, pos.column, "kind", "doc.kind", f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})"))
            continue
        try:
            doc = DOCUMENT_ADAPTER.validate_python(data)
        except ValidationError as err:
            if source is not None:
                data = source.located(start)
            problems.extend(_pydantic_problems(err, display, data, start, kind))
            continue
        loaded.append(Loaded(doc, display, data, start, source))
    if cache is not None and fresh and not problems:
        if as_json is not None:
            cache.put_json(key, as_json)  # already JSON: no second walk or dump
        else:
            cache.put(key, documents)
    return loaded, problems


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def assemble(loaded: list[Loaded[Any]]) -> tuple[DesiredModel, list[Problem]]:
    """Index documents by kind and name; duplicates are problems."""
    model = DesiredModel()
    problems: list[Problem] = []
    tables: dict[str, dict[str, Any]] = {
        "Organization": model.organizations,
        "Workspace": model.workspaces,
        "SpaceType": model.space_types,
        "Space": model.spaces,
        "PermissionSet": model.permission_sets,
        "Policy": model.policies,
    }
    for item in loaded:
        doc = item.doc
        org = getattr(doc.spec, "organization", None)
        key = f"{org}/{doc.metadata.name}" if org and doc.kind != "PermissionSet" else doc.metadata.name
        table = tables[doc.kind]
        if key in table:
            first = table[key]
            problems.append(item.problem(("metadata", "name"), "ref.duplicate-document", f"{doc.kind} {doc.metadata.name!r} is already declared at {first.file}:{first.pos.line}"))
            continue
        table[key] = item
    return model, problems


def load(paths: Iterable[str | Path], *, check: bool = True, cache: ParseCache | None | bool = True, compiled: bool = False, settings_file: Path | None = None) -> DesiredModel:
    """Load, validate and cross-check manifests; raise ManifestError with every problem.

    ``cache=True`` uses the default parse cache (see :mod:`parse_cache`),
    ``False`` parses every file. ``compiled=True`` (with ``cache=True``)
    also looks the manifest set up in the compiled-model cache: on a hit
    ``model.compiled`` holds it and the cross-document checks, which it
    passed, are skipped; the caller then takes it with
    :func:`compiled_cache.compile_cached`, which remembers a fresh compile.
    ``settings_file`` (``accessops.toml``) is part of that cache's key.
    """
    store = None
    if cache is True:
        cache = ParseCache.open_default()
        if cache is not None and compiled:
            from accessops.manifest.compiled_cache import CompiledCache

            store = CompiledCache.beside(cache, settings_file)
    with paused_gc():
        return _load(paths, check, cache or None, store)


def _load(paths: Iterable[str | Path], check: bool, cache: ParseCache | None, compiled: Any = None) -> DesiredModel:
    paths = list(paths)
    files = manifest_files(paths)
    if not files:
        where = ", ".join(str(p) for p in paths) or "."
        raise ManifestError([Problem(where, 0, 0, "", "file.none", "no manifests found (*.yaml or *.yml)")])
    loaded: list[Loaded[Any]] = []
    problems: list[Problem] = []
    digests: list[tuple[str, str]] = []
    for path in files:
        docs, probs = parse_file(path, _display(path), cache, digests if compiled is not None else None)
        loaded.extend(docs)
        problems.extend(probs)
    model, more = assemble(loaded)
    problems.extend(more)
    model.files = [_display(p) for p in files]
    model.digests = digests
    if check:
        from accessops.manifest.validate import check_resolved, resolve_profiles

        unresolved = resolve_profiles(model)
        if compiled is not None and not problems and not unresolved:
            # an unchanged manifest set passed every check when its compiled form was cached
            key = compiled.key_for(model)
            model.compiled = compiled.get(key)
            model.compiled_slot = (compiled, key)
        if model.compiled is None:
            problems.extend(unresolved)
            problems.extend(check_resolved(model))
    if problems:
        raise ManifestError(problems)
    return model
