"""The native YAML fast path builds exactly what the PyYAML loader builds, or steps aside.

Equality is checked three ways: on generated YAML (hypothesis, with the
scalars YAML 1.1 and 1.2 read differently, and with broken text), on every
manifest under examples/ and tests/, and through the loader (errors keep
their file:line:col when a file came through the fast path).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessops.errors import ManifestError
from accessops.manifest import loader, yamlfast, yamlsrc

ROOT = Path(__file__).resolve().parents[1]

# Scalars on both sides of every line the fast path draws: YAML 1.1 booleans,
# nulls, octal, sexagesimal, floats and dates; indicators; quotes; odd spaces.
WORDS = [
    "a", "Viewer", "None", "Full", "Owner", "yes", "No", "on", "OFF", "true", "True", "false", "null", "Null", "~", "",
    "0", "7", "-3", "-0", "+5", "010", "0o17", "0x1F", "0b101", "1_000", "1.5", "-.5", ".5", ".inf", "-.Inf", ".nan", "1e5",
    "1.0e+5", "12:30", "190:20:30", "2024-01-02", "2001-12-14t21:59:43.10-05:00", "<<", "=", "x@y.test", "R&D", "a b", "a#b",
    "a #b", "it's", "x: y", "x:y", "-x", "- x", "?x", "? x", "%x", "é", "a,b", "[x]", "{}", "[]", "...", "---", "*x", "&x",
    "!x", "!!str", "|", ">", "@x", "`x", "a  b", " lead", "trail ", "a'b", 'a"b', "\\", "\t", "ws-000", "5 apples", "#c",
]
KEYS = st.sampled_from(WORDS + ["email", "role", "name", "members", "spec"])


def _quote(text: str, style: str) -> str:
    if style == "single":
        return "'" + text.replace("'", "''") + "'"
    if style == "double":
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


scalars = st.tuples(st.sampled_from(WORDS), st.sampled_from(["plain", "plain", "single", "double"])).map(lambda t: _quote(*t))
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(st.tuples(KEYS.flatmap(lambda k: st.sampled_from([k, _quote(k, "single")])), inner), max_size=4),
        st.lists(inner, max_size=4).map(lambda items: ("seq", items)),
    ),
    max_leaves=12,
)


def _render(node: object, indent: int, out: list[str], lead: str, compact_seq: bool) -> None:
    """Block YAML for a generated tree (``lead``: what precedes the node on its first line)."""
    pad = " " * indent
    if isinstance(node, str):
        out.append(f"{lead} {node}".rstrip() if lead else f"{pad}{node}")
        return
    if isinstance(node, tuple):  # ("seq", items)
        items = node[1]
        if not items:
            out.append(f"{lead} []" if lead else f"{pad}[]")
            return
        if lead:
            out.append(lead)
        inner = indent if (compact_seq and lead) else indent + (2 if lead else 0)
        for item in items:
            _render(item, inner + 2, out, " " * inner + "-", compact_seq)
        return
    pairs = node  # list of (key, value)
    if not pairs:
        out.append(f"{lead} {{}}" if lead else f"{pad}{{}}")
        return
    if lead:
        out.append(lead)
    for key, value in pairs:
        _render(value, indent + 2, out, f"{pad}{key}:", compact_seq)


def _yaml(docs: list[object], compact_seq: bool, comments: bool, marker: bool) -> str:
    out: list[str] = []
    for i, doc in enumerate(docs):
        if i or marker:
            out.append("---")
        if comments:
            out.append("# generated")
        _render(doc, 0, out, "", compact_seq)
    return "\n".join(out) + "\n"


def _same(text: str) -> bool:
    """Assert the fast path agrees with the loader on ``text``; True when it took the text."""
    fast = yamlfast.load_documents(text)
    try:
        slow = [(data, pos) for data, pos in yamlsrc.load_documents(text) if data is not None]
    except yamlsrc.YamlProblem as exc:
        assert fast is None, f"the fast path read text PyYAML refuses ({exc.code}: {exc.message}):\n{text}"
        return False
    if fast is None:
        return False
    assert fast == slow and repr(fast) == repr(slow), f"fast {fast!r}\nslow {slow!r}\n{text}"  # repr: True is not 1
    return True


def test_the_native_parser_is_installed() -> None:
    """rapidyaml is a dependency: the fast path is on (the tests below would prove nothing without it)."""
    assert yamlfast.available()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(trees, min_size=1, max_size=3), st.booleans(), st.booleans(), st.booleans())
def test_generated_documents_agree(docs: list[object], compact_seq: bool, comments: bool, marker: bool) -> None:
    _same(_yaml(docs, compact_seq, comments, marker))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(trees, min_size=1, max_size=2), st.booleans(), st.data())
def test_damaged_documents_agree(docs: list[object], compact_seq: bool, data: st.DataObject) -> None:
    """Random edits (a character in or out): either both read the same values, or the fast path steps aside."""
    text = _yaml(docs, compact_seq, False, False)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        if data.draw(st.booleans()) and at < len(text):
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + data.draw(st.sampled_from(list(" \n:-#'\"[]{}x0.,?&*!|>"))) + text[at:]
    _same(text)


@pytest.mark.parametrize(
    "text",
    [
        "true':\n  - #c\n  - 'R&D'  - a\n",  # found by the test above: rapidyaml read on after the quote
        "k: 'a'x\n",
        "- \"a\" b\n",
    ],
)
def test_text_after_a_closing_quote_takes_pyyaml_s_path(text: str) -> None:
    """PyYAML refuses these; the fast path must step aside, not read values out of them."""
    assert yamlfast.load_documents(text) is None
    with pytest.raises(yamlsrc.YamlProblem):
        list(yamlsrc.load_documents(text))


@pytest.mark.parametrize(
    "text",
    [
        "a: yes\n", "a: 'yes'\n", "a: ~\n", "a: 010\n", "a: -.5\n", "a: 12:30\n", "a: 2024-01-02\n", "1: x\n", "a: x\na: y\n",
        "a: &x 1\nb: *x\n", "<<: {a: 1}\n", "a: \"line\n  wrapped\"\n", "a: b\n\n  c\n", "a:\n- b\n- c\n", "a:\n  - b\n",
        "---\na: 1\n---\n---\nb: 2\n", "# only a comment\n", "", "a: b # c\n", "a: \"x\"\n", "a: 'it''s'\n", "a: []\nb: {}\n",
        "k" * 1100 + ": v\n", "a: 1\n...\n", "a: !!str 5\n", "a: |\n  x\n", "a:\tb\n", "a: b\r\nc: d\r\n", "- - a\n  - b\n- c\n",
        "a:\n  b:\n    c: true\n  d: null\n  e:\n", "  a: 1\n b: 2\n", "a: b: c\n", "a: é\n", "a: 5 apples\n", "a: 7\nb: -3\n",
    ],
)
def test_edge_cases_agree(text: str) -> None:
    _same(text)


def test_every_repository_manifest_agrees() -> None:
    """Every YAML file under examples/ and tests/ (valid or not): the same values, or the usual path."""
    files = [p for top in ("examples", "tests") for p in sorted((ROOT / top).rglob("*.y*ml"))]
    assert files
    for path in files:
        try:
            text = yamlsrc.decode_text(path.read_bytes())
        except yamlsrc.YamlProblem:
            continue
        _same(text)


MANIFEST = """\
apiVersion: accessops/v1
kind: Organization
metadata:
  name: acme
