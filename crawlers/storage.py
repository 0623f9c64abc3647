"""The store as the crawl process sees it: one engine per database URL, shared by the steps."""

from __future__ import annotations

from functools import cache

from scrapy.settings import BaseSettings
from sqlalchemy.engine import Engine

from store.db import make_engine

# The Scrapy setting that names the store; `crawlers.run` sets it from Settings.database_url.
DATABASE_URL_SETTING = "MENTIONWATCH_DATABASE_URL"


@cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def crawl_engine(settings: BaseSettings) -> Engine:
    url = settings.get(DATABASE_URL_SETTING)
    if not url:
        raise RuntimeError(f"the {DATABASE_URL_SETTING} Scrapy setting must name the store")
    return engine_for(str(url))
