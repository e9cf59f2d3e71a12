"""SSRF guard for every outbound HTTP call of the notification channels: which addresses sanpi
may connect to, a pre-check of a URL (for a 422 at subscription time), and the aiohttp connector
that refuses any other address at the moment it connects.

The rule: an address is allowed only if `ipaddress` calls it global (so 10/8, 172.16/12,
192.168/16, 100.64/10 with cloud metadata at 100.100.100.200, 169.254/16, 0.0.0.0, ::1, fc00::/7,
fe80::/10, documentation and benchmarking ranges are all refused) and it is not multicast. An IPv6
address that carries an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16)
is judged by the IPv4 address inside; the local-use NAT64 prefix 64:ff9b:1::/48 and the
deprecated IPv4-compatible ::/96 are refused outright. `Egress(allow_loopback=True)` (tests and
`make up`, refused in production by the settings) lets 127.0.0.0/8 and ::1 through, nothing more.

Why a connector and not only a check: a name checked once and resolved again by the HTTP client
may answer a public address to the check and a private one to the client (DNS rebinding). The
connector's resolver checks every answer it hands to aiohttp, and its socket factory checks the
address of every socket just before it connects, so the address connected to is an address that
was checked. Use it for every channel that calls out:

    policy = Egress(allow_loopback=settings.allow_loopback_targets)
    await check_url(url, policy)          # TargetRefused, for a 422 naming the field
    session = aiohttp.ClientSession(connector=connector(policy, limit=32))
    ...                                   # a refused address fails the request with
    refusal(exc)                          # aiohttp.ClientConnectorError; refusal() says why

Behind an HTTP(S)_PROXY the proxy opens the connection to the target, so the proxy (named by the
operator's environment, hence trusted whatever its address) must refuse private destinations
itself; sanpi still checks the target's addresses before handing it over (`check_url`)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from sanpi.kit.messages import Message
from sanpi.notification.channels import messages as refusals

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Prefixes whose IPv6 addresses carry an IPv4 address in their low or high bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: site-local translation
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d


class TargetRefused(ValueError):
    """A URL sanpi will not call: `message` is the reason a person reads in a 422 (in their
    language), str() the English a delivery log carries."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render("en"))
        self.message = message


class AddressRefused(OSError):
    """Raised inside the connector for an address it will not connect to: an OSError, so that
    aiohttp turns it into a ClientConnectorError like any other failure to connect. str() is
    English (logs); `message` the catalogued reason."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render("en"))
        self.message = message


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


@dataclass(frozen=True)
class Egress:
    """Which addresses the channels may reach; see the module docstring for the rule."""

    allow_loopback: bool = False

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why `address` is refused (English), or None if sanpi may connect to it (pure)."""
        reason = self.reason(address)
        return None if reason is None else reason.render("en")

    def reason(self, address: str | IPAddress) -> Message | None:
        """Why `address` is refused, in either language, or None if sanpi may connect to it."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return refusals.NOT_AN_IP()
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.scope_id:
                return refusals.SCOPED_IPV6()
            if ip in NAT64_LOCAL:
                return refusals.NAT64_LOCAL()
            if ip in IPV4_COMPATIBLE and ip != ipaddress.IPv6Address("::1"):
                return refusals.IPV4_COMPATIBLE()
            inner = _embedded_ipv4(ip)
            if inner is not None:
                reason = self.reason(inner)
                return None if reason is None else refusals.CARRIES(inner=inner, reason=reason)
        if self.allow_loopback and ip.is_loopback:
            return None
        if ip.is_multicast:
            return refusals.MULTICAST()
        if not ip.is_global:
            return refusals.NOT_PUBLIC()
        return None

    def check_address(self, address: str | IPAddress, *, host: str | None = None) -> None:
        """Raises AddressRefused unless sanpi may connect to `address` (`host`: the name it
        came from, for the message)."""
        reason = self.reason(address)
        if reason is None:
            return
        if host:
            raise AddressRefused(refusals.HOST_REFUSED(host=host, address=address, reason=reason))
        raise AddressRefused(refusals.ADDRESS_REFUSED(address=address, reason=reason))


async def check_url(url: str, policy: Egress) -> None:
    """Refuses a URL that is not http(s), has no host, does not resolve, or whose host has any
    address the policy refuses. A pre-check for a clear 422: the connector checks again, at the
    moment it connects."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused(refusals.URL_SCHEME())
    host = parts.hostname
    if not host:
        raise TargetRefused(refusals.URL_NO_HOST())
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused(refusals.URL_PORT()) from exc
    literal = _literal(host)
    if literal is not None:
        addresses: list[str] = [str(literal)]
    else:
        resolver = aiohttp.ThreadedResolver()
        try:
            answers = await resolver.resolve(host, port, family=socket.AF_UNSPEC)
        except OSError as exc:
            raise TargetRefused(refusals.URL_UNRESOLVED(host=host)) from exc
        finally:
            await resolver.close()
        addresses = [answer["host"] for answer in answers]
    for address in addresses:
        try:
            policy.check_address(address, host=None if literal else host)
        except AddressRefused as exc:
            raise TargetRefused(exc.message) from None


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass
class _Trusted:
    """The operator's proxies (from HTTP(S)_PROXY): names, and the addresses they resolved to."""

    hosts: frozenset[str]
    addresses: set[str] = field(default_factory=set)

    @classmethod
    def from_environment(cls) -> _Trusted:
        hosts = {
            host
            for scheme, proxy in getproxies().items()
            if scheme in ("http", "https") and (host := urlsplit(proxy).hostname)
        }
        trusted = cls(frozenset(hosts))
        for host in hosts:
            literal = _literal(host)
            if literal is not None:
                trusted.addresses.add(str(literal))
        return trusted


