"""Scrapy settings shared by every mentionwatch crawl (`scrapy.cfg` points here).

Per-run values (the user agent, the log level) are layered on top by `crawlers.run`;
tests and the benchmark pass their own overrides through `run_crawl(scrapy_overrides=)`.
"""

from __future__ import annotations

BOT_NAME = "mentionwatch"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Politeness: obey robots.txt, adapt the pace to each host's latency, and never hit one
# host with more than two requests at a time.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# A stuck source must not block the scheduler's next round forever.
CLOSESPIDER_TIMEOUT = 1800

# 429 and 503 are retried by RetryAfterMiddleware, which waits as the server asks;
# the stock middleware keeps the other transient failures.
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
RETRY_TIMES = 2
MENTIONWATCH_RETRY_AFTER_TIMES = 3
# The longest wait a server may ask for; a longer Retry-After gives up until the next run.
MENTIONWATCH_RETRY_AFTER_MAX = 120.0
# Wait used for a 429/503 without Retry-After; doubles on each retry.
MENTIONWATCH_RETRY_AFTER_DEFAULT = 2.0

# Egress rules (crawlers.egress): every connection's address is checked after name
# resolution; loopback, private, link-local... addresses only for endpoints the config
# names (crawlers.run fills MENTIONWATCH_EGRESS_ALLOWED).
TWISTED_DNS_RESOLVER = "crawlers.egress.EgressResolver"
MENTIONWATCH_EGRESS_ALLOWED: list[str] = []
# Through a proxy (http_proxy in the environment) the proxy would resolve and connect,
# out of reach of those checks, so crawls always connect directly.
HTTPPROXY_ENABLED = False

# Review pages and API answers are well under 1 MiB (the largest recorded one is
# 0.5 MiB); anything near the limit is a mistake or an attack (a gzip bomb is cut when
# its decompressed body passes the limit). MENTIONWATCH_DOWNLOAD_MAXSIZE and
# MENTIONWATCH_DOWNLOAD_WARNSIZE (bytes, or "16MiB") change them per process.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Browsers give up after 20; a review page or API that needs more than 5 is broken.
REDIRECT_MAX_TIMES = 5

DOWNLOADER_MIDDLEWARES = {
    "crawlers.middlewares.retry_after.RetryAfterMiddleware": 560,
    # Above RetryMiddleware (550), whose process_exception would retry a refusal as a DNS error.
    "crawlers.middlewares.egress.EgressMiddleware": 570,
    # Scrapy's own, replaced by subclasses whose errors say why (crawlers.middlewares.limits).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawlers.middlewares.limits.LoopCheckingMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawlers.middlewares.limits.ResponseSizeMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawlers.middlewares.limits.LoopCheckingRedirectMiddleware": 600,
}
SPIDER_MIDDLEWARES = {
    "crawlers.middlewares.parse_errors.ParseErrorsMiddleware": 45,
}
ITEM_PIPELINES = {
    "crawlers.pipelines.normalize.NormalizePipeline": 100,
    "crawlers.pipelines.language.LanguagePipeline": 200,
    "crawlers.pipelines.match.BrandMatchPipeline": 300,
    "crawlers.pipelines.dedup.DedupPipeline": 400,
    "crawlers.pipelines.save.SavePipeline": 500,
}

LOG_LEVEL = "INFO"
LOG_VERSIONS: list[str] = []
LOGSTATS_INTERVAL = 0
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
