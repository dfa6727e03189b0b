"""The size budget of the Markdown comment: who gets how many of the 60,000 characters.

GitHub refuses comments over 65,535 characters, so the comment must fit
``limit`` whatever the plan and whatever the template. Rendering the template
is the slow part (a 10k-member plan has millions of values to escape), so the
budget is planned on measured sizes and verified with as few real renders as
possible:

1. every entry of every cut section (changes, drift, access delta, warnings)
   gets a **cost**: the characters the shipped template prints for it,
   computed once from text the context already holds;
2. the template is rendered once with every cut section empty: its **fixed**
   text (header, counts table, policy, footer);
3. if fixed + every cost fits, everything is rendered; otherwise the room
   left is **shared** between the sections by weight (changes first), a
   section that needs less than its share gives the rest back, and each
   section keeps the longest prefix of entries that fits its share. The
   access delta is summarised per member first when it does not fit whole;
4. the result is rendered for real and measured. A team's template prints
   entries its own way, so if the real text is over the limit (or far under
   it while entries were cut), each section's real size is measured (the
   same selection rendered without it), the costs are scaled by those
   ratios, and the cut is planned and rendered once more; if nothing fits
   yet, the text is hard-cut at a line boundary with open fences and
   ``<details>`` closed.

The shipped template takes two renders (the fixed text, then the cut plan);
a team's template at most six more, each of a selection sized to the limit,
whatever the size of the plan.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from itertools import accumulate
from typing import Any

# Shares of the room when every section wants more than it can have: the
# changes (what apply will do) first, then drift and who gains what, then warnings.
WEIGHTS = {"changes": 5, "drift": 3, "access_delta": 3, "warnings": 1}
SECTION_COST = 120  # a section's own heading and blank lines, when it has any entry
SLACK = 0.01  # of the limit: estimates are close, not exact
Selection = dict[str, int]  # section -> how many of its entries are shown
Costs = Callable[[bool], dict[str, list[int]]]  # summarised? -> each section's entry costs
CostsFor = Callable[[bool, int], dict[str, list[int]]]  # the same, exact up to a bound


class Entry(dict[str, Any]):
    """A context entry whose costly text (a change's ``diff``, a member's ``text``) is made when first read.

    The budget reads it for the entries it may show, a template for the ones
    it prints; the 35,000 changes past the limit of a 10k-member plan never
    have their diff made.
    """

    __slots__ = ("_make",)

    def __init__(self, data: dict[str, Any], make: dict[str, Callable[[], Any]]) -> None:
        super().__init__(data)
        self._make = make

    def __missing__(self, key: str) -> Any:
        if key not in self._make:
            raise KeyError(key)
        value = self[key] = self._make.pop(key)()
        return value

    def get(self, key: str, default: Any = None) -> Any:
        """``entry.get("diff")`` makes it too, as ``entry["diff"]`` and a template's ``entry.diff`` do."""
        return self[key] if key in self or key in self._make else default

    def ready(self, key: str) -> bool:
        """Whether ``key`` is made already (reading it would make it)."""
        return dict.__contains__(self, key)


def bounded(entries: Sequence[dict[str, Any]], cost: Callable[[dict[str, Any]], int],
            floor: Callable[[dict[str, Any]], int], bound: int) -> list[int]:
    """``cost`` of each entry until their sum passes ``bound``, then the cheap ``floor``: no prefix past it can fit."""
    out = []
    total = 0
    for entry in entries:
        c = cost(entry) if total <= bound or not isinstance(entry, Entry) else floor(entry)
        total += c
        out.append(c)
    return out


