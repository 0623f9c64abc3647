"""The Stack Exchange API 2.3: question search (`/2.3/search/advanced?filter=withbody`).

Every reply is the common wrapper: `items`, `has_more`, `quota_remaining` (requests
left today for this IP or key) and, when the API is under load, `backoff`: seconds to
wait before calling the same method again, which the spider must honour. An error
comes in the same wrapper as `error_id`/`error_name`/`error_message`. Titles and
bodies are HTML; times are Unix seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import Field

from crawlers.items import MentionItem
from crawlers.parsers.common import (
    ApiModel,
    Page,
    ParseError,
    UtcTime,
    WebUrl,
    load_json,
    read_each,
    validate,
)


class Owner(ApiModel):
    display_name: str | None = None


class Question(ApiModel):
    question_id: int
    link: WebUrl
    title: str
    creation_date: UtcTime
    body: str = ""
    owner: Owner | None = None


class Wrapper(ApiModel):
    items: list[object] = Field(default_factory=list)
    has_more: bool = False
    quota_remaining: int | None = None
    backoff: int | None = None
    error_id: int | None = None
    error_name: str | None = None
    error_message: str | None = None


@dataclass
class WrapperPage(Page):
    """A page plus what the wrapper says about the quota and the pace."""

    quota_remaining: int | None = None
    backoff: int | None = None


def question_mentions(question: Question) -> Iterator[MentionItem]:
    yield MentionItem(
        url=question.link,
        body=question.body or question.title,
        body_format="html",
        external_id=f"q{question.question_id}",
        title=question.title,
        author=question.owner.display_name if question.owner else None,
        published=question.creation_date,
    )


def parse_search(body: bytes | str, *, page: int = 1) -> WrapperPage:
    """One page of questions; `next` is the next page number while `has_more`.

    An error reply raises ParseError with the API's own name and message for it.
    """
    wrapper = validate(Wrapper, load_json(body), "a Stack Exchange API reply")
    if wrapper.error_id is not None:
        raise ParseError(f"Stack Exchange error {wrapper.error_id} {wrapper.error_name}: {wrapper.error_message}")
    mentions, skipped = read_each(wrapper.items, Question, question_mentions)
    return WrapperPage(
        mentions,
        next=str(page + 1) if wrapper.has_more else None,
        skipped=skipped,
        quota_remaining=wrapper.quota_remaining,
        backoff=wrapper.backoff,
    )
