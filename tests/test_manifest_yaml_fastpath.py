"""The direct construction of anchor-free documents builds what PyYAML's constructor builds."""

from __future__ import annotations

import datetime

import pytest

from accessops.manifest.yamlsrc import LocatedDict, LocatedList, YamlProblem, _construct_plain, _LocatingLoader, load_documents

TEXTS = [
    "a: 1\nb: [x, 2.5, true, null, ~, 2024-01-02]\nc: {d: 'e', f: [ {g: h} ]}\n",
    "---\nkind: Organization\nspec:\n  members:\n    - email: ada@acme.test\n      role: Owner\n      global_admin: yes\n---\n- 0x1f\n- 1_000\n- .inf\n",
    "<<: {a: 1, b: 2}\nb: 3\n",
    "when: 2024-01-02T03:04:05Z\nbin: !!binary aGVsbG8=\nempty:\nlist: []\n",
]


def _both(text: str) -> tuple[list[object], list[object]]:
    direct, generic = [], []
    for out, fast in ((direct, True), (generic, False)):
        loader = _LocatingLoader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                out.append(_construct_plain(loader, node) if fast else loader.construct_document(node))
        except YamlProblem as exc:  # both refuse the same way (a merged key given again is a duplicate)
            out.append(("problem", exc.code, exc.message))
        finally:
            loader.dispose()
    return direct, generic


@pytest.mark.parametrize("text", TEXTS)
def test_same_data_and_container_types(text: str) -> None:
    direct, generic = _both(text)
    assert direct == generic

    def shape(value: object) -> object:
        if isinstance(value, dict):
            return (type(value).__name__, {k: shape(v) for k, v in value.items()})
        if isinstance(value, list):
            return (type(value).__name__, [shape(v) for v in value])
        return type(value).__name__

    assert [shape(d) for d in direct] == [shape(g) for g in generic]


def test_positions_and_scalars() -> None:
    (data, start), = load_documents("a: 1\nb:\n  - x\n  - 2024-01-02\n")
    assert isinstance(data, LocatedDict) and isinstance(data["b"], LocatedList)
    assert data.key_pos["b"].line == 2 and data["b"].item_pos[1].line == 4
    assert data["b"][1] == datetime.date(2024, 1, 2) and data["a"] == 1 and start.line == 1


def test_duplicate_keys_and_unknown_tags_are_still_problems() -> None:
    with pytest.raises(YamlProblem, match="duplicate key 'a' \\(first at line 1\\)"):
        load_documents("a: 1\nb: 2\na: 3\n")
    with pytest.raises(YamlProblem) as exc:
        load_documents("a: !python/object x\n")
    assert exc.value.code == "yaml.syntax"


SCALARS = (
    "a: 1\nb: 1.5\nc: true\nd: yes\ne: null\nf: ~\ng: 2024-01-02\nh: '1'\ni: None\nj: 0x1F\nk: -.inf\n"
    "m: 1_000\nn: 2001-12-14t21:59:43.10-05:00\no: Off\np: ''\nq:\nr: [1, x, on]\ns: {t: 0o17}\nu: +1\nv: 1e3\nw: View only\n"
)


@pytest.mark.parametrize("text", [SCALARS, *(t for t in TEXTS if "<<" not in t)])  # a key given again after a merge is refused here, on purpose
def test_every_scalar_resolves_as_stock_pyyaml_does(text: str) -> None:
    """The loader's lean resolver gives every plain scalar the tag PyYAML's would."""
    import yaml

    stock = [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    ours = [d for d, _ in load_documents(text)]
    assert ours == stock


    def scalar_types(value: object) -> list[type]:  # containers are located subclasses on purpose
        if isinstance(value, dict):
            return [t for v in value.values() for t in scalar_types(v)]
        if isinstance(value, list):
            return [t for v in value for t in scalar_types(v)]
        return [type(value)]

    assert scalar_types(ours) == scalar_types(stock)
