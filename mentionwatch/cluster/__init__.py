"""Several `mentionwatch worker` processes sharing the work through PostgreSQL.

The task engine is procrastinate: jobs are rows in the store's own PostgreSQL database,
taken with `FOR UPDATE SKIP LOCKED` and announced with LISTEN/NOTIFY, so there is no
broker to run. Periodic dispatchers (deduplicated across workers by the engine) turn
the config into jobs: one crawl per due source, scoring batches, one alert sender per
channel, the weekly digests. `mentionwatch run` stays the one-process way (SQLite too).
"""
