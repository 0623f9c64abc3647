"""Crawling: Scrapy spiders, one small module per source type, and the item pipeline.

`crawlers.runner.run_crawl` is the entry point for the command line, the scheduler and
the demo; `docs/crawling.md` explains how to add a source type.
"""
