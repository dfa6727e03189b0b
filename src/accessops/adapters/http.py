"""HTTP hygiene shared by the SCIM and Directus adapters.

One ``requests.Session`` per adapter, with pooling and timeouts; retries with
exponential backoff on 429 and 5xx that honour ``Retry-After``; a one-line
:class:`TargetError` for connection failures and bad credentials; tokens are
never put in messages.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from accessops.errors import TargetError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def retry_after_seconds(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


class HttpClient:
    """A pooled session that retries politely and fails in one line."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        name: str,
        timeout: float = 15.0,
        retries: int = 4,
        backoff: float = 0.5,
        max_wait: float = 30.0,
        pool: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests = 0  # every HTTP request sent, retries included
        self._count_lock = threading.Lock()  # writes may come from several threads
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
        self.session.mount("https://", HTTPAdapter(pool_connections=pool, pool_maxsize=pool))
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201, 204), **kwargs: Any) -> requests.Response:
        """Send a request, retrying 429/5xx with backoff; raise TargetError on failure.

        A status outside ``expect`` (and not retried) is returned to the
        caller only when it is 404 or 412; any other raises.
        """
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        kwargs.setdefault("timeout", self.timeout)
        attempt = 0
        while True:
            attempt += 1
            with self._count_lock:
                self.requests += 1
            try:
                resp = self.session.request(method, url, **kwargs)
            except requests.ConnectionError:
                raise TargetError(f"{self.name}: cannot connect to {self.base_url}") from None
            except requests.Timeout:
                raise TargetError(f"{self.name}: {method} {path} timed out after {self.timeout:g}s") from None
            if resp.status_code in RETRY_STATUSES and attempt <= self.retries:
                wait = retry_after_seconds(resp.headers.get("Retry-After"), self.backoff * 2 ** (attempt - 1))
                self.sleep(min(wait, self.max_wait))
                continue
            if resp.status_code in expect or resp.status_code in (404, 412):
                return resp
            if resp.status_code in (401, 403):
                raise TargetError(f"{self.name}: {method} {path}: HTTP {resp.status_code}: credentials refused (check the token)")
            tries = f" after {attempt} attempts" if attempt > 1 else ""
            raise TargetError(f"{self.name}: {method} {path}: HTTP {resp.status_code}{tries}: {_brief(resp)}")

    def close(self) -> None:
        """Close pooled connections."""
        self.session.close()


def _brief(resp: requests.Response) -> str:
    text = resp.text.strip().replace("\n", " ")
    return text[:200] if text else resp.reason or ""
