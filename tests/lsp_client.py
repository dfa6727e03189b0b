"""A minimal Language Server Protocol client over stdio, for driving real editor engines in tests.

JSON-RPC 2.0 messages framed by ``Content-Length`` headers. Requests the
server sends to the client (``workspace/configuration``,
``client/registerCapability``, ...) are answered so the server never waits;
notifications are kept for :meth:`LspClient.wait_notification`.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from typing import Any, BinaryIO

TIMEOUT = 60.0  # seconds; a server that answers nothing in this time is broken, not slow


class LspClient:
    """One running language server and the messages it sent."""

    def __init__(self, command: list[str], settings: dict[str, Any]) -> None:
        self.settings = settings
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.proc.stdin and self.proc.stdout
        self._out: BinaryIO = self.proc.stdin
        self._next_id = 0
        self._responses: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._notifications: queue.Queue[dict[str, Any]] = queue.Queue()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_loop, args=(self.proc.stdout,), daemon=True)
        self._reader.start()

    # --- framing ---------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        with self._lock:
            self._out.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._out.flush()

    def _read_loop(self, stream: BinaryIO) -> None:
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert length is not None, "LSP message without Content-Length"
            message = json.loads(stream.read(length))
            if "id" in message and "method" in message:
                self._answer(message)
            elif "id" in message:
                self._responses.setdefault(message["id"], queue.Queue()).put(message)
            else:
                self._notifications.put(message)

    def _answer(self, request: dict[str, Any]) -> None:
        """Reply to a server-to-client request."""
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [self.settings.get(item.get("section", ""), None) for item in request["params"]["items"]]
        self._send({"id": request["id"], "result": result})

    # --- protocol ----------------------------------------------------------------

    def request(self, method: str, params: dict[str, Any]) -> Any:
        """Send a request and wait for its result; an LSP error fails the test."""
        self._next_id += 1
        rid = self._next_id
        box = self._responses.setdefault(rid, queue.Queue())
        self._send({"id": rid, "method": method, "params": params})
        reply = box.get(timeout=TIMEOUT)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply.get("result")

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification."""
        self._send({"method": method, "params": params})

    def wait_notification(self, method: str, match: Any = None) -> dict[str, Any]:
        """The next notification ``method`` (whose params satisfy ``match``, if given)."""
        while True:
            note = self._notifications.get(timeout=TIMEOUT)
            if note["method"] == method and (match is None or match(note["params"])):
                params: dict[str, Any] = note["params"]
                return params

    def close(self) -> None:
        """shutdown, exit, and make sure the process is gone."""
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
