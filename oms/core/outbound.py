"""Which URLs the service may call: the one policy for every outbound request (SSRF guard).

Clients give us URLs we later POST to from inside our network: webhook subscriptions and a
location's WMS endpoint. Without a guard, a client could make the service call its own admin
ports, the cloud metadata service (169.254.169.254) or any host on the private network. So:

- the scheme is ``http`` or ``https``, always (no setting lifts this);
- the URL names a host and carries no user name or password;
- the host is not ``localhost`` / ``*.localhost``, and an address written as the host (IPv4 in
  any notation the resolver accepts: ``2130706433``, ``0x7f.1``, ``0177.0.0.1``; IPv6, also
  IPv4-mapped ``::ffff:10.0.0.1``) is public: not loopback, link-local, private, unspecified,
  multicast, reserved or shared address space (100.64.0.0/10);
- at send time the address actually connected to is checked again (after DNS resolution, so a
  public name that answers ``127.0.0.1`` is refused too: DNS rebinding); the connection is
  closed before a byte is sent. Redirects are not followed and no proxy is used, so the checked
  peer is the host that receives the request.

``settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS`` lifts the address checks (development, the demo and
the test suite, whose receivers listen on 127.0.0.1); never the scheme, host or credentials checks.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.request
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from rest_framework import serializers

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are IPv4

HELP_TEXT = (
    "An http or https URL the service will POST to (other schemes: 400 `invalid_scheme`). No "
    "user name or password in it, and its host must be public: localhost and loopback, "
    "link-local, private, shared (100.64.0.0/10), unspecified, multicast and reserved "
    "addresses answer 400 `url_not_allowed`, unless the deployment allows private networks. "
    "A host name that resolves to such an address is refused when sending: the attempt fails."
)


@dataclass(frozen=True)
class Refusal:
    """Why a URL may not be called: a machine code and a message for the client."""

    code: str
    message: str


class OutboundAddressRefused(OSError):
    """Raised while connecting: the peer is an address outbound requests may not reach. An
    ``OSError`` so that callers treat it like an unreachable host (a failed attempt)."""


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "OUTBOUND_ALLOW_PRIVATE_NETWORKS", False))


# --- addresses -------------------------------------------------------------------------------


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may route to: IPv4-mapped, 6to4, Teredo
    and the NAT64 well-known prefix."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in NAT64_PREFIX:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def address_class(address: IpAddress) -> str | None:
    """The kind of non-public address `address` is ("loopback", "private", ...), or None for a
    public one."""
    if isinstance(address, ipaddress.IPv6Address):
        for inner in _embedded_ipv4(address):
            kind = address_class(inner)
            if kind is not None:
                return kind
    checks: list[tuple[str, bool]] = [
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (100.64.0.0/10)", address in SHARED_ADDRESS_SPACE),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        # Whatever else IANA lists as not globally reachable (documentation, benchmarking, ...).
        ("non-public", not address.is_global),
    ]
    return next((kind for kind, hit in checks if hit), None)


def _literal_address(host: str) -> IpAddress | None:
    """The address a host written as an IP literal stands for, in every notation the system
    resolver accepts (``ipaddress`` alone refuses ``2130706433`` or ``0x7f.1``, ``connect``
    does not)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if ":" in host:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _is_localhost_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


# --- URLs ------------------------------------------------------------------------------------


def outbound_url_refusal(url: str) -> Refusal | None:
    """Why `url` may not be called, or None if it may. Reads the setting at call time."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _port = parts.port  # raises ValueError for a port out of range
    except ValueError:
        return Refusal("invalid", _("Enter a valid http or https URL."))
    if not parts.scheme:
        return Refusal("invalid", _("Enter a valid http or https URL."))
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return Refusal("invalid_scheme", _("Only http and https URLs are allowed."))
    if not host:
        return Refusal("invalid", _("Enter a valid http or https URL."))
    if parts.username is not None or parts.password is not None:
        return Refusal("url_not_allowed",
                       _("A URL with a user name or password is not allowed."))
    if not private_networks_allowed():
        if _is_localhost_name(host):
            return Refusal("url_not_allowed", _("URLs pointing at localhost are not allowed."))
        address = _literal_address(host)
        kind = address_class(address) if address is not None else None
        if kind is not None:
            return Refusal("url_not_allowed", _(
                "This URL points at a non-public address (%(kind)s); only public addresses are "
                "allowed."
            ) % {"kind": kind})
    try:
        URLValidator(schemes=list(ALLOWED_SCHEMES))(url)
    except ValidationError:
        return Refusal("invalid", _("Enter a valid http or https URL."))
    return None


def validate_outbound_url(value: str) -> None:
    """A Django validator (model and form fields, DRF serializers): raises ``ValidationError``
    with the refusal's code."""
    refusal = outbound_url_refusal(value)
    if refusal is not None:
        raise ValidationError(refusal.message, code=refusal.code)


class OutboundUrlField(serializers.URLField):
    """A URL the service will call. In the schema: ``format: uri``, the length limit and the
    rule as description; validated by :func:`validate_outbound_url` alone (DRF's own URL
    validator also admits ftp and would report a bad URL twice)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", HELP_TEXT)
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, URLValidator)
        ] + [validate_outbound_url]


# --- sending ---------------------------------------------------------------------------------


def check_peer(sock: socket.socket) -> None:
    """Refuse a connected socket whose peer outbound requests may not reach: the address the
    name resolved to this time, not the one it resolved to when the URL was checked."""
    if private_networks_allowed():
        return
    peer = sock.getpeername()
    host = peer[0] if isinstance(peer, tuple) else str(peer)
    try:
        address: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    kind = "unknown" if address is None else address_class(address)
    if kind is not None:
        sock.close()
        raise OutboundAddressRefused(
            f"refused to connect to {host} (a {kind} address): outbound requests reach public "
            "addresses only (OUTBOUND_ALLOW_PRIVATE_NETWORKS)"
        )


class GuardedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        check_peer(self.sock)


class GuardedHTTPSConnection(http.client.HTTPSConnection, GuardedHTTPConnection):
    """``HTTPSConnection.connect`` opens the TCP connection through ``super().connect()``,
    which this method resolution order makes the peer check: the address is checked before the
    TLS handshake sends anything."""


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(GuardedHTTPConnection, req)


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every outbound call: building one loads the system's CA
    certificates, ~28 ms of CPU, which was most of a WMS dispatch's cost (bench/e2e). A context
    is safe to share between threads once configured."""
    return ssl.create_default_context()


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        self.ssl_context = _tls_context()
        super().__init__(context=self.ssl_context)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(GuardedHTTPSConnection, req, context=self.ssl_context)


def outbound_opener() -> urllib.request.OpenerDirector:
    """A urllib opener for outbound calls: http and https only (any other scheme is an "unknown
    url type"), every connection peer-checked, no proxy (the checked peer is the receiver), and
    no redirects (a 3xx is the answer, as with any other status: it cannot lead us elsewhere)."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        _GuardedHTTPHandler(),
        _GuardedHTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener
