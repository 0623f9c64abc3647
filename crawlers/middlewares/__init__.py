"""Downloader and spider middlewares: politeness on 429/503, and pages that fail to parse."""
