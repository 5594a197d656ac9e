"""Keep pushes away from hosts pushdesk must never talk to.

A stored endpoint is only a URL someone posted. Before each send its origin is
checked again (https, a known push service), and the addresses its host
resolves to are checked where the connection is made, so a name that resolves
to the operator's router, loopback or a cloud metadata address is never
connected to, even if its DNS answer changed since the last look. Origins the
operator allowed explicitly (a local push-service double, say) pass untouched.

Two halves, because aiohttp never asks a resolver about an IP literal:
``EndpointGuard.refusal`` checks the URL (literals included) before a request
is made, and ``GuardedResolver`` filters what a host name resolves to.
"""

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from pushdesk.log import PUSH
from pushdesk.push.push_services import is_push_service_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"https": 443, "http": 80}

# 100.64.0.0/10 (RFC 6598) is neither private nor global to ``ipaddress``.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
# RFC 6052 NAT64: a gateway turns these into the IPv4 address in the last
# 32 bits, which may be a private one.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class InternalAddress(OSError):
    """A host name resolved only to addresses pushdesk must not connect to.

    An OSError, so that aiohttp reports it as a failed lookup (with this as
    its cause) rather than as a bug.
    """


def internal_kind(address: IPAddress) -> str | None:
    """Why this address is internal ("loopback", "private", ...), or None when
    it is a public one pushdesk may connect to."""
    if isinstance(address, ipaddress.IPv6Address):
        # The IPv4 address inside decides: connecting to ::ffff:10.0.0.1 or a
        # NAT64 form of it reaches 10.0.0.1.
        inner = address.ipv4_mapped or _nat64_inner(address)
        if inner is not None:
            return internal_kind(inner)
        if address.sixtofour is not None and internal_kind(address.sixtofour):
            return "6to4 of an internal address"

    for kind, matches in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared address space", address in _SHARED),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("site-local", _site_local(address)),
    ):
        if matches:
            return kind
    # Whatever else ipaddress knows is not reachable on the internet
    # (documentation, benchmarking, protocol assignments).
    return None if address.is_global else "not globally routable"


def address_kind(text: str) -> str | None:
    """``internal_kind`` of an address as text; text that is not an address
    counts as internal, so a surprise from a resolver fails closed."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "not an IP address"
    return internal_kind(address)


def _nat64_inner(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address not in _NAT64:
        return None
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _site_local(address: IPAddress) -> bool:
    # fec0::/10 is deprecated (RFC 3879) and still not global.
    return isinstance(address, ipaddress.IPv6Address) and address.is_site_local


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


Origin = tuple[str, str, int]  # scheme, host (no brackets, no final dot), port


def _origin(url: str) -> Origin | None:
    """Scheme, host and port with the default port filled in; None when
    ``url`` has no usable origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = port or DEFAULT_PORTS.get(scheme)
    if not host or port is None:
        return None
    return scheme, host, port


class EndpointGuard:
    """Says whether pushdesk may send to an endpoint, and to which addresses.

    ``allowed_origins`` are the operator's explicit exceptions
    (``--allow-push-origin``): anything goes for them, loopback included.
    """

    def __init__(
        self,
        allowed_origins: Iterable[str] = (),
        *,
        push_service: Callable[[str], bool] = is_push_service_host,
    ) -> None:
        self._allowed = {
            origin for origin in map(_origin, allowed_origins) if origin is not None
        }
        self._push_service = push_service

    def refusal(self, endpoint: str) -> str | None:
        """Why a push to ``endpoint`` must not be sent, or None when it may."""
        origin = _origin(endpoint)
        if origin is None:
            return "refused: the endpoint is not a URL with a host"
        if origin in self._allowed:
            return None

        scheme, host, _ = origin
        literal = _ip_literal(host)
        kind = internal_kind(literal) if literal is not None else None
        if kind is not None:
            return f"refused: {host} is an internal address ({kind})"
        if scheme != "https":
            return f"refused: {scheme}://{host} is not https"
        if literal is not None or not self._push_service(host):
            return f"refused: {host} is not a known push service"
        return None

    def allows(self, host: str, port: int) -> bool:
        """Is ``host:port`` the host and port of an origin the operator allowed?"""
        host = host.lower().rstrip(".")
        return any(
            (host, port) == (allowed_host, allowed_port)
            for _, allowed_host, allowed_port in self._allowed
        )


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, minus the internal addresses a name resolves to.

    What the connection is made to is what was checked: there is no second
    lookup a changed DNS answer could slip into. A name with only internal
    addresses raises InternalAddress. Closing it closes ``upstream``.

    Behind a proxy it would check only the proxy's address, so the push
    session must use none (aiohttp's trust_env stays off).
    """

    def __init__(
        self, guard: EndpointGuard, upstream: AbstractResolver | None = None
    ) -> None:
        self._guard = guard
        self._upstream = upstream if upstream is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._upstream.resolve(host, port, family)
        if self._guard.allows(host, port):
            return found

        kinds = {result["host"]: address_kind(result["host"]) for result in found}
        public = [result for result in found if kinds[result["host"]] is None]
        internal = ", ".join(
            f"{address} ({kind})" for address, kind in kinds.items() if kind
        )
        if not public:
            raise InternalAddress(
                f"refused: {host} resolves only to internal addresses: {internal}"
            )
        if internal:
            PUSH.warning("%s also resolves to %s; not using those", host, internal)
        return public

    async def close(self) -> None:
        await self._upstream.close()
