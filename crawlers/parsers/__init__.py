"""Pure parsers of the social and app-store APIs: a response body in, mentions and paging out.

One module per source type (reddit, hackernews, mastodon, bluesky, stackexchange,
googleplay, youtube). They know nothing of Scrapy's scheduling or the store, so each
format is tested on recorded bodies alone, and the spiders in `crawlers.spiders` stay a
few lines of request building on top of them.
"""
