"""What every API parser returns, and the lenient reading of odd JSON that all of them share.

APIs change fields, drop them for deleted items and send `null` where a string was
promised. A parser validates each item on its own with a small pydantic model of the
fields it uses: an item that does not fit is left out with a reason that names the
field, and the rest of the page still counts. Only a body that is not the expected
format at all (an HTML error page, cut-off JSON, an object where a list belongs)
raises `ParseError`, which the spider logs with the source and URL before going on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, TypeAdapter, ValidationError

from crawlers.items import MentionItem
from crawlers.urls import is_web_url


class ParseError(ValueError):
    """The body as a whole is not the format the parser reads; the message says how."""


@dataclass
class Page:
    """One response, read: its mentions and where the next page is.

    `next` is whatever the API pages by (a cursor, a page token, a URL, a page number),
    None on the last page. `skipped` holds one reason per item that could not be read.
    """

    mentions: list[MentionItem]
    next: str | None = None
    skipped: list[str] = field(default_factory=list)


class ApiModel(BaseModel):
    """Base of the per-API item models: unknown fields are ignored, known ones checked."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _as_utc(value: datetime) -> datetime:
    # APIs that send a zone-less time mean UTC (Unix times, "2019-11-26T15:51:44").
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A timestamp in any form pydantic reads (Unix seconds, ISO 8601), as aware UTC.
UtcTime = Annotated[datetime, AfterValidator(_as_utc)]


def _web_address(value: str) -> str:
    if not is_web_url(value):
        raise ValueError(f"not an http(s) URL: {value[:80]!r}")
    return value


# A link the API gives for an item; it becomes the mention's URL, so it must be one.
WebUrl = Annotated[str, AfterValidator(_web_address)]

_UTC_TIME: TypeAdapter[datetime] = TypeAdapter(UtcTime)

Model = TypeVar("Model", bound=BaseModel)


def utc_or_none(value: Any) -> datetime | None:
    """`value` read as a UtcTime, None when it is missing or no time at all.

    For times written by clients rather than servers, which may hold anything.
    """
    try:
        return _UTC_TIME.validate_python(value)
    except ValidationError:
        return None


def describe(error: ValidationError) -> str:
    """The first problem of a validation error as 'field.path: message'."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"{location}: {first['msg']}" if location else first["msg"]


def load_json(body: bytes | str) -> Any:
    """The decoded JSON of a response body, or ParseError saying why it is not JSON."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        start = body[:60] if isinstance(body, str) else body[:60].decode("utf-8", "replace")
        raise ParseError(f"not JSON ({exc}); the body starts {start!r}") from exc


def validate(model: type[Model], data: Any, what: str) -> Model:
    """`data` read as `model`, or ParseError naming `what` was expected and the field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ParseError(f"not {what}: {describe(exc)}") from exc


def read_each(
    entries: Iterable[Any],
    model: type[Model],
    build: Callable[[Model], Iterable[MentionItem]],
) -> tuple[list[MentionItem], list[str]]:
    """Validate and build each entry on its own; returns the mentions and the skip reasons.

    `build` yields nothing for an entry that is well-formed but no mention (a deleted
    comment, a repost): that is not a problem worth reporting.
    """
    mentions: list[MentionItem] = []
    skipped: list[str] = []
    for index, entry in enumerate(entries):
        try:
            mentions.extend(build(model.model_validate(entry)))
        except ValidationError as exc:
            skipped.append(f"item {index}: {describe(exc)}")
    return mentions, skipped
