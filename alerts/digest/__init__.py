"""The weekly reputation digest: metrics, charts, templates and the once-a-week email.

- `build_digest(engine, brand, week)` renders a brand's digest (nothing is sent);
- `write_preview(digest, path)` writes it as an HTML file with the PNG charts beside it;
- `send_digest(engine, settings, brand, week, force=False)` mails it once per brand and week;
- `send_weekly_digests(engine, settings, brands)` is the scheduler's job: every brand's last
  complete week, from Monday 07:00 in the brand's time zone on.

The numbers come from `alerts.digest.metrics`, pure functions of the store.
"""

from alerts.digest.build import build_digest, write_preview
from alerts.digest.errors import DigestError
from alerts.digest.render import RenderedDigest
from alerts.digest.send import DigestResult, send_digest, send_weekly_digests
from alerts.digest.weeks import IsoWeek

__all__ = [
    "DigestError",
    "DigestResult",
    "IsoWeek",
    "RenderedDigest",
    "build_digest",
    "send_digest",
    "send_weekly_digests",
    "write_preview",
]
