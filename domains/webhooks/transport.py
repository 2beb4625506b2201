"""One outbound POST, refusing to reach the shop's own network.

Only http(s) URLs. The host is resolved once, every address it resolves to is checked, and
the connection goes to the address that was checked (not resolved again, so a DNS answer
cannot change between the check and the connect). Loopback, link-local, private, multicast,
reserved and unspecified addresses are refused unless `COMMERCE_WEBHOOKS_ALLOW_PRIVATE=1`.
Redirects are not followed."""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

EXCERPT_CHARS = 500


class AddressRefused(Exception):
    """The URL is not http(s), or its host resolves to an address the shop may not reach."""


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str
    latency_ms: int


def allow_private() -> bool:
    return os.environ.get("COMMERCE_WEBHOOKS_ALLOW_PRIVATE", "0").strip() == "1"


def refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_link_local or ip.is_private or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified)


def private_host(host: str) -> bool:
    """A host written as a refused address, or `localhost` (names are checked when resolved)."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return refused(name)
    except ValueError:
        return False  # a name, not an address


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an http(s) URL; AddressRefused otherwise."""
    try:
        parts = urlsplit(url)
        hostname, port = parts.hostname, parts.port
    except ValueError as exc:
        raise AddressRefused(f"not a URL: {url[:200]!r}") from exc
    if parts.scheme not in ("http", "https") or not hostname or any(c.isspace() for c in url):
        raise AddressRefused(f"only http(s) URLs with a host: {url[:200]!r}")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, hostname, port, path


def resolve(host: str, port: int, *, private_ok: bool) -> tuple[int, tuple[str, int]]:
    """The first address of `host`, after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from exc
    if not private_ok:
        bad = sorted({str(info[4][0]) for info in infos if refused(str(info[4][0]))})
        if bad:
            raise AddressRefused(f"{host} resolves to an address the shop does not call: {', '.join(bad)}")
    family, _, _, _, sockaddr = infos[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: tuple[str, int], timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection(self._address, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: tuple[str, int], timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection(self._address, self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float,
         private_ok: bool | None = None) -> Response:
    """POST `body`; the answer's status and the start of its body. Raises AddressRefused, or
    OSError / http.client.HTTPException when the endpoint cannot be reached."""
    scheme, host, port, path = check_url(url)
    if not (allow_private() if private_ok is None else private_ok) and private_host(host):
        raise AddressRefused(f"{host} is an address the shop does not call")
    _, address = resolve(host, port, private_ok=allow_private() if private_ok is None else private_ok)
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    connection = kind(host, port, address, timeout)
    started = time.monotonic()
    try:
        connection.request("POST", path, body=body, headers={
            "content-type": "application/json", "user-agent": "commerce-webhooks/1", **headers})
        answer = connection.getresponse()
        excerpt = answer.read(EXCERPT_CHARS * 4).decode("utf-8", errors="replace")[:EXCERPT_CHARS]
        return Response(answer.status, excerpt, int((time.monotonic() - started) * 1000))
    finally:
        connection.close()
