"""Building a brand's weekly digest from the store, and writing it out as a preview."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.digest.charts import draw_charts
from alerts.digest.errors import DigestError
from alerts.digest.i18n import Formats
from alerts.digest.metrics import week_report
from alerts.digest.render import RenderedDigest, render_digest
from alerts.digest.weeks import IsoWeek
from mentionwatch.config import Brand
from store.db import session_scope
from store.queries import get_brand


def brand_id(session: Session, brand: Brand) -> int:
    """The store's id of a configured brand; the config must have been synced first."""
    row = get_brand(session, name=brand.name)
    if row is None or row.id is None:
        raise DigestError(
            f"brand {brand.name!r} is not in the store yet: run any mentionwatch command with this config "
            "(e.g. `mentionwatch crawl`) to add it"
        )
    return row.id


def build_digest(engine: Engine, brand: Brand, week: IsoWeek, *, now: datetime | None = None) -> RenderedDigest:
    """The brand's digest for `week` in its language and time zone: subject, HTML, text, charts.

    Reads the store in one short transaction and sends nothing, so previews and tests
    can call it freely.
    """
    with session_scope(engine) as session:
        report = week_report(session, brand_id=brand_id(session, brand), week=week, tz=brand.tz)
    formats = Formats(brand.digest_language, brand.tz)
    return render_digest(report, draw_charts(report, formats), brand=brand.name, formats=formats, now=now)


def write_preview(digest: RenderedDigest, path: Path) -> list[Path]:
    """Write the HTML to `path` and each chart as a PNG beside it; returns every file written.

    The images are referenced by relative file name, so the preview opens in a browser
    as the recipients would see the email.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    images = {chart.name: path.with_name(f"{path.stem}-{chart.name}.png") for chart in digest.charts}
    for chart in digest.charts:
        images[chart.name].write_bytes(chart.png)
    path.write_text(digest.html_with_sources({name: file.name for name, file in images.items()}), encoding="utf-8")
    return [path, *images.values()]
