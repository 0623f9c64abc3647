"""Turns a WeekReport into the digest's subject, HTML part and plain-text part.

The templates only lay out strings: every number is formatted here, for the reader's
language, so the HTML and text parts cannot disagree. The HTML refers to each chart as
`cid:<content id>`; the mail attaches the PNGs under those ids, the preview swaps in
file names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts.digest.charts import Chart
from alerts.digest.i18n import Formats
from alerts.digest.metrics import Headline, MentionLink, SentimentCounts, WeekReport
from alerts.digest.weeks import IsoWeek

SNIPPET_CHARS = 220
TABLE_ROWS = 8
TONE_COLORS = {"good": "#237a4b", "bad": "#c0392b", "flat": "#6b7785"}

_environment = Environment(
    loader=PackageLoader("alerts.digest", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

# A headline value: a count, a share or score, or a duration; None where undefined.
Value = float | timedelta | None


@dataclass(frozen=True)
class _Style:
    """How a kind of value is written, and how its week-on-week change is written."""

    show: Callable[[Formats, Any], str]
    change: Callable[[Formats, Any], str]


def _signed_duration(formats: Formats, change: timedelta) -> str:
    return ("−" if change < timedelta(0) else "+") + formats.duration(abs(change))


_STYLES = {
    "count": _Style(lambda f, v: f.integer(v), lambda f, d: f.decimal(d, 0, signed=True)),
    "share": _Style(lambda f, v: f.percent(v), lambda f, d: f.text("points", value=f.decimal(d * 100, 0, signed=True))),
    "ratio": _Style(lambda f, v: f.decimal(v, 2, signed=True), lambda f, d: f.decimal(d, 2, signed=True)),
    "stars": _Style(lambda f, v: f"{f.decimal(v, 1)} ★", lambda f, d: f.decimal(d, 1, signed=True)),
    "score": _Style(lambda f, v: f.decimal(v, 0, signed=True), lambda f, d: f.decimal(d, 0, signed=True)),
    "duration": _Style(lambda f, v: f.duration(v), _signed_duration),
}


@dataclass(frozen=True)
class _Measure:
    """One headline number: where it is read from, how it is written, which way is good."""

    key: str
    read: Callable[[Headline], Value]
    style: str
    # +1: a rise is good news, -1: a rise is bad news, 0: neither.
    better: int
    # The message key that explains a missing value.
    missing: Callable[[Headline], str]


def _no_mentions(_: Headline) -> str:
    return "chart_no_mentions"


def _no_ratings(_: Headline) -> str:
    return "no_ratings"


def _no_negatives(_: Headline) -> str:
    return "no_negatives"


def _no_answers(headline: Headline) -> str:
    return "no_answers" if headline.responses.negatives else "no_negatives"


_MEASURES = (
    _Measure("mentions", lambda h: h.sentiment.total, "count", 0, _no_mentions),
    _Measure("negative_share", lambda h: h.sentiment.negative_share, "share", -1, _no_mentions),
    _Measure("net_sentiment", lambda h: h.sentiment.net_sentiment, "ratio", 1, _no_mentions),
    _Measure("average_rating", lambda h: h.ratings.average, "stars", 1, _no_ratings),
    _Measure("csat", lambda h: h.ratings.csat, "share", 1, _no_ratings),
    _Measure("nps", lambda h: h.ratings.nps, "score", 1, _no_ratings),
    _Measure("response_rate", lambda h: h.responses.response_rate, "share", 1, _no_answers),
    _Measure("median_response", lambda h: h.responses.median_response, "duration", -1, _no_answers),
    _Measure("unhandled", lambda h: h.responses.unhandled, "count", -1, _no_negatives),
)
_RATING_MEASURES = frozenset({"average_rating", "csat", "nps"})


@dataclass(frozen=True)
class Kpi:
    """One headline number as the reader sees it."""

    key: str
    label: str
    value: str
    change: str
    tone: str
    color: str
    previous: str
    note: str


def _kpi(measure: _Measure, report: WeekReport, formats: Formats) -> Kpi:
    style = _STYLES[measure.style]
    now, before = measure.read(report.current), measure.read(report.previous)
    note = ""
    if measure.key in _RATING_MEASURES and report.current.ratings.count:
        note = formats.text("rated", count=formats.integer(report.current.ratings.count))
    if now is None:
        value, note = formats.text("not_available"), formats.text(measure.missing(report.current))
    else:
        value = style.show(formats, now)
    previous_value = None if before is None else style.show(formats, before)
    change, tone = "", "flat"
    if now is not None and previous_value is not None:
        if value == previous_value:
            # Equal as written: a change hidden by rounding is no news to the reader.
            change = "="
        else:
            delta = now - before  # type: ignore[operator]
            rising = delta > timedelta(0) if isinstance(delta, timedelta) else delta > 0
            change = ("▲ " if rising else "▼ ") + style.change(formats, delta)
            tone = "flat" if measure.better == 0 else "good" if rising == (measure.better > 0) else "bad"
    if previous_value is not None:
        previous = formats.text("previous", value=previous_value)
    else:
        # With nothing this week either, the note above already says why.
        previous = "" if now is None else formats.text("no_previous")
    return Kpi(measure.key, formats.text(measure.key), value, change, tone, TONE_COLORS[tone], previous, note)


@dataclass(frozen=True)
class ListedMention:
    when: str
    source: str
    heading: str
    snippet: str
    url: str
    stars: str
    author: str


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary where there is one, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def _listed(link: MentionLink, formats: Formats) -> ListedMention:
    text = re.sub(r"\s+", " ", link.text).strip()
    snippet = _shorten(text, SNIPPET_CHARS)
    heading = (link.title or "").strip()
    return ListedMention(
        when=formats.when(link.happened_at),
        source=link.source,
        heading=heading,
        snippet=snippet,
        # Only web links: a crawled page could carry a javascript: or data: URL.
        url=link.url if link.url.lower().startswith(("https://", "http://")) else "",
        stars=f"{formats.decimal(link.stars, 1)} ★" if link.stars is not None else "",
        author=link.author or "",
    )


@dataclass(frozen=True)
class TableRow:
    name: str
    mentions: str
    share: str
    net: str


def _source_rows(sources: list[tuple[str, SentimentCounts]], formats: Formats) -> list[TableRow]:
    rows = []
    for name, counts in sources[:TABLE_ROWS]:
        negative = counts.negative_share
        net = counts.net_sentiment
        rows.append(
            TableRow(
                name,
                formats.integer(counts.total),
                formats.percent(negative) if negative is not None else formats.text("not_available"),
                formats.decimal(net, 2, signed=True) if net is not None else formats.text("not_available"),
            )
        )
    return rows


def _language_rows(report: WeekReport, formats: Formats) -> list[TableRow]:
    total = report.current.sentiment.total
    return [
        TableRow(formats.language_name(code), formats.integer(count), formats.percent(count / total), "")
        for code, count in report.languages[:TABLE_ROWS]
    ]


@dataclass(frozen=True)
class RenderedDigest:
    """A digest ready to send or preview: the parts of the email and the numbers behind it."""

    brand: str
    week: IsoWeek
    language: str
    subject: str
    html: str
    text: str
    charts: list[Chart]
    report: WeekReport

    def content_id(self, chart: Chart) -> str:
        """The chart's Content-ID (without angle brackets), as the HTML's `cid:` refers to it."""
        return content_id(chart, self.week)

    def html_with_sources(self, sources: Mapping[str, str]) -> str:
        """The HTML with each chart's `cid:` replaced by sources[chart.name] (a file name, a URL)."""
        html = self.html
        for chart in self.charts:
            html = html.replace(f'src="cid:{self.content_id(chart)}"', f'src="{sources[chart.name]}"')
        return html


