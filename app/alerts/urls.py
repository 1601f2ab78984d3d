"""Webhook URLs: only http(s), and (unless an admin allows it) never to an address inside the network.

The check runs on the addresses the host name resolves to, when the lead saves the URL and again at
every delivery; the delivery then connects to the very address it checked (no second lookup a DNS
answer could change in between), and follows no redirect.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import DomainError

MAX_URL = 2000


class WebhookUrlRefused(DomainError):
    """422 naming the field."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: str  # the checked IP to connect to


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast
            or ip.is_unspecified)


def resolve(url: str, *, allow_private: bool) -> Target:
    """The URL's target, checked; WebhookUrlRefused (naming webhook_url) when it may not be called."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise WebhookUrlRefused(f"webhook_url: at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(f"webhook_url: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlRefused("webhook_url: must be an http:// or https:// URL with a host name")
    if parts.username or parts.password:
        raise WebhookUrlRefused("webhook_url: credentials in the URL are not accepted; use a secret path or query")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookUrlRefused(f"webhook_url: the host {parts.hostname!r} does not resolve ({exc})") from None
    addresses = sorted({str(info[4][0]) for info in infos})
    if not addresses:
        raise WebhookUrlRefused(f"webhook_url: the host {parts.hostname!r} does not resolve")
    if not allow_private:
        for address in addresses:
            if _internal(ipaddress.ip_address(address.split("%")[0])):
                raise WebhookUrlRefused(
                    f"webhook_url: {parts.hostname!r} resolves to {address}, a loopback, private or link-local "
                    "address; webhooks go outside the network unless an admin allows internal ones "
                    "(LABELWISE_WEBHOOK_ALLOW_PRIVATE)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post_json(target: Target, body: bytes, *, timeout: float) -> int:
    """POST the body to the checked address; the HTTP status (a redirect is an answer, not followed)."""
    conn = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, timeout)
    try:
        conn.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": "Labelwise-webhook/1"})
        response = conn.getresponse()
        response.read(65536)
        return int(response.status)
    finally:
        conn.close()
