"""The empty-target guard: a live read that finds nothing accessops applied is a wrong URL, not a clean slate.

A wrong base path (``directus+http://HOST/api``), a tenant file that moved
or a proxy that answers for another service can read as an empty system,
and the plan would then propose creating everything again. When the state
says objects were applied to this target and the live read finds none of
them, the plan is refused (exit 3) before anything else is worked out.
"""

from __future__ import annotations

from collections.abc import Collection

from accessops.errors import Refusal, RefusedError
from accessops.model.resource import ResourceMap


def check_not_empty(live: ResourceMap, last_applied: ResourceMap, target: str, orgs: Collection[str] | None = None) -> None:
    """Refuse when ``last_applied`` names objects on ``target`` and ``live`` holds none of them.

    Only objects of ``orgs`` (the organizations the manifests name) count:
    the live read covers only those.
    """
    if orgs is not None:
        wanted = set(orgs)
        for addr in live:  # the usual answer, found at once: some object applied to these organizations is live
            applied = last_applied.get(addr)
            if applied is not None and applied.org in wanted:
                return
        last_applied = {a: r for a, r in last_applied.items() if r.org in wanted}
    if not last_applied or not live.keys().isdisjoint(last_applied.keys()):
        return
    message = (
        f"target looks empty: wrong URL? the state records {len(last_applied)} object(s) applied to {target}, "
        "and the live read finds none of them (if it really was emptied, plan with a fresh state: --state NEW.db)"
    )
    raise RefusedError([Refusal("empty-target", message, "--state NEW.db")])
