"""What a worker's tasks share: the store, the settings, the config, the model."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from crawlers.runner import CrawlService
from mentionwatch.cluster.host_slots import HostSlots
from mentionwatch.config import Config
from mentionwatch.scoring import SCORE_BATCH, classifier_from_settings
from mentionwatch.settings import Settings
from sentiment import SentimentClassifier


@dataclass
class WorkerDeps:
    """Built once per worker process and handed to every job (procrastinate's context),
    so a job opens no new engine and the model is loaded once per process."""

    engine: Engine
    settings: Settings
    config: Config
    host_slots: HostSlots
    # Scrapy settings laid over crawlers.settings for every crawl (`--crawl-setting`).
    crawl_overrides: Mapping[str, Any] = field(default_factory=dict)
    score_batch: int = SCORE_BATCH
    # Set when the worker stops: a crawl waiting for a host slot gives up.
    stop: threading.Event = field(default_factory=threading.Event)
    _classifier: SentimentClassifier | None = field(default=None, repr=False)
    _classifier_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _crawls: CrawlService | None = field(default=None, repr=False)
    _crawls_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def classifier(self) -> SentimentClassifier:
        """The model, loaded by the first scoring task (once, however many run at once)."""
        with self._classifier_lock:
            if self._classifier is None:
                self._classifier = classifier_from_settings(self.settings)
            return self._classifier

    def crawl_service(self) -> CrawlService:
        """The worker's crawl process, started by the first crawl task and shared by all."""
        with self._crawls_lock:
            if self._crawls is None:
                # One request at a time per host in each crawl (whatever --crawl-setting says):
                # the host's slots then bound the cluster's requests to it.
                overrides = {**self.crawl_overrides, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
                self._crawls = CrawlService(self.config, self.settings, scrapy_overrides=overrides)
            return self._crawls

    def close(self) -> None:
        """End the crawl process once its crawls are done (the worker takes no more jobs)."""
        with self._crawls_lock:
            crawls, self._crawls = self._crawls, None
        if crawls is not None:
            crawls.close()
