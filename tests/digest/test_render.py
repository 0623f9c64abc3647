"""The rendered digest: its words in each language, and a week with nothing in it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from sqlalchemy.engine import Engine

from alerts.digest import IsoWeek, RenderedDigest, build_digest
from alerts.digest.i18n import LANGUAGES, catalogue
from store.db import session_scope
from store.queries import save_mention, save_score
from tests.digest.known_week import BRAND, local

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


WEEK = IsoWeek(2026, 47)


def build(engine: Engine, language: str = "en", week: IsoWeek = WEEK) -> RenderedDigest:
    return build_digest(engine, BRAND.model_copy(update={"digest_language": language}), week, now=NOW)


class _Text(HTMLParser):
    """The HTML's visible text, one string, to search like a reader would."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def test_every_language_has_every_message() -> None:
    english = set(catalogue("en"))
    for language in LANGUAGES:
        assert set(catalogue(language)) == english, language
        assert all(text.strip() for text in catalogue(language).values())


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "pl",
            [
                "Tygodniowy raport o reputacji",
                "Tydzień 47",
                "Udział negatywnych",
                "Sentyment netto",
                "Średnia ocena",
                "3,7 ★",
                "71%",
                "2 godziny",
                "Negatywne wzmianki czekające na odpowiedź",
                "poprzedni tydzień: 50%",
                "wyliczamy z ocen",
                "rosyjski",
                "lis 2026",
            ],
        ),
        (
            "ru",
            [
                "Еженедельный отчёт о репутации",
                "Неделя 47",
                "Доля негативных",
                "Чистая тональность",
                "Средняя оценка",
                "3,7 ★",
                "2 часа",
                "Негативные упоминания, ожидающие ответа",
                "прошлая неделя: 50",
                "вычисляется по оценкам",
                "польский",
                "нояб. 2026",
            ],
        ),
    ],
)
def test_polish_and_russian_digests_use_their_words(filled_sqlite: Engine, language: str, words: list[str]) -> None:
    digest = build(filled_sqlite, language)
    shown = visible_text(digest.html)
    # The text part writes headings in capitals and wraps long lines.
    text = re.sub(r"\s+", " ", digest.text).lower()
    for word in words:
        assert word in shown, word
        assert word.lower() in text, word
    assert "Weekly reputation digest" not in shown and "Negative share" not in digest.text
    assert digest.subject.startswith("Acme: ")
    assert f'<html lang="{language}">' in digest.html


def test_chart_titles_are_translated(filled_sqlite: Engine) -> None:
    digest = build(filled_sqlite, "pl")
    assert [chart.title for chart in digest.charts] == [
        "Wzmianki dziennie",
        "Sentyment według źródła",
        "Oceny (gwiazdki)",
        "Sentyment netto, ostatnie 8 tygodni",
    ]


def test_changes_against_last_week_point_the_right_way(filled_sqlite: Engine) -> None:
    text = build(filled_sqlite).text
    # Up in mentions (neither good nor bad), CSAT up 21 points, answered share down 50 points,
    # median answer time down from 10 hours to 2.
    assert "Mentions: 13 (▲ +11); previous week: 2" in text
    assert "CSAT: 71% (▲ +21 pp); previous week: 50%" in text
    assert "Negatives answered: 50% (▼ −50 pp); previous week: 100%" in text
    assert "Median time to answer: 2 hours (▼ −8 hours); previous week: 10 hours" in text
    assert "Negative share: 50% (=); previous week: 50%" in text
    html = build(filled_sqlite).html
    # Colours: a fall in answer time is good news (green), a fall in answered share bad (red).
    assert re.search(r'color:#237a4b;[^"]*">▼ −8 hours', html)
    assert re.search(r'color:#c0392b;[^"]*">▼ −50 pp', html)


def test_an_empty_week_still_makes_a_sensible_digest(filled_sqlite: Engine) -> None:
    digest = build(filled_sqlite, week=IsoWeek(2025, 1))
    shown = visible_text(digest.html)
    assert "No ratings this week" in shown
    assert "No negative mentions" in shown and "every negative mention" not in shown
    assert "No positive mentions this week." in shown
    assert "Mentions: 0 (=); previous week: 0" in digest.text
    assert "Average rating: n/a; No ratings this week\n" in digest.text
    assert len(digest.charts) == 4 and all(chart.png.startswith(b"\x89PNG") for chart in digest.charts)


def test_html_has_no_external_resources_or_scripts(filled_sqlite: Engine) -> None:
    html = build(filled_sqlite).html
    assert "<script" not in html and "<link" not in html and "<style" not in html
    assert all(src.startswith("cid:") for src in re.findall(r'src="([^"]+)"', html))


def test_crawled_text_and_links_cannot_inject_markup(filled_sqlite: Engine) -> None:
    with session_scope(filled_sqlite) as session:
        _, mention = save_mention(
            session,
            source_id=3,
            brand_id=1,
            dedup_key="evil",
            content_hash="evil",
            fields={
                "url": "javascript:alert(1)",
                "canonical_url": "javascript:alert(1)",
                "title": "<b>Acme</b>",
                "text": '<img src=x onerror="alert(1)"> Acme scammed me',
                "published_at": local(16, 1),
            },
        )
        save_score(
            session, mention=mention, label="negative", score=0.9, probabilities={}, model_name="t", model_version="1"
        )
    digest = build(filled_sqlite)
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; Acme scammed me" in digest.html
    assert "<img src=x" not in digest.html and "<b>Acme</b>" not in digest.html
    assert "javascript:" not in digest.html and "javascript:" not in digest.text
    assert '<img src=x onerror="alert(1)"> Acme scammed me' in digest.text  # plain text shows it as it is
