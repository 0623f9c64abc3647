"""Spiders, one module per source type, named after the config's `type`.

`spider_class("feed")` imports `crawlers.spiders.feed` and returns its MentionSpider
subclass; adding a type is adding a module (see `crawlers.spiders.base`).
"""

from __future__ import annotations

import importlib
import inspect

from crawlers.spiders.base import MentionSpider


class UnsupportedSourceType(LookupError):
    """The config names a source type that has no spider module yet."""


def spider_class(source_type: str) -> type[MentionSpider]:
    try:
        module = importlib.import_module(f"crawlers.spiders.{source_type}")
    except ModuleNotFoundError as exc:
        if exc.name != f"crawlers.spiders.{source_type}":
            raise
        raise UnsupportedSourceType(f"no spider for source type {source_type!r} yet") from exc
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if issubclass(cls, MentionSpider) and cls.source_type == source_type:
            return cls
    raise UnsupportedSourceType(f"crawlers.spiders.{source_type} defines no spider with source_type={source_type!r}")
