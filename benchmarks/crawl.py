"""Crawl throughput: a local shop of N review pages through the whole pipeline into SQLite.

Serves P products, each with its reviews paginated over pages chained by rel=next (ten
schema.org JSON-LD reviews a page, Polish and English, every one unique), on a loopback
server, and crawls them with `crawlers.runner.run_crawl` into a fresh SQLite store:
download, extruct, normalize, lingua, dedup and save, one transaction per mention.
Beside it, in the same run, `scrapy bench` (Scrapy's own link-following benchmark, no
items, default settings) gives the machine's baseline. Goal: at least half of bench.

Rows: the crawl as shipped (AutoThrottle, 2 requests per host), the crawl at Scrapy's
default concurrency (8 per host, no AutoThrottle; what bench uses), and bench.
pages/s counts from the spider's open to its close; "wall" adds process start-up.

    python -m benchmarks.crawl                   # 400 pages
    python -m benchmarks.crawl --pages 1000 --products 20
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from crawlers.runner import run_crawl
from mentionwatch.config import Config
from mentionwatch.settings import Settings
from tests.fakes.site_server import RecordedRequest, Reply, SiteServer

REVIEWS_PER_PAGE = 10
_WORDS = {
    "pl": ["dostawa", "kurier", "paczka", "świeże", "warzywa", "spóźnienie", "aplikacja", "płatność", "zwrot", "obsługa", "szybko", "polecam", "niestety", "rozmrożone", "cena", "jakość", "zamówienie", "infolinia", "weekend", "terminy"],
    "en": ["delivery", "courier", "parcel", "fresh", "vegetables", "late", "app", "payment", "refund", "support", "fast", "recommend", "unfortunately", "thawed", "price", "quality", "order", "hotline", "weekend", "slots"],
}


def review_page(product: int, page: int, pages: int, rng: random.Random) -> str:
    reviews = []
    for n in range(REVIEWS_PER_PAGE):
        language = "pl" if (product + n) % 3 else "en"
        words = " ".join(rng.choice(_WORDS[language]) for _ in range(rng.randint(8, 30)))
        reviews.append(
            {
                "@type": "Review",
                "author": {"@type": "Person", "name": f"user-{product}-{page}-{n}"},
                "datePublished": f"2026-{1 + page % 12:02d}-{1 + n % 28:02d}T{n % 24:02d}:15:00+01:00",
                "name": f"Opinia {page}-{n}",
                "reviewBody": f"Zamówko {words}.",
                "reviewRating": {"@type": "Rating", "ratingValue": str(1 + rng.randrange(5)), "bestRating": "5"},
            }
        )
    data = {"@context": "https://schema.org", "@type": "Product", "name": f"Produkt {product}", "review": reviews}
    next_link = f'<link rel="next" href="/p/{product}/{page + 1}">' if page < pages else ""
    return (
        f'<!DOCTYPE html><html lang="pl"><head><meta charset="utf-8"><title>Produkt {product}, strona {page}</title>'
        f'{next_link}<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
        f"<body><h1>Produkt {product}</h1><p>{'Opinie klientów. ' * 40}</p></body></html>"
    )


def serve_shop(products: int, pages_each: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    pages = {
        f"/p/{product}/{page}": Reply.text(review_page(product, page, pages_each, rng))
        for product in range(products)
        for page in range(1, pages_each + 1)
    }

    def route(request: RecordedRequest) -> Reply:
        return pages.get(request.path) or Reply.text("not found", status=404)

    return {path: route for path in pages}


def crawl_row(label: str, base_url: str, products: int, overrides: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/bench.db", log_level="WARNING")
        config = Config.model_validate(
            {
                "brands": [{"name": "Zamówko"}],
                "sources": [
                    {
                        "name": "shop",
                        "brand": "Zamówko",
                        "type": "schemaorg",
                        "urls": [f"{base_url}/p/{p}/1" for p in range(products)],
                        "max_pages": 10_000,
                    }
                ],
            }
        )
        started = time.perf_counter()
        (stats,) = run_crawl(config, settings, scrapy_overrides=overrides)
        wall = time.perf_counter() - started
    assert stats.started_at is not None and stats.finished_at is not None
    seconds = (stats.finished_at - stats.started_at).total_seconds()
    return {
        "what": label, "pages": stats.pages, "items": stats.new, "seconds": seconds,
        "pages/s": stats.pages / seconds, "items/s": stats.new / seconds, "wall": wall, "errors": stats.errors,
    }  # fmt: skip


def bench_row(seconds: int) -> dict[str, Any]:
    """`scrapy bench` outside the project, so it runs with Scrapy's default settings."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}"],
            cwd=folder, capture_output=True, text=True, check=True,
        )  # fmt: skip
        wall = time.perf_counter() - started
    pages = int(re.search(r"'response_received_count': (\d+)", result.stderr).group(1))  # type: ignore[union-attr]
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", result.stderr).group(1))  # type: ignore[union-attr]
    return {"what": "scrapy bench (no items)", "pages": pages, "items": 0, "seconds": elapsed,
            "pages/s": pages / elapsed, "items/s": 0.0, "wall": wall, "errors": 0}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=400, help="review pages in all (default 400)")
    parser.add_argument("--products", type=int, default=10, help="products, each a rel=next chain (default 10)")
    parser.add_argument("--bench-seconds", type=int, default=10, help="how long scrapy bench runs (default 10)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    pages_each = max(1, args.pages // args.products)
    rows = []
    with SiteServer(routes=serve_shop(args.products, pages_each, args.seed)) as site:
        rows.append(crawl_row("mentionwatch, as shipped", site.base_url, args.products, {}))
        fast = {"AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8}
        rows.append(crawl_row("mentionwatch, 8 per host", site.base_url, args.products, fast))
    rows.append(bench_row(args.bench_seconds))
    bench = rows[-1]["pages/s"]
    table = Table(title=f"Crawl: {args.products} products x {pages_each} pages, {REVIEWS_PER_PAGE} reviews a page, SQLite")
    for column in ("what", "pages", "items", "seconds", "pages/s", "items/s", "wall s", "errors", "vs bench"):
        table.add_column(column, justify="left" if column == "what" else "right", no_wrap=True)
    for row in rows:
        table.add_row(
            row["what"], str(row["pages"]), str(row["items"]), f"{row['seconds']:.1f}", f"{row['pages/s']:.1f}",
            f"{row['items/s']:.0f}", f"{row['wall']:.1f}", str(row["errors"]), f"{row['pages/s'] / bench:.2f}",
        )  # fmt: skip
    Console(width=max(120, Console().width)).print(table)


if __name__ == "__main__":
    main()
