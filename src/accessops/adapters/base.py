"""The adapter protocol every target implements, local, SCIM and Directus alike.

An adapter reads the live system into resources and applies one change at a
time, or (``apply_batch``, for adapters that batch) a run of independent
changes at once with one outcome per change; the planner and applier never
touch the live system otherwise. It
declares the resource types it supports, and validation refuses manifests
that need more.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from accessops.model.resource import ResourceMap
from accessops.plan.change import Change
from accessops.secrets import redact_url, refuse_credentials_in_url


@dataclass(frozen=True)
class Target:
    """A parsed target URL: ``local:path``, ``scim+https://host/base``, ``directus+http://host``."""

    url: str
    scheme: str
    location: str  # the URL without the adapter scheme prefix
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str, **options: Any) -> "Target":
        """Split ``url`` into its adapter scheme and location.

        A URL that carries a credential (user info, a ``?token=``-like
        parameter) is refused here, before anything can print or store it.
        """
        scheme, sep, rest = url.partition(":")
        refuse_credentials_in_url(url, scheme.partition("+")[0] or "target")
        if not sep or not scheme:
            raise ValueError(f"target {url!r} has no scheme (expected e.g. local:path/to/tenant.db)")
        if "+" in scheme:
            adapter, _, transport = scheme.partition("+")
            return cls(url, adapter, f"{transport}:{rest}", options)
        return cls(url, scheme, rest, options)

    def http_location(self) -> str:
        """The location as an http(s) URL, or a one-line error naming the spelling to use.

        ``scim://host/v2`` names no transport; requests would fail with
        InvalidSchema deep inside the first read.
        """
        if self.location.startswith(("http://", "https://")) and len(self.location.split("://", 1)[1]) > 0:
            return self.location
        rest = self.location.split("//", 1)[-1] if "//" in self.location else self.location
        raise ValueError(
            f"target {self.url}: the {self.scheme} adapter needs an http(s) URL after its scheme: "
            f"write {self.scheme}+https://{rest} (or {self.scheme}+http://{rest} for a server without TLS)"
        )

    def __str__(self) -> str:
        return redact_url(self.url)  # what messages show: never user info


class ItemGoneError(Exception):
    """The object of one change vanished meanwhile (a 404); unrelated changes may go on."""


class Adapter(ABC):
    """Reads a live system into resources and applies one change at a time."""

    scheme: ClassVar[str]
    #: The status a member this adapter creates has: ``invited`` (they must
    #: accept, seeds 001/003) or ``active`` (provisioned, as SCIM does).
    new_member_status: ClassVar[str] = "invited"
    #: resource type -> the attributes it can read and write; validation
    #: refuses manifests that need a type or attribute not listed here
    supports: ClassVar[dict[str, frozenset[str]]]

    #: whether :meth:`apply` may be called from several threads at once for
    #: independent changes (``apply --parallelism``); off unless an adapter says so
    parallel_writes: ClassVar[bool] = False
    #: whether :meth:`apply_batch` makes a run of changes in fewer requests than
    #: one per change; the applier then hands it each run of consecutive
    #: changes of one phase and resource type
    batch_writes: ClassVar[bool] = False
    #: at most this many changes per :meth:`apply_batch` call (None: a whole
    #: run); the applier records each batch's outcomes before it sends the next
    batch_limit: ClassVar[int | None] = None

    def __init__(self, target: Target) -> None:
        self.target = target
        #: number of writes made through :meth:`apply`, for ``-v`` and the bench
        self.writes = 0
        #: number of requests (or queries) made, for ``-v``
        self.requests = 0

    @abstractmethod
    def read(self, orgs: Sequence[str]) -> ResourceMap:
        """Every live resource of the named organizations, keyed by address."""

    @abstractmethod
    def apply(self, change: Change) -> None:
        """Make one change live, atomically. Raise on failure; nothing half-done."""

    def writes_in_batches(self) -> bool:
        """Whether the applier should hand this adapter whole runs (:attr:`batch_writes`, or what the server advertises)."""
        return self.batch_writes

    def apply_batch(self, changes: Sequence[Change]) -> list[BaseException | None]:
        """Make a run of independent changes (one phase, one resource type) live; one outcome per change attempted.

        Entry ``i`` is None when ``changes[i]`` was made, else the exception it
        failed with (:class:`ItemGoneError`: its object vanished, the run goes
        on). The list may stop short after a failure: the changes past its end
        were not attempted. A change reported ok is live; a failed one left
        nothing half-done. This default applies one change at a time.
        """
        outcomes: list[BaseException | None] = []
        for change in changes:
            try:
                self.apply(change)
            except ItemGoneError as exc:
                outcomes.append(exc)
                continue
            except Exception as exc:
                outcomes.append(exc)
                break
            outcomes.append(None)
        return outcomes

    def identity(self) -> str | None:
        """The member email the apply runs as, if the target has one (never removed or demoted)."""
        return None

    def organizations(self) -> list[str]:
        """Names of organizations the target holds (for ``export``)."""
        return []

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> "Adapter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
