"""Egress rules: the crawler connects to non-public addresses only where the config names them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IAddress, IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer

from crawlers.egress import EgressResolver, EgressRules, Refusal, allowed_endpoints
from crawlers.stats import CrawlRunStats
from mentionwatch.commands.crawl import stats_table
from mentionwatch.settings import Settings
from store.models import CrawlRun, Source
from tests.crawlers.conftest import SAMPLES, crawl, make_config, stored
from tests.fakes.site_server import Reply, SiteServer

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
        ("169.254.169.254", "link-local"), ("fe80::1%eth0", "link-local"),
        ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"), ("::", "unspecified"),
        ("100.64.0.1", "non-public"),
        (PUBLIC, None), ("2606:4700:4700::1111", None), ("::ffff:93.184.215.14", None),
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused_by_kind(address: str, kind: str | None) -> None:
    refusal = EgressRules([]).refusal("site.example", 443, address)
    assert (refusal.kind if refusal else None) == kind


def test_only_the_exact_endpoints_the_config_names_are_allowed() -> None:
    config = make_config(
        {"name": "local", "type": "schemaorg", "urls": ["http://127.0.0.1:8080/reviews", "https://Intranet.Example./r"]},
        {"name": "api", "type": "discourse", "urls": ["http://[::1]:9000/t/1"], "base_url": "http://localhost:8081"},
    )
    allowed = allowed_endpoints(config)
    assert allowed == ["127.0.0.1:8080", "intranet.example:443", "[::1]:9000", "localhost:8081"]
    rules = EgressRules(allowed)
    assert rules.refusal("127.0.0.1", 8080, "127.0.0.1") is None
    assert rules.refusal("INTRANET.example", 443, "10.0.0.7") is None
    assert rules.refusal("::1", 9000, "::1") is None
    assert rules.refusal("localhost", 8081, "::1") is None
    # Another port, or another name for the same address, is another endpoint.
    assert rules.refusal("127.0.0.1", 8081, "127.0.0.1") == Refusal("127.0.0.1", 8081, "127.0.0.1", "loopback")
    assert rules.refusal("localhost", 8080, "127.0.0.1") == Refusal("localhost", 8080, "127.0.0.1", "loopback")
    assert str(rules.refusal("localhost", 8080, "127.0.0.1")) == (
        "connection to localhost:8080 (127.0.0.1) refused: a loopback address that the config does not name"
    )


@implementer(IHostnameResolver)
class StubDNS:
    """Answers each name with the next of its answer lists (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def resolveHostName(
        self, receiver: IResolutionReceiver, hostName: str, portNumber: int = 0, *args: Any, **kwargs: Any
    ) -> IHostResolution:
        answer = self.answers[hostName][min(self.asked.count(hostName), len(self.answers[hostName]) - 1)]
        self.asked.append(hostName)
        receiver.resolutionBegan(None)  # type: ignore[arg-type]
        for ip in answer:
            receiver.addressResolved((IPv6Address if ":" in ip else IPv4Address)("TCP", ip, portNumber))
        receiver.resolutionComplete()
        return receiver  # type: ignore[return-value]


class FakeReactor:
    def __init__(self, dns: StubDNS) -> None:
        self.nameResolver = dns


@implementer(IResolutionReceiver)
class Collect:
    def __init__(self) -> None:
        self.addresses: list[str] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        pass

    def addressResolved(self, address: IAddress) -> None:
        self.addresses.append(address.host)  # type: ignore[attr-defined]

    def resolutionComplete(self) -> None:
        pass


def resolve(resolver: EgressResolver, host: str, port: int = 80) -> list[str]:
    receiver = Collect()
    resolver.resolveHostName(receiver, host, port)
    return receiver.addresses


def test_names_resolving_to_private_addresses_are_refused_and_resolved_once() -> None:
    # Unique names: Scrapy's DNS cache is shared by the whole test process.
    intranet, rebind, named = (f"{what}-{uuid.uuid4().hex}.example" for what in ("intranet", "rebind", "named"))
    dns = StubDNS({intranet: [["10.0.0.5", PUBLIC]], rebind: [[PUBLIC], ["127.0.0.1"]], named: [["10.0.0.6"]]})
    resolver = EgressResolver(FakeReactor(dns), 100, EgressRules([f"{named}:8080"]))  # type: ignore[arg-type]

    assert resolve(resolver, intranet) == [PUBLIC], "only the public address is handed to the connection"
    assert resolver.refusal_for(f"http://{intranet}/page") == Refusal(intranet, 80, "10.0.0.5", "private")
    # A name checked as public cannot turn private for the connection: it is resolved once.
    assert resolve(resolver, rebind) == [PUBLIC] and resolve(resolver, rebind) == [PUBLIC]
    assert dns.asked.count(rebind) == 1
    assert resolve(resolver, named, 8080) == ["10.0.0.6"], "the endpoint the config names"
    assert resolve(resolver, named, 8081) == [] and resolver.refusal_for(f"https://{named}:8081/") is not None


def test_the_crawl_table_lists_refused_endpoints_only_when_there_are_some() -> None:
    def render(*rows: CrawlRunStats) -> str:
        console = Console(width=200, record=True)
        console.print(stats_table(list(rows)))
        return console.export_text()

    clean = CrawlRunStats(source="shop", source_type="schemaorg", pages=2)
    refused = CrawlRunStats(source="forum", source_type="phpbb", errors=2, refused={"10.0.0.5:80": 1, "localhost:81 (::1)": 1})
    assert "refused" not in render(clean)
    assert "10.0.0.5:80 1, localhost:81 (::1) 1" in render(clean, refused)


def test_redirects_into_private_addresses_are_refused_counted_and_never_stored(
    settings: Settings, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy would resolve and connect out of reach of the rules: crawls ignore it.
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("no_proxy", "")
    page = Reply.file(SAMPLES / "shop/microdata-2.html")
    with SiteServer(routes={"/secret.html": page}) as internal, SiteServer(routes={"/reviews": page}) as mirror:
        with SiteServer() as site:
            localhost = site.url("/reviews").replace("127.0.0.1", "localhost")
            site.routes.update(
                {
                    "/to-internal": Reply(302, headers={"Location": internal.url("/secret.html")}),
                    "/to-localhost": Reply(302, headers={"Location": localhost}),
                    "/to-metadata": Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/iam/"}),
                    "/to-mirror": Reply(301, headers={"Location": mirror.url("/reviews")}),
                    "/reviews": page,
                }
            )
            config = make_config(
                *({"name": path, "type": "schemaorg", "urls": [site.url(f"/{path}")]} for path in
                  ("to-internal", "to-localhost", "to-metadata", "to-mirror")),
                # The mirror is named by a source of its own, so redirects may go there.
                {"name": "mirror", "type": "schemaorg", "urls": [mirror.url("/other")]},
            )  # fmt: skip
            stats = crawl(config, settings)
            reached_internal = list(internal.requests)
            reached_site = [r.path for r in site.requests]
    assert reached_internal == [], "nothing was ever sent to the internal server"
    internal_port = internal.base_url.rsplit(":", 1)[1]
    assert stats["to-internal"].refused == {f"127.0.0.1:{internal_port}": 1}
    [(localhost_refusal, count)] = stats["to-localhost"].refused.items()
    assert count == 1 and localhost_refusal.startswith(f"localhost:{site.base_url.rsplit(':', 1)[1]} (")
    assert "/reviews" not in reached_site, "localhost is not the 127.0.0.1 the config names"
    assert stats["to-metadata"].refused == {"169.254.169.254:80": 1}
    for name in ("to-internal", "to-localhost", "to-metadata"):
        assert (stats[name].errors, stats[name].new, stats[name].pages) == (1, 0, 0), name
        assert stored(sqlite_engine, name) == []
    assert (stats["to-mirror"].new, stats["to-mirror"].errors, stats["to-mirror"].refused) == (1, 0, {})
    with Session(sqlite_engine) as session:
        runs = dict(session.exec(select(Source.name, CrawlRun.refused).join(CrawlRun, col(CrawlRun.source_id) == col(Source.id))).all())
    assert runs["to-metadata"] == {"169.254.169.254:80": 1}, "the run keeps what was refused"
    assert runs["to-mirror"] is None