def content_id(chart: Chart, week: IsoWeek) -> str:
    return f"{chart.name}.{week}@digest.mentionwatch"


def render_digest(
    report: WeekReport, charts: list[Chart], *, brand: str, formats: Formats, now: datetime | None = None
) -> RenderedDigest:
    week = report.week
    dates = formats.date_range(week.days[0], week.days[-1])
    t = formats.messages
    subject = formats.text("subject", brand=brand, week=week.week, dates=dates)
    unhandled_total = report.current.responses.unhandled
    positive_total = report.current.sentiment.positive
    context = {
        "t": t,
        "language": formats.language,
        "subject": subject,
        "brand": brand,
        "week_line": formats.text("week", week=week.week, dates=dates),
        "kpis": [_kpi(measure, report, formats) for measure in _MEASURES],
        "charts": [{"chart": chart, "src": f"cid:{content_id(chart, week)}"} for chart in charts],
        "daily": [(formats.day(day), formats.integer(c.total)) for day, c in zip(week.days, report.days, strict=True)],
        "unhandled": [_listed(link, formats) for link in report.unhandled],
        "unhandled_none": t["unhandled_none"] if report.current.responses.negatives else t["no_negatives"],
        "unhandled_more": formats.text("more", count=formats.integer(unhandled_total - len(report.unhandled)))
        if unhandled_total > len(report.unhandled)
        else "",
        "positives": [_listed(link, formats) for link in report.top_positive],
        "positives_more": formats.text("more", count=formats.integer(positive_total - len(report.top_positive)))
        if positive_total > len(report.top_positive)
        else "",
        "sources": _source_rows(report.sources, formats),
        "languages": _language_rows(report, formats),
        "about": [
            formats.text("about_period", week=week.week, timezone=report.timezone),
            t["about_sentiment"],
            t["about_ratings"],
            t["about_nps"],
            t["about_response"],
        ],
        "generated": formats.text("generated", date=formats.when(now or datetime.now(UTC))),
    }
    return RenderedDigest(
        brand=brand,
        week=week,
        language=formats.language,
        subject=subject,
        html=_environment.get_template("digest.html.j2").render(context),
        text=_environment.get_template("digest.txt.j2").render(context),
        charts=charts,
        report=report,
    )