spec:
  profile: union
  seats: 10
  members:
  - email: ana@acme.test
    role: Owner
  - email: bo@acme.test
    role: Member
    colour: blue
"""


def test_the_fast_path_takes_plain_manifests() -> None:
    """A plain block-style manifest goes through the native parser (else the speed-up is gone unnoticed)."""
    docs = yamlfast.load_documents(MANIFEST)
    assert docs is not None and docs == [(yamlsrc.load_documents(MANIFEST)[0][0], yamlsrc.Pos(1, 1))]


def test_errors_in_a_fast_parsed_file_keep_their_line(tmp_path: Path) -> None:
    """A schema error in a file the native parser read still points at its line and column."""
    path = tmp_path / "org.yaml"
    path.write_text(MANIFEST)
    with pytest.raises(ManifestError) as err:
        loader.load([tmp_path], cache=False)
    problem = next(p for p in err.value.problems if "colour" in p.message)
    assert (problem.line, problem.column) == (13, 5)


def test_a_duplicate_key_is_reported_at_its_line(tmp_path: Path) -> None:
    """The fast path refuses a duplicate key; the loader reports it where it is."""
    path = tmp_path / "org.yaml"
    path.write_text(MANIFEST + "  seats: 11\n")
    with pytest.raises(ManifestError) as err:
        loader.load([tmp_path], cache=False)
    assert [(p.code, p.line) for p in err.value.problems] == [("yaml.duplicate-key", 14)]


def test_without_the_native_parser_the_loader_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback: no rapidyaml (or ACCESSOPS_NATIVE_YAML=off), the same model."""
    (tmp_path / "org.yaml").write_text(MANIFEST.replace("    colour: blue\n", ""))
    fast = loader.load([tmp_path], cache=False)
    monkeypatch.setattr(yamlfast, "_ryml", None)
    assert not yamlfast.available()
    slow = loader.load([tmp_path], cache=False)
    assert fast.organizations["acme"].doc == slow.organizations["acme"].doc
    monkeypatch.undo()
    monkeypatch.setenv("ACCESSOPS_NATIVE_YAML", "off")
    assert not yamlfast.available()


def test_a_fast_parsed_file_is_cached_as_the_same_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse cache keeps the native parser's JSON as is: reading the entry back gives the same documents."""
    from accessops.manifest import parse_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    monkeypatch.setenv("ACCESSOPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("ACCESSOPS_PARSE_CACHE", raising=False)
    text = MANIFEST.replace("    colour: blue\n", "") + "---\n" + MANIFEST.replace("acme", "beta").replace("    colour: blue\n", "")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "orgs.yaml").write_text(text)
    cache = parse_cache.ParseCache.open_default()
    assert cache is not None
    cold = loader.load([tmp_path / "m"], cache=cache)
    entry = cache.get(parse_cache.digest(text))
    assert entry is not None and entry == yamlfast.load_documents(text)
    warm = loader.load([tmp_path / "m"], cache=cache)
    assert cache.hits == 2 and warm.organizations.keys() == cold.organizations.keys() == {"acme", "beta"}
    assert [o.doc for o in warm.organizations.values()] == [o.doc for o in cold.organizations.values()]


def test_deep_nesting_steps_aside() -> None:
    """Nesting deeper than json.loads goes: the fast path steps aside and the loader reports it."""
    text = "".join(" " * depth + f"k{depth}:\n" for depth in range(999)) + " " * 999 + "v\n"
    assert yamlfast.load_documents(text) is None
    _same(text)
