"""A real webhook receiver: an http.server on a loopback port, in a thread. It verifies every
request with the stock Standard Webhooks verifier, answers `fail_first` requests with 500 (or
every request with `status`), and keeps what it accepted. Every verified body is also checked
against the published schema's models (`invalid` lists those that did not fit; the fixture
fails the test on any)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook

from storefront.webhook_payloads import validate_body


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]


@dataclass
class Receiver:
    secret: str = ""
    fail_first: int = 0
    status: int = 200  # the answer once the failures are spent
    slow_first: float = 0.0  # seconds the first request waits before its answer (after it was accepted)
    requests: int = 0
    bad_signatures: int = 0
    accepted: list[Received] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)  # bodies that do not fit their type's model
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks?source=shop"

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        code = self._handle(headers, body)
        if self.slow_first and self.requests == 1:
            time.sleep(self.slow_first)
        return code

    def _handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests += 1
            try:
                payload = Webhook(self.secret).verify(body, headers)
            except Exception:
                self.bad_signatures += 1
                return 400
            try:
                validate_body(body)
            except ValidationError as exc:
                self.invalid.append(f"{payload.get('type')}: {exc}")
            if self.requests <= self.fail_first:
                return 500
            if 200 <= self.status < 300:
                self.accepted.append(Received(headers["webhook-id"], payload))
            return self.status

    def start(self, port: int = 0) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                code = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
                answer = json.dumps({"status": code}).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def go_away(self) -> int:
        """Stop listening (connections are refused); the port, to come back on."""
        assert self.server is not None
        port = self.server.server_address[1]
        self.stop()
        return port

    def types(self, order_id: str | None = None) -> list[str]:
        with self.lock:
            return [r.body["type"] for r in self.accepted
                    if order_id is None or r.body["data"].get("order_id") == order_id]