class GuardedResolver(AbstractResolver):
    """Resolves through `base` and refuses the whole name if any answer is refused."""

    def __init__(self, policy: Egress, trusted: _Trusted, base: AbstractResolver) -> None:
        self.policy = policy
        self.trusted = trusted
        self.base = base

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.base.resolve(host, port, family)
        if host in self.trusted.hosts:
            self.trusted.addresses.update(answer["host"] for answer in answers)
            return answers
        for answer in answers:
            self.policy.check_address(answer["host"], host=host)
        return answers

    async def close(self) -> None:
        await self.base.close()


class EgressConnector(aiohttp.TCPConnector):
    """A TCPConnector whose every connection goes to an address the policy allows (or to the
    environment's proxy). No DNS cache: each new connection resolves, and is checked, anew."""

    def __init__(
        self,
        policy: Egress,
        *,
        resolver: AbstractResolver | None = None,
        trusted: _Trusted | None = None,
        **kwargs: Any,
    ) -> None:
        self.policy = policy
        self.trusted = trusted or _Trusted.from_environment()
        guarded = GuardedResolver(policy, self.trusted, resolver or aiohttp.ThreadedResolver())
        super().__init__(
            resolver=guarded, use_dns_cache=False, socket_factory=self._socket, **kwargs
        )

    def _socket(self, addr_info: tuple[Any, ...]) -> socket.socket:
        """The last gate: the address this socket is about to connect to (literal IPs in URLs
        never pass through the resolver)."""
        family, type_, proto, _canonical, sockaddr = addr_info
        address = str(sockaddr[0])
        if address not in self.trusted.addresses:
            self.policy.check_address(address)
        return socket.socket(family=family, type=type_, proto=proto)


def connector(
    policy: Egress, *, resolver: AbstractResolver | None = None, **kwargs: Any
) -> EgressConnector:
    """The aiohttp connector every outbound channel uses (kwargs go to aiohttp.TCPConnector;
    `resolver` replaces the system's, e.g. in tests)."""
    return EgressConnector(policy, resolver=resolver, **kwargs)


def refusal(exc: BaseException) -> str | None:
    """The guard's reason if `exc` (an aiohttp error) comes from a refused address, else None."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, AddressRefused):
            return str(current)
        nested: Iterable[BaseException | None] = (
            current.__cause__,
            current.__context__,
            getattr(current, "os_error", None),
            *getattr(current, "exceptions", ()),
        )
        pending.extend(nested)
    return None
