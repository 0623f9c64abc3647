"""Crawl limits: redirect loops, too many redirects, oversized pages and gzip bombs are
errors of their source with a reason, and a bomb never grows past DOWNLOAD_MAXSIZE."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from mentionwatch.settings import Settings
from tests.crawlers.conftest import crawl, make_config
from tests.fakes.site_server import Reply, SiteServer

MiB = 1024 * 1024


def gzip_bomb(size: int) -> bytes:
    """A gzip body of `size` zero bytes (about 1/1000 of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MiB)
    return b"".join([*(packer.compress(chunk) for _ in range(size // MiB)), packer.flush()])


def html(body: bytes, **headers: str) -> Reply:
    return Reply(200, body, {"Content-Type": "text/html; charset=utf-8", **headers})


def test_redirect_loops_and_oversized_pages_are_errors_with_a_reason(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    routes = {
        "/loop": Reply(302, headers={"Location": "/loop-2"}),
        "/loop-2": Reply(302, headers={"Location": "/loop"}),
        **{f"/hop-{n}": Reply(302, headers={"Location": f"/hop-{n + 1}"}) for n in range(10)},
        "/big": html(b"<html>" + bytes(9 * MiB)),
        "/bomb": html(gzip_bomb(64 * MiB), **{"Content-Encoding": "gzip"}),
    }
    with SiteServer(routes=routes) as site:
        config = make_config(
            *({"name": name, "type": "schemaorg", "urls": [site.url(f"/{path}")]} for name, path in
              [("loop", "loop"), ("chain", "hop-0"), ("big", "big"), ("bomb", "bomb")])
        )  # fmt: skip
        stats = crawl(config, settings)
        loop_visits = len(site.requested("/loop"))
    log = capfd.readouterr().err
    for name in ("loop", "chain", "big", "bomb"):
        assert (stats[name].errors, stats[name].pages, stats[name].new) == (1, 0, 0), name
    assert loop_visits == 1
    assert f"source=loop url={site.url('/loop-2')}: not fetched: redirect loop: {site.url('/loop')} -> " in log
    assert "source=chain url=" in log and "not fetched: more than 5 redirects" in log
    assert f"source=big url={site.url('/big')}: not fetched: response over the size limit (DOWNLOAD_MAXSIZE = {8 * MiB} bytes)" in log
    assert "source=bomb" in log and "over the size limit (DOWNLOAD_MAXSIZE = 8388608 bytes) once decompressed" in log


def test_the_size_limits_are_configurable(settings: Settings, capfd: pytest.CaptureFixture[str]) -> None:
    with SiteServer(routes={"/page": html(b"<html>" + bytes(200_000))}) as site:
        config = make_config({"name": "page", "type": "schemaorg", "urls": [site.url("/page")]})
        small = settings.model_copy(update={"download_maxsize": 100_000, "download_warnsize": 50_000})
        stats = crawl(config, small)
    assert stats["page"].errors == 1
    assert "over the size limit (DOWNLOAD_MAXSIZE = 100000 bytes)" in capfd.readouterr().err


_PEAK_MEMORY_OF_A_CRAWL = """
import json, resource, sys
from crawlers.runner import run_crawl
from mentionwatch.config import Config
from mentionwatch.settings import Settings
config = Config.model_validate_json(sys.argv[1])
[stats] = run_crawl(config, Settings(database_url=sys.argv[2]), scrapy_overrides={"AUTOTHROTTLE_START_DELAY": 0})
print(json.dumps({"errors": stats.errors, "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


@pytest.mark.slow
def test_a_gzip_bomb_is_cut_before_it_fills_the_memory(sqlite_url: str) -> None:
    bomb = gzip_bomb(1024 * MiB)  # 1 MiB on the wire; Scrapy's own limit (1 GiB) let it take 1.5 GB
    with SiteServer(routes={"/bomb": html(bomb, **{"Content-Encoding": "gzip"})}) as site:
        config = make_config({"name": "bomb", "type": "schemaorg", "urls": [site.url("/bomb")]})
        # A process of its own, so that the peak is this crawl's alone.
        run = subprocess.run(
            [sys.executable, "-c", _PEAK_MEMORY_OF_A_CRAWL, config.model_dump_json(), sqlite_url],
            capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2],
        )  # fmt: skip
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == 1
    assert result["peak_mib"] < 1024, result  # 470 MiB here; 2.5 GiB with a 1 GiB limit
