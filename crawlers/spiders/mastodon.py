"""`mastodon`: public statuses from one Mastodon server (`base_url`, required).

- a `search` term starting with `#` reads that tag's public timeline,
  `/api/v1/timelines/tag/<tag>`; any other term uses `/api/v2/search?type=statuses`,
  which most servers answer only for a logged-in account: set `options.token_env` to
  the name of an environment variable holding an access token (scope `read:search`);
- pages go back in time by `max_id` (the timeline's `Link: rel="next"`), to the first
  status seen before. Servers allow 300 requests per 5 minutes per account or IP.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from scrapy.http import Response

from crawlers.parsers import mastodon
from crawlers.parsers.common import Page
from crawlers.spiders.newest_first import NewestFirstSpider

PAGE_SIZE = 40


class MastodonSpider(NewestFirstSpider):
    source_type = "mastodon"
    # Refusals come with {"error": "..."} (no token, a token without the scope).
    explained_statuses = (401, 403, 422)
    next_parameter = "max_id"

    def search_url(self, term: str) -> str:
        if term.startswith("#"):
            return self.api_url(f"/api/v1/timelines/tag/{quote(term[1:], safe='')}?limit={PAGE_SIZE}")
        return self.api_url(f"/api/v2/search?{urlencode({'q': term, 'type': 'statuses', 'limit': PAGE_SIZE})}")

    def read(self, response: Response) -> Page:
        link = response.headers.get("Link")
        return mastodon.parse_statuses(response.body, link.decode("latin-1") if link else None)