def shares(needs: Mapping[str, int], room: int, weights: Mapping[str, int] = WEIGHTS) -> dict[str, int]:
    """Characters per section: by weight, and what a section does not need goes to the others."""
    alloc = {name: 0 for name in needs}
    wanting = {name for name, need in needs.items() if need > 0}
    left = max(0, room)
    while wanting:
        total = sum(weights.get(n, 1) for n in wanting)
        content = [n for n in wanting if needs[n] <= left * weights.get(n, 1) // total]
        if not content:
            for n in wanting:
                alloc[n] = left * weights.get(n, 1) // total
            break
        for n in content:
            alloc[n] = needs[n]
            left -= needs[n]
            wanting.discard(n)
    return alloc


def prefixes(costs: Mapping[str, Sequence[int]], room: int) -> Selection:
    """How many leading entries of each section fit when the sections share ``room``."""
    sums = {name: list(accumulate(c)) for name, c in costs.items()}
    needs = {name: (s[-1] + SECTION_COST if s else 0) for name, s in sums.items()}
    alloc = shares(needs, room)
    return {name: bisect_right(sums[name], alloc[name] - SECTION_COST) if sums[name] else 0 for name in costs}


def fit(
    render_at: Callable[[Selection | None], str],
    costs_for: CostsFor,
    limit: int,
    hard_cut: Callable[[str], str],
    note_room: int = 200,
) -> str:
    """The fullest rendering under ``limit`` (see the module docstring).

    ``render_at(None)`` renders everything; ``render_at(selection)`` the first
    ``selection[name]`` entries of each section. ``costs_for(summarised, bound)``
    is every entry's estimated size (exact until a section passes ``bound``
    characters, a cheap floor after), with the large access-delta entries
    summarised when ``summarised`` is true (the selection then carries
    ``summarise=1``). ``note_room``: the longest cut note the template may print.
    """
    exact = partial(_exact_to, costs_for, limit)
    costs = exact(False)
    empty: Selection = {name: 0 for name in costs}
    fixed_text = render_at(empty)
    fixed = len(fixed_text)
    if fixed > limit:  # a template with more fixed text than the limit: no entry can be shown
        return hard_cut(fixed_text)
    total = sum(sum(c) + (SECTION_COST if c else 0) for c in costs.values())
    if fixed + total <= limit:
        text = render_at(None)
        if len(text) <= limit:
            return text
    room = limit - fixed - int(limit * SLACK) - note_room
    selection = choose(exact, room)
    text = render_at(selection)
    if len(text) <= limit and (len(text) >= limit * 0.8 or selection == everything(costs, selection)):
        return text
    # A team's template prints entries its own way: measure what each section really
    # takes in this rendering (one render without it), and plan again with those ratios.
    ratio = {}
    for name in costs:
        if selection.get(name):
            real = len(text) - len(render_at(dict(selection, **{name: 0})))
            ratio[name] = max(real, 1) / max(estimate(exact, selection, name), 1)
    bound = int(limit / max(min(ratio.values(), default=1.0), 0.05))  # exact costs as far as the new ratios may reach
    second = choose(scaled(partial(_exact_to, costs_for, bound), ratio), room)
    retry = render_at(second) if second != selection else text
    fits = [t for t in (text, retry) if len(t) <= limit]
    if fits:
        return max(fits, key=len)
    return hard_cut(min(text, retry, key=len))  # the last resort: cut at a line boundary


def _exact_to(costs_for: CostsFor, bound: int, summarise: bool) -> dict[str, list[int]]:
    return costs_for(summarise, bound)


def choose(costs_for: Costs, room: int) -> Selection:
    """The selection for ``room``: whole sections where they fit, the access delta summarised when it does not."""
    costs = costs_for(False)
    selection = prefixes(costs, room)
    delta = costs.get("access_delta") or []
    if selection.get("access_delta", 0) < len(delta):
        summarised = costs_for(True)
        if summarised["access_delta"] != delta:
            selection = prefixes(summarised, room)
            selection["summarise"] = 1
    return selection


def scaled(costs_for: Costs, ratio: Mapping[str, float]) -> Costs:
    """``costs_for`` with each section's costs multiplied by its measured ratio."""
    def costs(summarise: bool) -> dict[str, list[int]]:
        return {name: [math.ceil(c * ratio.get(name, 1.0)) for c in cs] for name, cs in costs_for(summarise).items()}
    return costs


def everything(costs: dict[str, list[int]], selection: Selection) -> Selection:
    """The selection that shows every entry (in the form ``selection`` uses)."""
    return {name: len(c) for name, c in costs.items()} | ({"summarise": 1} if "summarise" in selection else {})


def estimate(costs_for: Costs, selection: Selection, name: str) -> int:
    """Estimated characters of section ``name`` in ``selection``."""
    shown = selection.get(name, 0)
    return sum(costs_for("summarise" in selection)[name][:shown]) + (SECTION_COST if shown else 0)


def hard_cut(text: str, limit: int, note: str) -> str:
    """Cut at a line boundary, close what the cut left open, and say so with ``note``."""
    room = max(0, limit - len(note) - 64)  # 64: closing fences and tags
    head = text[:room]
    head = head[: head.rfind("\n") + 1] if "\n" in head else ""
    closers = []
    if sum(1 for line in head.splitlines() if line.lstrip().startswith("```")) % 2:
        closers.append("```")
    closers += ["</details>"] * max(0, head.count("<details") - head.count("</details>"))
    return (head + "\n".join(closers) + ("\n" if closers else "") + "\n" + note + "\n")[:limit]
