"""Egress rules: which addresses the crawler may connect to.

Any site the crawler visits can redirect it (or publish a link) to an internal
address: a loopback admin page, a database on the private network, the cloud's
metadata service at 169.254.169.254. So every connection, the first request's and
each redirect's, is checked after its host name is resolved: loopback, private,
link-local, multicast, unspecified and other non-public addresses are refused unless
that exact host and port is one the config names (a source's `urls` or `base_url`),
which keeps sources on a local test server or an intranet mirror working.

The check lives in the DNS resolver that Scrapy installs on the reactor
(`TWISTED_DNS_RESOLVER`), because that is where the address a connection will use is
decided: the endpoint connects to exactly the addresses this resolver hands out, so a
name that resolves to 127.0.0.1 is refused like the literal, and answers are cached
for the whole crawl, so a name cannot resolve to a public address when checked and a
private one when connected (DNS rebinding). Refused addresses are withheld from the
connection, which then fails as a DNS error; the resolver keeps the refusal so that
`crawlers.middlewares.egress` can turn that error into one that names the address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from scrapy.resolver import CachingHostnameResolver
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

if TYPE_CHECKING:
    from twisted.internet.base import ReactorBase

    from mentionwatch.config import Config

# The Scrapy setting holding the "host:port" endpoints the config names.
ALLOWED_ENDPOINTS_SETTING = "MENTIONWATCH_EGRESS_ALLOWED"

_DEFAULT_PORTS = {"http": 80, "https": 443}
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def normalize_host(host: str) -> str:
    """One spelling per host: lower case, no trailing dot, no IPv6 brackets, IPs compressed."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def endpoint_of(url: str) -> tuple[str, int] | None:
    """(host, port) a URL connects to, the scheme's port when none is given; None if it has no host."""
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:  # a port out of range
        return None
    return normalize_host(parts.hostname), port


def allowed_endpoints(config: Config) -> list[str]:
    """Every "host:port" a source's `urls` or `base_url` names, in config order."""
    found: dict[str, None] = {}
    for source in config.sources:
        for url in [*source.urls, *([source.base_url] if source.base_url else [])]:
            endpoint = endpoint_of(url)
            if endpoint is not None:
                found[format_endpoint(*endpoint)] = None
    return list(found)


def format_endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def address_kind(address: IPAddress) -> str | None:
    """Why a connection to `address` is refused by default; None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)),
        # Shared (100.64.0.0/10, carrier NAT and cloud internals), reserved, benchmarking.
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


@dataclass(frozen=True)
class Refusal:
    """A connection the rules refused: to `address` for `host`:`port`, because it is `kind`."""

    host: str
    port: int
    address: str
    kind: str

    @property
    def target(self) -> str:
        """The refused endpoint as shown in the crawl stats: "10.0.0.5:80", "localhost:8080 (127.0.0.1)"."""
        endpoint = format_endpoint(self.host, self.port)
        return endpoint if self.host == self.address else f"{endpoint} ({self.address})"

    def __str__(self) -> str:
        return f"connection to {self.target} refused: a {self.kind} address that the config does not name"


class EgressRules:
    """The check itself: an address is refused when it is not public and the endpoint is not named."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = {endpoint for entry in allowed if (endpoint := endpoint_of(f"//{entry}")) is not None}

    def refusal(self, host: str, port: int, address: str) -> Refusal | None:
        host = normalize_host(host)
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0 carries its interface
        kind = address_kind(ip)
        if kind is None or (host, port) in self.allowed:
            return None
        return Refusal(host=host, port=port, address=str(ip), kind=kind)


@implementer(IResolutionReceiver)
class _CheckingReceiver:
    """Passes on only the addresses the rules allow; the endpoint connects to nothing else."""

    def __init__(self, resolver: EgressResolver, receiver: IResolutionReceiver, host: str, port: int) -> None:
        self.resolver = resolver
        self.receiver = receiver
        self.host = host
        self.port = port

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        refusal = self.resolver.rules.refusal(self.host, self.port, address.host)  # type: ignore[attr-defined]
        if refusal is None:
            self.receiver.addressResolved(address)
        else:
            self.resolver.refusals.setdefault((refusal.host, refusal.port), refusal)

    def resolutionComplete(self) -> None:
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class EgressResolver(CachingHostnameResolver):
    """Scrapy's caching resolver (IPv4 and IPv6) with the egress rules applied to every answer.

    Installed once per crawl process (`TWISTED_DNS_RESOLVER`); its rules come from the
    process settings (`MENTIONWATCH_EGRESS_ALLOWED`), which `crawlers.run` fills from
    the config.
    """

    def __init__(self, reactor: ReactorBase, cache_size: int, rules: EgressRules) -> None:
        super().__init__(reactor, cache_size)
        self.rules = rules
        # (host, port) -> the first refusal for it; answers are cached, so it stays true.
        self.refusals: dict[tuple[str, int], Refusal] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: ReactorBase) -> Self:
        cache_size = crawler.settings.getint("DNSCACHE_SIZE") if crawler.settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, EgressRules(crawler.settings.getlist(ALLOWED_ENDPOINTS_SETTING)))

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        checking = _CheckingReceiver(self, resolutionReceiver, hostName, portNumber)
        return super().resolveHostName(checking, hostName, portNumber, addressTypes, transportSemantics)

    def refusal_for(self, url: str) -> Refusal | None:
        """The refusal that made a connection to `url` fail, if that is why it failed."""
        endpoint = endpoint_of(url)
        return self.refusals.get(endpoint) if endpoint else None
