"""Crash consistency: settle the intents a killed apply left, by what live shows.

An apply records its changes as intents before it touches the target, and
confirms each one when it logs its outcome. A ``kill -9`` (or a lost
network) between the target's commit and the state write leaves an intent
unconfirmed. The next run settles it: a change that live shows took effect
is recorded as applied (logged ``ok``), one that did not is logged ``not
attempted``. A plan settles in memory only; an apply, under the lock,
writes the outcome.
"""

from __future__ import annotations

from accessops.apply.records import Intent, Outcome, applied_after
from accessops.apply.store import StateStore
from accessops.model.resource import ResourceMap
from accessops.plan.change import Action, Change

CONFIRMED = "confirmed from live after its run was interrupted"
NOT_SEEN = "not seen live after its run was interrupted"


def took_effect(change: Change, live: ResourceMap) -> bool:
    """Whether live shows ``change`` made: gone for a delete, else every attribute it sets."""
    now = live.get(change.address)
    if change.action is Action.DELETE:
        return now is None
    if now is None:
        return False
    wanted = applied_after(change, None)
    assert wanted is not None
    return all(now.attrs.get(k) == v for k, v in wanted.attrs.items())


def settled(applied: ResourceMap, intents: list[Intent], live: ResourceMap) -> tuple[ResourceMap, list[tuple[Intent, bool]]]:
    """The last-applied state with every intent that took effect folded in, and each intent's verdict."""
    out = dict(applied)
    verdicts = []
    for intent in intents:
        change = intent.change
        took = took_effect(change, live) if change.action is not Action.NOOP else False
        if took:
            prev = out.get(change.address)
            res = applied_after(change, prev.attrs if prev else None)
            if res is None:
                out.pop(change.address, None)
            else:
                out[change.address] = res
        verdicts.append((intent, took))
    return out, verdicts


def last_applied_view(store: StateStore, target: str, live: ResourceMap) -> ResourceMap:
    """Last applied as a plan should judge drift by: unconfirmed intents settled in memory."""
    intents = store.intents(target)
    applied = store.last_applied(target)
    return settled(applied, intents, live)[0] if intents else applied


def reconcile(store: StateStore, target: str, live: ResourceMap) -> int:
    """Under the lock: mark dead runs interrupted and write each unconfirmed intent's outcome; return how many."""
    store.mark_interrupted(target)
    intents = store.intents(target)
    if not intents:
        return 0
    _, verdicts = settled(store.last_applied(target), intents, live)
    by_run: dict[int, list[Outcome]] = {}
    for intent, took in verdicts:
        by_run.setdefault(intent.run_id, []).append(Outcome(intent.seq, intent.change, "ok" if took else "not attempted", CONFIRMED if took else NOT_SEEN))
    for run_id, outcomes in by_run.items():  # each interrupted run's outcomes in one transaction
        store.record_changes(run_id, outcomes, applied_to=target)
    store.flush(f"reconcile {len(verdicts)} unconfirmed change(s) of interrupted run(s)")
    return len(verdicts)
